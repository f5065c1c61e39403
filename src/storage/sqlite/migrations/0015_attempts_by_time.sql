-- compatible: an index only; older code reads and writes the table as before.
-- Attempts by start time (issue 29, large ledgers): a report's or the lease
-- timeline's window read the project's every attempt without it (a second
-- and a half at 10^6 work orders), for one B-tree more per claim.
CREATE INDEX attempts_by_time ON attempts (project, started_at);
