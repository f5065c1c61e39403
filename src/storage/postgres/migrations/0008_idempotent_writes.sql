-- Every write may carry an idempotency key (issue 17): its first result is kept,
-- per project, agent and key, and a retry with the same key and input gets it back.
-- Records past their window are deleted a few at a time by later writes (by time).
CREATE TABLE idempotent_writes (
  project text NOT NULL,
  agent text NOT NULL,
  key text NOT NULL,
  operation text NOT NULL,
  request_hash text NOT NULL,
  result text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (project, agent, key)
);
CREATE INDEX idempotent_writes_by_time ON idempotent_writes (created_at);
