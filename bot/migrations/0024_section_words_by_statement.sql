-- PostgreSQL's 0024 gives a statement's new sections their words in one insert. SQLite's FTS5
-- index is kept by its row triggers (0001), each a write to the index in the same file.
SELECT 1;
