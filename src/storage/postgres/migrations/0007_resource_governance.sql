-- Resource governance (DESIGN.md §10): each claim's attempt and how it ended,
-- spend reported against attempts (append-only; money in whole micro-dollars),
-- budget caps and totals on work orders, and a project's default caps and prices.
-- The JSON columns are text holding JSON, as on SQLite: only the core reads them.
CREATE TABLE attempts (
  project text NOT NULL,
  wo integer NOT NULL,
  token integer NOT NULL,
  agent text NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at timestamptz,
  outcome text CHECK (outcome IN ('done', 'blocked', 'released', 'expired', 'lost')),
  -- No foreign key to work_orders: every claim writes one, and the core writes it in the
  -- transaction that claims the WO (a foreign key check per claim cost more than the row).
  PRIMARY KEY (project, wo, token)
);
-- No index by start time: windows (reports, attempts --since) scan the project's attempts, rarely.
CREATE TABLE spend (
  id bigserial PRIMARY KEY,
  project text NOT NULL,
  wo integer NOT NULL,
  token integer NOT NULL,
  agent text NOT NULL,
  phase text NOT NULL,
  model text,
  tokens_in bigint NOT NULL CHECK (tokens_in >= 0),
  tokens_out bigint NOT NULL CHECK (tokens_out >= 0),
  cache_read_tokens bigint NOT NULL CHECK (cache_read_tokens >= 0),
  cache_write_tokens bigint NOT NULL CHECK (cache_write_tokens >= 0),
  cost_micros bigint CHECK (cost_micros >= 0),
  source text,
  created_at timestamptz NOT NULL,
  FOREIGN KEY (project, wo, token) REFERENCES attempts (project, wo, token)
);
CREATE INDEX spend_by_wo ON spend (project, wo, token);
CREATE INDEX spend_by_time ON spend (project, created_at);
ALTER TABLE work_orders ADD COLUMN max_usd double precision CHECK (max_usd > 0);
ALTER TABLE work_orders ADD COLUMN max_tokens bigint CHECK (max_tokens > 0);
ALTER TABLE work_orders ADD COLUMN max_attempts integer CHECK (max_attempts > 0);
ALTER TABLE work_orders ADD COLUMN spend text NOT NULL DEFAULT '{"usd":0,"tokens_in":0,"tokens_out":0,"unpriced":0}';
ALTER TABLE work_orders ADD COLUMN dead_letter text;
ALTER TABLE projects ADD COLUMN max_usd double precision CHECK (max_usd > 0);
ALTER TABLE projects ADD COLUMN max_tokens bigint CHECK (max_tokens > 0);
ALTER TABLE projects ADD COLUMN max_attempts integer CHECK (max_attempts > 0);
ALTER TABLE projects ADD COLUMN prices text;
