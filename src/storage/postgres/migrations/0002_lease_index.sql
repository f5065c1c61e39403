-- Live leases per project (file-conflict checks) without reading the project's queue.
CREATE INDEX work_orders_project_leases ON work_orders (project, lease_expires_at) WHERE lease_expires_at IS NOT NULL;
