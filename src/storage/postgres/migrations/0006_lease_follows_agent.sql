-- The lease follows the agent (DESIGN.md §9): a cap on how long renewals keep
-- one lease, how recent holders' leases ended (the fence by name), the newest
-- verification result, the project settings for both, and context by WO. The two JSON
-- columns are text holding JSON, as on SQLite: only the core reads them.
ALTER TABLE work_orders ADD COLUMN lease_hold_until timestamptz;
ALTER TABLE work_orders ADD COLUMN ended_leases text NOT NULL DEFAULT '[]';
ALTER TABLE work_orders ADD COLUMN last_verification text;
ALTER TABLE projects ADD COLUMN require_verification boolean NOT NULL DEFAULT false;
ALTER TABLE projects ADD COLUMN max_hold_ms bigint CHECK (max_hold_ms > 0);
CREATE INDEX context_by_wo ON context (project, wo, id) WHERE wo IS NOT NULL;
