-- Each quote's reactions in one row, so that `/quote top` ranks a period's quotes from a row each
-- instead of summing their daily rows (0021) in a sort: a month of the benchmark's is 15,600
-- daily rows of 9,500 quotes.
--
-- The row holds the quote's reactions of every day and the first and last day they were counted
-- on; and its latest run of reactions: those from `run_first_day` on, where the run began, more
-- than a week (RUN_GAP) after the day before it with reactions, `before_run_day` (-2147483648
-- when there is none: a day before every other, so that days counted later bound it). A quote's
-- card gets its reactions within a day or two of being posted, and a quote shown again later
-- (`/quote random`, `/quote show`) starts a run of its own, so that a period starting at day S
-- reads nearly every quote from its row alone (`quote_sums`, bot/reactions/counts.py):
--   - first counted on S or after: all its reactions;
--   - its latest run beginning on S or after, with nothing between S and it: the run's;
--   - counted last before S: none (not read);
--   - else (S within its latest run, or before a run that is not its latest): its days from S.
-- A first attempt kept the first and last days alone, and every quote shown again whose days
-- straddled S was summed from its days: on the benchmark's counts lengthened to nine months,
-- whose quotes come back, /quote top over 30 days went 6-7 → 22-26 ms on PostgreSQL.
--
-- The row follows the quote's daily rows by triggers, whatever writes them (the fold, a post
-- edited in place, `db port`'s rebuild), as the quarters follow the weeks (0032): each change
-- of a day's count goes through `quote_reaction_changes`. Its days are bounds that never narrow:
-- a day's row may pass through zero and back (or below zero for a moment on PostgreSQL, where a
-- post edited in place moves reactions whose notes are not folded yet), and a row at zero stays.
-- What holds after any change, in any order: `reactions` is the sum of the quote's days;
-- `run_reactions` that of its days from `run_first_day` on; every day with reactions lies within
-- [first_day, last_day] and none in (before_run_day, run_first_day).
CREATE TABLE quote_reactions (
    guild_id       INTEGER NOT NULL,
    quote_id       INTEGER NOT NULL,
    first_day      INTEGER NOT NULL,
    last_day       INTEGER NOT NULL,
    reactions      INTEGER NOT NULL,
    run_first_day  INTEGER NOT NULL,
    before_run_day INTEGER NOT NULL,
    run_reactions  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, quote_id)
) WITHOUT ROWID;
-- A period's quotes: those counted on its first day or after, read without the table.
CREATE INDEX quote_reactions_lately ON quote_reactions (
    guild_id, last_day, first_day, reactions, run_first_day, before_run_day, run_reactions
);

-- The days of one quote from a day on, for those not read from their row alone; in place of
-- 0021's index of every quote's rows by day, which ranked them.
DROP INDEX reaction_days_quotes;
CREATE INDEX reaction_days_of_quotes ON reaction_days (guild_id, quote_id, day, reactions)
    WHERE quote_id <> 0;

-- A change of `change` reactions on `day` of a quote, written into its row.
CREATE VIEW quote_reaction_changes (guild_id, quote_id, day, change) AS SELECT 0, 0, 0, 0 WHERE 0;
CREATE TRIGGER quote_reaction_changed INSTEAD OF INSERT ON quote_reaction_changes
BEGIN
    INSERT INTO quote_reactions (guild_id, quote_id, first_day, last_day, reactions,
                                 run_first_day, before_run_day, run_reactions)
        VALUES (NEW.guild_id, NEW.quote_id, NEW.day, NEW.day, NEW.change,
                NEW.day, -2147483648, NEW.change)
        -- The values on the right are the row's before the change (RUN_GAP: 7 days).
        ON CONFLICT DO UPDATE SET
            first_day = min(first_day, excluded.first_day),
            last_day = max(last_day, excluded.last_day),
            reactions = reactions + excluded.reactions,
            run_first_day = CASE WHEN excluded.last_day > last_day + 7 THEN excluded.last_day
                                 ELSE run_first_day END,
            before_run_day = CASE WHEN excluded.last_day > last_day + 7 THEN last_day
                                  WHEN excluded.last_day < run_first_day
                                  THEN max(before_run_day, excluded.last_day)
                                  ELSE before_run_day END,
            run_reactions = CASE WHEN excluded.last_day > last_day + 7 THEN excluded.reactions
                                 WHEN excluded.last_day >= run_first_day
                                 THEN run_reactions + excluded.reactions
                                 ELSE run_reactions END;
END;

CREATE TRIGGER quote_reactions_added AFTER INSERT ON reaction_days
WHEN NEW.quote_id <> 0 AND NEW.reactions <> 0
BEGIN
    INSERT INTO quote_reaction_changes VALUES (NEW.guild_id, NEW.quote_id, NEW.day, NEW.reactions);
END;

CREATE TRIGGER quote_reactions_changed AFTER UPDATE OF reactions ON reaction_days
WHEN NEW.quote_id <> 0 AND NEW.reactions <> OLD.reactions
    AND (NEW.guild_id, NEW.day, NEW.quote_id) = (OLD.guild_id, OLD.day, OLD.quote_id)
BEGIN
    INSERT INTO quote_reaction_changes
        VALUES (NEW.guild_id, NEW.quote_id, NEW.day, NEW.reactions - OLD.reactions);
END;

-- The daily rows change their count, never their key; a change of key is followed anyway.
CREATE TRIGGER quote_reactions_moved AFTER UPDATE OF guild_id, day, quote_id ON reaction_days
WHEN (NEW.guild_id, NEW.day, NEW.quote_id) <> (OLD.guild_id, OLD.day, OLD.quote_id)
BEGIN
    INSERT INTO quote_reaction_changes
        SELECT OLD.guild_id, OLD.quote_id, OLD.day, -OLD.reactions WHERE OLD.quote_id <> 0
        UNION ALL
        SELECT NEW.guild_id, NEW.quote_id, NEW.day, NEW.reactions WHERE NEW.quote_id <> 0;
END;

CREATE TRIGGER quote_reactions_removed AFTER DELETE ON reaction_days
WHEN OLD.quote_id <> 0 AND OLD.reactions <> 0
BEGIN
    INSERT INTO quote_reaction_changes
        VALUES (OLD.guild_id, OLD.quote_id, OLD.day, -OLD.reactions);
END;

-- The rows of the quotes counted so far, their latest run found among their days.
INSERT INTO quote_reactions (guild_id, quote_id, first_day, last_day, reactions,
                             run_first_day, before_run_day, run_reactions)
WITH days AS (
    SELECT guild_id, quote_id, day, sum(reactions) AS reactions FROM reaction_days
    WHERE quote_id <> 0 GROUP BY 1, 2, 3
), runs AS (
    SELECT *, CASE WHEN day > coalesce(lag(day) OVER (PARTITION BY guild_id, quote_id ORDER BY day),
                                       day - 1) + 7 THEN day END AS started
    FROM days
), latest AS (
    SELECT guild_id, quote_id, coalesce(max(started), min(day)) AS run_first_day
    FROM runs GROUP BY 1, 2
)
SELECT d.guild_id, d.quote_id, min(d.day), max(d.day), sum(d.reactions), l.run_first_day,
       coalesce(max(CASE WHEN d.day < l.run_first_day THEN d.day END), -2147483648),
       sum(CASE WHEN d.day >= l.run_first_day THEN d.reactions ELSE 0 END)
FROM days d JOIN latest l ON l.guild_id = d.guild_id AND l.quote_id = d.quote_id
GROUP BY d.guild_id, d.quote_id, l.run_first_day;
