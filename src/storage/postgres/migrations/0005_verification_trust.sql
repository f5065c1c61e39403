-- Who may write verification commands (a project's policy), and the command
-- as it was when the current lease began (what the holder's verify runs).
ALTER TABLE projects ADD COLUMN verification_authors text NOT NULL DEFAULT 'creator' CHECK (verification_authors IN ('creator', 'admins', 'any'));
ALTER TABLE work_orders ADD COLUMN pinned_verification text;
