-- compatible: indexes only; older code reads and writes the table as before.
-- The newest context entry of a key, project-wide or linked to a WO, in a
-- seek each (issue 29, large ledgers): `get` and `context-pull` read every
-- entry of the key for it (100,000 handovers at 10^6 work orders).
CREATE INDEX context_latest_project ON context (project, key, id) WHERE wo IS NULL;
CREATE INDEX context_latest_linked ON context (project, key, id) WHERE wo IS NOT NULL;
