-- As SQLite's 0033: not here. PostgreSQL counts the period's quotes per saver by hashing them,
-- read by time (quotes_saved), without the sort that SQLite's index spares it.
SELECT 1;
