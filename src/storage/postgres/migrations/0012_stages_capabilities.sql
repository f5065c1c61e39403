-- Stages and capabilities (issue 25): the stage a WO is in (null: its project
-- has no stages), the capabilities an agent needs to claim it, a project's
-- stages and the rules of its pipeline as JSON text, and the capabilities an
-- admin gave a token (null: whatever its holder declares).
ALTER TABLE work_orders ADD COLUMN stage text COLLATE "C";
ALTER TABLE work_orders ADD COLUMN requires text[] NOT NULL DEFAULT '{}';
ALTER TABLE projects ADD COLUMN work_rules text;
ALTER TABLE tokens ADD COLUMN can text[];
-- claim --next --stage: the open queue of one stage in claim order.
CREATE INDEX work_orders_stage_queue ON work_orders (project, stage, priority, id) WHERE status = 'open';
-- An attempt that handed its WO on to another stage ends `handed_on` (not a
-- give-up `released`), so reports can tell a pipeline's steps from retries.
ALTER TABLE attempts DROP CONSTRAINT attempts_outcome_check;
ALTER TABLE attempts ADD CONSTRAINT attempts_outcome_check CHECK (outcome IN ('done', 'blocked', 'released', 'expired', 'lost', 'handed_on'));
