-- list --status in id order within a project: one range per status, read in id
-- order, so listing the few open WOs of a mostly finished project stays cheap.
CREATE INDEX work_orders_by_status ON work_orders (project, status, id);
