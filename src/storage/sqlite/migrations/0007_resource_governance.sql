-- Resource governance (DESIGN.md §10): each claim's attempt and how it ended,
-- spend reported against attempts (append-only; money in whole micro-dollars),
-- budget caps and totals on work orders, and a project's default caps and prices.
CREATE TABLE attempts (
  project TEXT NOT NULL,
  wo INTEGER NOT NULL,
  token INTEGER NOT NULL,
  agent TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  outcome TEXT CHECK (outcome IN ('done', 'blocked', 'released', 'expired', 'lost')),
  -- No foreign key to work_orders: every claim writes one, and the core writes it in the
  -- transaction that claims the WO (a foreign key check per claim cost more than the row).
  PRIMARY KEY (project, wo, token)
) WITHOUT ROWID;
-- No index by start time either: windows (reports, attempts --since) scan the project's attempts,
-- rarely; each claim writing one B-tree instead of three is what the write lock feels.
CREATE TABLE spend (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project TEXT NOT NULL,
  wo INTEGER NOT NULL,
  token INTEGER NOT NULL,
  agent TEXT NOT NULL,
  phase TEXT NOT NULL,
  model TEXT,
  tokens_in INTEGER NOT NULL CHECK (tokens_in >= 0),
  tokens_out INTEGER NOT NULL CHECK (tokens_out >= 0),
  cache_read_tokens INTEGER NOT NULL CHECK (cache_read_tokens >= 0),
  cache_write_tokens INTEGER NOT NULL CHECK (cache_write_tokens >= 0),
  cost_micros INTEGER CHECK (cost_micros >= 0),
  source TEXT,
  created_at TEXT NOT NULL,
  FOREIGN KEY (project, wo, token) REFERENCES attempts (project, wo, token)
);
CREATE INDEX spend_by_wo ON spend (project, wo, token);
CREATE INDEX spend_by_time ON spend (project, created_at);
ALTER TABLE work_orders ADD COLUMN max_usd REAL CHECK (max_usd > 0);
ALTER TABLE work_orders ADD COLUMN max_tokens INTEGER CHECK (max_tokens > 0);
ALTER TABLE work_orders ADD COLUMN max_attempts INTEGER CHECK (max_attempts > 0);
ALTER TABLE work_orders ADD COLUMN spend TEXT NOT NULL DEFAULT '{"usd":0,"tokens_in":0,"tokens_out":0,"unpriced":0}';
ALTER TABLE work_orders ADD COLUMN dead_letter TEXT;
ALTER TABLE projects ADD COLUMN max_usd REAL CHECK (max_usd > 0);
ALTER TABLE projects ADD COLUMN max_tokens INTEGER CHECK (max_tokens > 0);
ALTER TABLE projects ADD COLUMN max_attempts INTEGER CHECK (max_attempts > 0);
ALTER TABLE projects ADD COLUMN prices TEXT;
