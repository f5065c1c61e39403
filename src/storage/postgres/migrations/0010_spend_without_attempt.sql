-- Spend recorded against a WO outside any attempt (token 0: a planner or a
-- reviewer that never claimed it, issue 23) has no attempt row to reference.
ALTER TABLE spend DROP CONSTRAINT IF EXISTS spend_project_wo_token_fkey;
