-- PostgreSQL's 0023 takes its daily counts' upserts off a reaction batch's commit. SQLite's
-- already are: its triggers run where the log is merged (0021), after the batch's commit.
SELECT 1;
