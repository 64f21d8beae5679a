-- As PostgreSQL's 0036: not here. SQLite keeps a reaction once, in its key's B-tree, its values
-- stored in as few bytes as they need.
SELECT 1;
