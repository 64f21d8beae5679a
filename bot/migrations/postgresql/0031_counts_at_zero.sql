-- As SQLite's 0031: not here. PostgreSQL updates its counts in place (no index holds a count,
-- migration 0023), which an index whose condition reads the count would prevent; its fold
-- deletes the rows it brought to zero by their keys.
SELECT 1;
