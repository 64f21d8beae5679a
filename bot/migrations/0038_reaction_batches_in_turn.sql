-- As PostgreSQL's 0038: not here. SQLite's batches go to one writer thread, one after another;
-- a batch is never sent while another is being written (bot/reactions/store.py).
SELECT 1;
