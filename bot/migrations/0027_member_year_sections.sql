-- PostgreSQL's 0027 plans a member's reactions of a year per section with a setting of its own.
-- SQLite reads them in parts at once (bot/stats/year.py).
SELECT 1;
