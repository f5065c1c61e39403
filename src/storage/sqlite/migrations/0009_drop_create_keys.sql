-- Keys of create are idempotent_writes' now (per project and agent, 24 h, 0008);
-- the table that held them per project, for ever, is no longer read or written.
DROP TABLE idempotency;
