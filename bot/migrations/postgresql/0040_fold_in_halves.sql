-- The fold in two halves, each with notes of its own, run side by side on two connections
-- (bot/reactions/store.py): the sections' and quotes' counts (days, weeks, and through their
-- triggers the quarters and each quote's row) and the members' counts. A stream's last fold
-- comes once the events are over, when the bot's core is idle and the server's second core
-- would otherwise wait for one statement; the members' half took 0.3 s of 1.9 after the
-- benchmark's stream. A batch's notes are summed per key by the statement that writes them,
-- so the two tables hold 1.2 rows a reaction (0.7 and 0.5) where one held 1, narrower. Each
-- half takes the seal's lock shared (0025), so a seal still waits for both.

-- The notes of the old shape, folded before their table is replaced.
SELECT reaction_days_fold();
DROP TABLE reaction_day_changes;
CREATE TABLE reaction_day_changes (
    guild_id   BIGINT NOT NULL,
    day        INTEGER NOT NULL,
    section_id BIGINT NOT NULL,
    quote_id   BIGINT NOT NULL,
    change     INTEGER NOT NULL
);
CREATE TABLE member_day_changes (
    guild_id BIGINT NOT NULL,
    day      INTEGER NOT NULL,
    user_id  BIGINT NOT NULL,
    change   INTEGER NOT NULL
);

-- 0036's notes, summed per key: a statement only adds (+1 each) or only removes (-1 each).
CREATE OR REPLACE FUNCTION reactions_noted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    step INTEGER := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    WITH noted AS MATERIALIZED (
        SELECT t.guild_id, reaction_time(r.at) / 86400 AS day, coalesce(t.section_id, 0)
               AS section_id, coalesce(t.quote_id, 0) AS quote_id, r.user_id
        FROM changed r CROSS JOIN LATERAL (
            SELECT guild_id, section_id, quote_id FROM tracked_messages t
            WHERE t.message_id = r.message_id OFFSET 0
        ) t
        WHERE t.guild_id IS NOT NULL
    ), given AS (
        INSERT INTO member_day_changes (guild_id, day, user_id, change)
        SELECT guild_id, day, user_id, step * count(*) FROM noted GROUP BY 1, 2, 3
    )
    INSERT INTO reaction_day_changes (guild_id, day, section_id, quote_id, change)
    SELECT guild_id, day, section_id, quote_id, step * count(*) FROM noted GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END $$;

-- 0039's fold of the sections' and quotes' counts; rows left at zero go.
CREATE FUNCTION reaction_days_fold_sections() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    taken_count BIGINT;
    shown_guild BIGINT[]; shown_day INTEGER[]; shown_section BIGINT[]; shown_quote BIGINT[];
    weekly_guild BIGINT[]; weekly_week INTEGER[]; weekly_section BIGINT[]; weekly_quote BIGINT[];
BEGIN
    PERFORM pg_advisory_xact_lock_shared(25025);  -- no seal meanwhile (0025)
    WITH taken AS (
        DELETE FROM reaction_day_changes
        RETURNING guild_id, day, section_id, quote_id, change
    ), days_changed AS MATERIALIZED (
        SELECT guild_id, day, section_id, quote_id, CAST(sum(change) AS INTEGER) AS change
        FROM taken GROUP BY 1, 2, 3, 4
    ), shown AS (
        INSERT INTO reaction_days AS d (guild_id, day, section_id, quote_id, reactions)
        SELECT guild_id, day, section_id, quote_id, change FROM days_changed
        WHERE change <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (guild_id, day, section_id, quote_id)
        DO UPDATE SET reactions = d.reactions + excluded.reactions
        RETURNING d.guild_id, d.day, d.section_id, d.quote_id, d.reactions
    ), shown_weekly AS (
        INSERT INTO reaction_weeks AS d (guild_id, week, section_id, quote_id, reactions)
        SELECT c.guild_id, c.day / 7, c.section_id, c.quote_id, sum(c.change)
        FROM days_changed c JOIN reaction_weeks_sealed s ON s.guild_id = c.guild_id
        WHERE c.day / 7 < s.week
        GROUP BY 1, 2, 3, 4 HAVING sum(c.change) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (guild_id, week, section_id, quote_id)
        DO UPDATE SET reactions = d.reactions + excluded.reactions
        RETURNING d.guild_id, d.week, d.section_id, d.quote_id, d.reactions
    ), shown_out AS (
        SELECT array_agg(guild_id) AS g, array_agg(day) AS d, array_agg(section_id) AS s,
               array_agg(quote_id) AS q
        FROM shown WHERE reactions = 0
    ), weekly_out AS (
        SELECT array_agg(guild_id) AS g, array_agg(week) AS w, array_agg(section_id) AS s,
               array_agg(quote_id) AS q
        FROM shown_weekly WHERE reactions = 0
    )
    SELECT (SELECT count(*) FROM taken), so.g, so.d, so.s, so.q, wo.g, wo.w, wo.s, wo.q
    INTO taken_count, shown_guild, shown_day, shown_section, shown_quote,
         weekly_guild, weekly_week, weekly_section, weekly_quote
    FROM shown_out so CROSS JOIN weekly_out wo;
    IF shown_guild IS NOT NULL THEN
        DELETE FROM reaction_days d
            USING unnest(shown_guild, shown_day, shown_section, shown_quote)
                AS z (guild_id, day, section_id, quote_id)
            WHERE d.guild_id = z.guild_id AND d.day = z.day AND d.section_id = z.section_id
            AND d.quote_id = z.quote_id AND d.reactions = 0;
    END IF;
    IF weekly_guild IS NOT NULL THEN
        DELETE FROM reaction_weeks d
            USING unnest(weekly_guild, weekly_week, weekly_section, weekly_quote)
                AS z (guild_id, week, section_id, quote_id)
            WHERE d.guild_id = z.guild_id AND d.week = z.week AND d.section_id = z.section_id
            AND d.quote_id = z.quote_id AND d.reactions = 0;
    END IF;
    RETURN taken_count;
END $$;

-- 0039's fold of the members' counts; rows left at zero go.
CREATE FUNCTION reaction_days_fold_members() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    taken_count BIGINT;
    given_guild BIGINT[]; given_day INTEGER[]; given_member BIGINT[];
    gweekly_guild BIGINT[]; gweekly_week INTEGER[]; gweekly_member BIGINT[];
BEGIN
    PERFORM pg_advisory_xact_lock_shared(25025);  -- no seal meanwhile (0025)
    WITH taken AS (
        DELETE FROM member_day_changes RETURNING guild_id, day, user_id, change
    ), members_changed AS MATERIALIZED (
        SELECT guild_id, day, user_id, CAST(sum(change) AS INTEGER) AS change FROM taken
        GROUP BY 1, 2, 3
    ), given AS (
        INSERT INTO member_reaction_days AS d (guild_id, day, user_id, reactions)
        SELECT guild_id, day, user_id, change FROM members_changed
        WHERE change <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (guild_id, day, user_id)
        DO UPDATE SET reactions = d.reactions + excluded.reactions
        RETURNING d.guild_id, d.day, d.user_id, d.reactions
    ), given_weekly AS (
        INSERT INTO member_reaction_weeks AS d (guild_id, week, user_id, reactions)
        SELECT c.guild_id, c.day / 7, c.user_id, sum(c.change)
        FROM members_changed c JOIN reaction_weeks_sealed s ON s.guild_id = c.guild_id
        WHERE c.day / 7 < s.week
        GROUP BY 1, 2, 3 HAVING sum(c.change) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (guild_id, week, user_id)
        DO UPDATE SET reactions = d.reactions + excluded.reactions
        RETURNING d.guild_id, d.week, d.user_id, d.reactions
    ), given_out AS (
        SELECT array_agg(guild_id) AS g, array_agg(day) AS d, array_agg(user_id) AS u
        FROM given WHERE reactions = 0
    ), gweekly_out AS (
        SELECT array_agg(guild_id) AS g, array_agg(week) AS w, array_agg(user_id) AS u
        FROM given_weekly WHERE reactions = 0
    )
    SELECT (SELECT count(*) FROM taken), go.g, go.d, go.u, gw.g, gw.w, gw.u
    INTO taken_count, given_guild, given_day, given_member, gweekly_guild, gweekly_week,
         gweekly_member
    FROM given_out go CROSS JOIN gweekly_out gw;
    IF given_guild IS NOT NULL THEN
        DELETE FROM member_reaction_days d
            USING unnest(given_guild, given_day, given_member) AS z (guild_id, day, user_id)
            WHERE d.guild_id = z.guild_id AND d.day = z.day AND d.user_id = z.user_id
            AND d.reactions = 0;
    END IF;
    IF gweekly_guild IS NOT NULL THEN
        DELETE FROM member_reaction_weeks d
            USING unnest(gweekly_guild, gweekly_week, gweekly_member) AS z (guild_id, week, user_id)
            WHERE d.guild_id = z.guild_id AND d.week = z.week AND d.user_id = z.user_id
            AND d.reactions = 0;
    END IF;
    RETURN taken_count;
END $$;

-- Both halves in one transaction, as forget-me and a digest need them: how many notes' rows it
-- folded.
CREATE OR REPLACE FUNCTION reaction_days_fold() RETURNS bigint LANGUAGE sql AS $$
    SELECT reaction_days_fold_sections() + reaction_days_fold_members();
$$;
