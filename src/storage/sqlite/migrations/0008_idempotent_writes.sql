-- Every write may carry an idempotency key (issue 17): its first result is kept,
-- per project, agent and key, and a retry with the same key and input gets it back.
-- Records past their window are deleted a few at a time by later writes (by time).
CREATE TABLE idempotent_writes (
  project TEXT NOT NULL,
  agent TEXT NOT NULL,
  key TEXT NOT NULL,
  operation TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  result TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (project, agent, key)
) WITHOUT ROWID;
CREATE INDEX idempotent_writes_by_time ON idempotent_writes (created_at);
