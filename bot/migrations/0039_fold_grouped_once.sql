-- As PostgreSQL's 0039: not here. SQLite's fold groups its notes once already, into tables of
-- the writer's own (bot/reactions/store.py).
SELECT 1;
