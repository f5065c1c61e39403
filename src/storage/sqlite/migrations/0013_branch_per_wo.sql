-- A branch per WO (issue 26): its name, chosen when the WO is created (from
-- its id, its title and the project's prefix) and never changed after, so
-- every agent, hook and CI job that names it agrees. Null for WOs from
-- before: their branch is the prefix-less `wo/<id>` (core/branch.ts).
ALTER TABLE work_orders ADD COLUMN branch TEXT;
