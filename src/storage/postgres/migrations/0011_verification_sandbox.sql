-- Who wrote each WO's verification command (verify names them; a project may
-- trust only some), and a project's rules for running those commands (trusted
-- authors, variables passed, network, sandbox required) as JSON text.
ALTER TABLE work_orders ADD COLUMN verification_by text;
ALTER TABLE projects ADD COLUMN verification_rules text;
