-- The lease follows the agent (DESIGN.md §9): a cap on how long renewals keep
-- one lease, how recent holders' leases ended (the fence by name), the newest
-- verification result, the project settings for both, and context by WO.
ALTER TABLE work_orders ADD COLUMN lease_hold_until TEXT;
ALTER TABLE work_orders ADD COLUMN ended_leases TEXT NOT NULL DEFAULT '[]';
ALTER TABLE work_orders ADD COLUMN last_verification TEXT;
ALTER TABLE projects ADD COLUMN require_verification INTEGER NOT NULL DEFAULT 0 CHECK (require_verification IN (0, 1));
ALTER TABLE projects ADD COLUMN max_hold_ms INTEGER CHECK (max_hold_ms > 0);
CREATE INDEX context_by_wo ON context (project, wo, id) WHERE wo IS NOT NULL;
