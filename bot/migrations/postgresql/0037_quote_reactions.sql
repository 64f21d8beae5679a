-- As SQLite's 0037 (see it for what the row holds and how a period reads it): each quote's
-- reactions in one row, with the first and last day they were counted on and its latest run of
-- reactions, kept by statement triggers on the daily counts, whatever writes them (the fold, a
-- post edited in place, `db port`'s rebuild). A post edited in place moves reactions whose notes
-- are not folded yet (0023), so that a day's row may be below zero until the fold: the row's
-- days are bounds that never narrow, and a row at zero stays.
CREATE TABLE quote_reactions (
    guild_id       BIGINT NOT NULL,
    quote_id       BIGINT NOT NULL,
    first_day      INTEGER NOT NULL,
    last_day       INTEGER NOT NULL,
    reactions      INTEGER NOT NULL,
    run_first_day  INTEGER NOT NULL,
    before_run_day INTEGER NOT NULL,
    run_reactions  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, quote_id)
);
-- A period's quotes: those counted on its first day or after.
CREATE INDEX quote_reactions_lately ON quote_reactions (guild_id, last_day)
    INCLUDE (first_day, reactions, run_first_day, before_run_day, run_reactions, quote_id);

-- The days of one quote from a day on, for those not read from their row alone; in place of
-- 0021's index of every quote's rows by day. No count in it, so that a day's row is still
-- updated in place (0021).
DROP INDEX reaction_days_quotes;
CREATE INDEX reaction_days_of_quotes ON reaction_days (guild_id, quote_id, day)
    WHERE quote_id <> 0;
-- 0034's indexes of the weeks' and quarters' quotes ranked them over a long period; they are
-- ranked from `quote_reactions` now, and every change of a week's count wrote to them.
DROP INDEX reaction_weeks_quotes;
DROP INDEX reaction_quarters_quotes;

-- The daily rows a statement added (`added`), changed (`gone` before, `added` after) or removed
-- (`gone`), summed per quote and day and written into the quotes' rows as SQLite's trigger
-- writes them one change at a time in the order of their days (RUN_GAP: 7 days): a quote's
-- latest run begins at the last of its changed days that comes more than a week after the day
-- before it with reactions (the row's last day, or the statement's day before it). The rows are
-- read and written under a lock of their own (as the quarters', 0032), taken once the statement
-- is found to change a quote's count: two folds at once write them one after the other.
CREATE FUNCTION quote_reactions_counted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes TEXT;
    guilds BIGINT[]; quotes BIGINT[]; days INTEGER[]; counts INTEGER[];
BEGIN
    changes := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT guild_id, quote_id, day, reactions FROM added'
        WHEN 'DELETE' THEN 'SELECT guild_id, quote_id, day, -reactions FROM gone'
        ELSE 'SELECT guild_id, quote_id, day, reactions FROM added UNION ALL '
             'SELECT guild_id, quote_id, day, -reactions FROM gone'
    END;
    EXECUTE format(
        'SELECT array_agg(guild_id), array_agg(quote_id), array_agg(day), array_agg(change) '
        'FROM (SELECT guild_id, quote_id, day, CAST(sum(reactions) AS INTEGER) AS change '
        'FROM (%s) c (guild_id, quote_id, day, reactions) WHERE quote_id <> 0 '
        'GROUP BY 1, 2, 3 HAVING sum(reactions) <> 0) changed', changes)
        INTO guilds, quotes, days, counts;
    IF guilds IS NULL THEN
        RETURN NULL;  -- no quote's count changed: most of a fold's statements
    END IF;
    PERFORM pg_advisory_xact_lock(25037);
    WITH changed AS (
        SELECT guild_id, quote_id, day, change, day > lag(day) OVER (
            PARTITION BY guild_id, quote_id ORDER BY day) + 7 AS starts
        FROM unnest(guilds, quotes, days, counts) AS c (guild_id, quote_id, day, change)
    ), started AS (
        SELECT guild_id, quote_id, coalesce(max(day) FILTER (WHERE starts), min(day)) AS day
        FROM changed GROUP BY 1, 2
    ), summed AS (
        SELECT c.guild_id, c.quote_id, min(c.day) AS first_day, max(c.day) AS last_day,
               sum(c.change) AS change, s.day AS started,
               sum(c.change) FILTER (WHERE c.day >= s.day) AS from_started,
               max(c.day) FILTER (WHERE c.day < s.day) AS before_started,
               q.first_day AS was_first, q.last_day AS was_last, q.reactions AS was,
               q.run_first_day AS was_run, q.before_run_day AS was_before,
               q.run_reactions AS was_run_reactions,
               sum(c.change) FILTER (WHERE c.day >= q.run_first_day) AS in_run,
               max(c.day) FILTER (WHERE c.day < q.run_first_day) AS before_run
        FROM changed c JOIN started s ON (s.guild_id, s.quote_id) = (c.guild_id, c.quote_id)
        LEFT JOIN quote_reactions q ON (q.guild_id, q.quote_id) = (c.guild_id, c.quote_id)
        GROUP BY c.guild_id, c.quote_id, s.day, q.guild_id, q.quote_id
    )
    INSERT INTO quote_reactions AS q (guild_id, quote_id, first_day, last_day, reactions,
                                      run_first_day, before_run_day, run_reactions)
    SELECT guild_id, quote_id, least(was_first, first_day), greatest(was_last, last_day),
           coalesce(was, 0) + change,
           CASE WHEN was_last IS NULL OR started > was_last + 7 THEN started ELSE was_run END,
           CASE WHEN was_last IS NULL THEN coalesce(before_started, -2147483648)
                WHEN started > was_last + 7 THEN greatest(was_last, before_started)
                ELSE greatest(was_before, before_run) END,
           CASE WHEN was_last IS NULL OR started > was_last + 7 THEN from_started
                ELSE was_run_reactions + coalesce(in_run, 0) END
    FROM summed ORDER BY 1, 2
    ON CONFLICT (guild_id, quote_id) DO UPDATE SET first_day = excluded.first_day,
        last_day = excluded.last_day, reactions = excluded.reactions,
        run_first_day = excluded.run_first_day, before_run_day = excluded.before_run_day,
        run_reactions = excluded.run_reactions;
    RETURN NULL;
END $$;

CREATE TRIGGER quote_reactions_added AFTER INSERT ON reaction_days
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION quote_reactions_counted();
CREATE TRIGGER quote_reactions_changed AFTER UPDATE ON reaction_days
    REFERENCING OLD TABLE AS gone NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION quote_reactions_counted();
CREATE TRIGGER quote_reactions_removed AFTER DELETE ON reaction_days
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION quote_reactions_counted();

-- A post edited in place (0025) now writes its weeks in the statement that writes its days. The
-- quotes' rows are written under lock 25037 once a statement that changed a quote's day ends,
-- and a fold locks its days' and weeks' rows in one statement before that; an edit writing its
-- weeks after its days would hold 25037 while it waited for a week's row a fold held, the fold
-- waiting for 25037.
CREATE OR REPLACE FUNCTION reactions_shown_again() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(25025);
    WITH moved AS MATERIALIZED (
        SELECT r.created_at / 86400 AS day, s.section_id, s.quote_id, s.sign * count(*) AS n
        FROM reactions r CROSS JOIN (VALUES
            (coalesce(OLD.section_id, 0), coalesce(OLD.quote_id, 0), -1),
            (coalesce(NEW.section_id, 0), coalesce(NEW.quote_id, 0), 1)
        ) AS s (section_id, quote_id, sign)
        WHERE r.message_id = NEW.message_id
        GROUP BY day, s.section_id, s.quote_id, s.sign
    ), days AS (
        INSERT INTO reaction_days AS d (guild_id, day, section_id, quote_id, reactions)
        SELECT NEW.guild_id, day, section_id, quote_id, n FROM moved
        ORDER BY day, section_id, quote_id
        ON CONFLICT (guild_id, day, section_id, quote_id)
        DO UPDATE SET reactions = d.reactions + excluded.reactions
    )
    INSERT INTO reaction_weeks AS d (guild_id, week, section_id, quote_id, reactions)
        SELECT NEW.guild_id, day / 7, section_id, quote_id, sum(n) FROM moved
        WHERE day / 7 < (SELECT week FROM reaction_weeks_sealed WHERE guild_id = NEW.guild_id)
        GROUP BY day / 7, section_id, quote_id ORDER BY 2, 3, 4
        ON CONFLICT (guild_id, week, section_id, quote_id)
        DO UPDATE SET reactions = d.reactions + excluded.reactions;
    DELETE FROM reaction_days
        WHERE guild_id = NEW.guild_id AND reactions = 0 AND day IN (
            SELECT r.created_at / 86400 FROM reactions r WHERE r.message_id = NEW.message_id
        );
    DELETE FROM reaction_weeks
        WHERE guild_id = NEW.guild_id AND reactions = 0 AND week IN (
            SELECT r.created_at / 86400 / 7 FROM reactions r WHERE r.message_id = NEW.message_id
        );
    RETURN NULL;
END $$;

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
