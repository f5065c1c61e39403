-- Live leases per project (file-conflict checks) without scanning the project's
-- queue: the planner otherwise prefers the (project, status, …) index and reads
-- every row of a large project.
CREATE INDEX work_orders_project_leases ON work_orders (project, lease_expires_at) WHERE lease_expires_at IS NOT NULL;
