-- As PostgreSQL's 0035: not here. SQLite's batches are appended to its log as one row each, and
-- the merge already applies them in key order (bot/reactions/store.py).
SELECT 1;
