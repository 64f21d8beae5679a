-- /stats server counts each member's quotes saved in its period. SQLite groups them by sorting
-- them, read by time (quotes_saved): the benchmark's 100,000 quotes of a year, the last 30 days
-- 5.8 ms, 90 days 14.9, 270 days 55.9, 365 days 80.9. Read in saver order from this index, which
-- holds the time of each, nothing is sorted: 8.8, 10.4, 12.6 and 14.0 ms, whatever the period.
-- The commands use it for periods of SAVERS_IN_ORDER_FROM days or more. Every query that used
-- the old index (a member's quotes, forget-me's) reads its first two columns as before.
DROP INDEX quotes_saver;
CREATE INDEX quotes_saver ON quotes (guild_id, saved_by, saved_at);
