-- Spend recorded against a WO outside any attempt (token 0: a planner or a
-- reviewer that never claimed it, issue 23) has no attempt row to reference,
-- so spend loses its foreign key to attempts (SQLite drops one by rebuilding).
CREATE TABLE spend_new (
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
  created_at TEXT NOT NULL
);
INSERT INTO spend_new (id, project, wo, token, agent, phase, model, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost_micros, source, created_at)
  SELECT id, project, wo, token, agent, phase, model, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost_micros, source, created_at FROM spend;
DROP TABLE spend;
ALTER TABLE spend_new RENAME TO spend;
CREATE INDEX spend_by_wo ON spend (project, wo, token);
CREATE INDEX spend_by_time ON spend (project, created_at);
