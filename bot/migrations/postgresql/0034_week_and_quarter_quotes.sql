-- A long period's quotes are ranked from their quarters and weeks (migration 0032), whose rows
-- of quotes were read among every row of the posts showing a section: on the benchmark's counts
-- lengthened to nine months (bench/history.py), the ranking over 270 days read 75,000 rows of
-- quotes out of some 200,000 (the quarters by a scan of their table). These hold the quotes'
-- rows alone, with their counts, read without the table (16 ms to read the rows, against 71).
-- The ranking, four pairs of processes alternating: 79.0, 74.9, 73.6 and 84.2 ms p50 without
-- them, 45.4, 71.9, 45.9 and 49.7 with.
-- The count is in them: every change of a weekly or quarterly count, a section's too, now
-- writes index entries where it was an update in place (PostgreSQL updates in place only when no
-- index reads a changed column, whatever the index's condition). A week's rows are written when
-- it is sealed, and changed after that only by a reaction added or taken back on an older post;
-- a quarter's with its weeks. Three streams of the benchmark a process (their removals reach
-- into the sealed weeks), alternating: 0.695, 0.656, 0.695 and 0.538, 0.558, 0.571 without
-- them; 0.624, 0.741, 0.938 and 0.628, 0.671, 0.637 with; the fold after a burst 440-836 ms
-- without, 407-439 with.
CREATE INDEX reaction_weeks_quotes ON reaction_weeks (guild_id, week, quote_id, reactions)
    WHERE quote_id <> 0;
CREATE INDEX reaction_quarters_quotes ON reaction_quarters (guild_id, quarter, quote_id, reactions)
    WHERE quote_id <> 0;
