-- As PostgreSQL's 0040: not here. SQLite's writer folds its notes on its one connection.
SELECT 1;
