-- Stages and capabilities (issue 25): the stage a WO is in (null: its project
-- has no stages), the capabilities an agent needs to claim it, a project's
-- stages and the rules of its pipeline as JSON text, and the capabilities an
-- admin gave a token (null: whatever its holder declares).
ALTER TABLE work_orders ADD COLUMN stage TEXT;
ALTER TABLE work_orders ADD COLUMN requires TEXT NOT NULL DEFAULT '[]';
ALTER TABLE projects ADD COLUMN work_rules TEXT;
ALTER TABLE tokens ADD COLUMN can TEXT;
-- claim --next --stage: the open queue of one stage in claim order.
CREATE INDEX work_orders_stage_queue ON work_orders (project, stage, priority, id) WHERE status = 'open';
-- An attempt that handed its WO on to another stage ends `handed_on` (not a
-- give-up `released`), so reports can tell a pipeline's steps from retries.
-- SQLite changes a CHECK by rebuilding the table (nothing references it since 0010).
CREATE TABLE attempts_new (
  project TEXT NOT NULL,
  wo INTEGER NOT NULL,
  token INTEGER NOT NULL,
  agent TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  outcome TEXT CHECK (outcome IN ('done', 'blocked', 'released', 'expired', 'lost', 'handed_on')),
  PRIMARY KEY (project, wo, token)
) WITHOUT ROWID;
INSERT INTO attempts_new (project, wo, token, agent, started_at, ended_at, outcome)
  SELECT project, wo, token, agent, started_at, ended_at, outcome FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_new RENAME TO attempts;
