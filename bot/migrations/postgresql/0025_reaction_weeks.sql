-- As SQLite's 0025: the daily counts again per week (days since 1970 divided by 7), so that a
-- period is read as its whole weeks and a few days at its ends (bot/reactions/counts.py). A
-- server's weeks are summed from its days once they are over (`reaction_weeks_seal`, called by
-- the recorder); after that the fold (0023) adds the notes of a sealed week to its row too, and
-- a post edited in place moves them. The week going on is counted by day alone.
--
-- A seal reads a server's days while no fold or move of counts runs (an advisory lock, taken
-- shared by those and alone by the seal): a fold that began before the seal would otherwise add
-- a note of the week being sealed to its day, after the seal had read it, and not to its week.
CREATE TABLE reaction_weeks (
    guild_id   BIGINT NOT NULL,
    week       INTEGER NOT NULL,
    section_id BIGINT NOT NULL,
    quote_id   BIGINT NOT NULL,
    reactions  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, week, section_id, quote_id)
) WITH (fillfactor = 70);

CREATE TABLE member_reaction_weeks (
    guild_id  BIGINT NOT NULL,
    week      INTEGER NOT NULL,
    user_id   BIGINT NOT NULL,
    reactions INTEGER NOT NULL,
    PRIMARY KEY (guild_id, week, user_id)
) WITH (fillfactor = 70);

CREATE TABLE reaction_weeks_sealed (
    guild_id BIGINT PRIMARY KEY,
    week     INTEGER NOT NULL
);

-- 0023's fold, the notes of a server's sealed weeks added to its weeks too. A row left at zero
-- goes.
CREATE OR REPLACE FUNCTION reaction_days_fold() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    taken_count BIGINT;
    shown_guild BIGINT[]; shown_day INTEGER[]; shown_section BIGINT[]; shown_quote BIGINT[];
    weekly_guild BIGINT[]; weekly_week INTEGER[]; weekly_section BIGINT[]; weekly_quote BIGINT[];
    given_guild BIGINT[]; given_day INTEGER[]; given_member BIGINT[];
    gweekly_guild BIGINT[]; gweekly_week INTEGER[]; gweekly_member BIGINT[];
BEGIN
    PERFORM pg_advisory_xact_lock_shared(25025);  -- no seal meanwhile (see above)
    WITH taken AS (
        DELETE FROM reaction_day_changes
        RETURNING guild_id, day, section_id, quote_id, user_id, change
    ), shown AS (
        INSERT INTO reaction_days AS d (guild_id, day, section_id, quote_id, reactions)
        SELECT guild_id, day, section_id, quote_id, sum(change) FROM taken
        GROUP BY 1, 2, 3, 4 HAVING sum(change) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (guild_id, day, section_id, quote_id)
        DO UPDATE SET reactions = d.reactions + excluded.reactions
        RETURNING d.guild_id, d.day, d.section_id, d.quote_id, d.reactions
    ), shown_weekly AS (
        INSERT INTO reaction_weeks AS d (guild_id, week, section_id, quote_id, reactions)
        SELECT t.guild_id, t.day / 7, t.section_id, t.quote_id, sum(t.change)
        FROM taken t JOIN reaction_weeks_sealed s ON s.guild_id = t.guild_id
        WHERE t.day / 7 < s.week
        GROUP BY 1, 2, 3, 4 HAVING sum(t.change) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (guild_id, week, section_id, quote_id)
        DO UPDATE SET reactions = d.reactions + excluded.reactions
        RETURNING d.guild_id, d.week, d.section_id, d.quote_id, d.reactions
    ), given AS (
        INSERT INTO member_reaction_days AS d (guild_id, day, user_id, reactions)
        SELECT guild_id, day, user_id, sum(change) FROM taken
        GROUP BY 1, 2, 3 HAVING sum(change) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (guild_id, day, user_id)
        DO UPDATE SET reactions = d.reactions + excluded.reactions
        RETURNING d.guild_id, d.day, d.user_id, d.reactions
    ), given_weekly AS (
        INSERT INTO member_reaction_weeks AS d (guild_id, week, user_id, reactions)
        SELECT t.guild_id, t.day / 7, t.user_id, sum(t.change)
        FROM taken t JOIN reaction_weeks_sealed s ON s.guild_id = t.guild_id
        WHERE t.day / 7 < s.week
        GROUP BY 1, 2, 3 HAVING sum(t.change) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (guild_id, week, user_id)
        DO UPDATE SET reactions = d.reactions + excluded.reactions
        RETURNING d.guild_id, d.week, d.user_id, d.reactions
    ), shown_out AS (
        SELECT array_agg(guild_id) AS g, array_agg(day) AS d, array_agg(section_id) AS s,
               array_agg(quote_id) AS q
        FROM shown WHERE reactions = 0
    ), weekly_out AS (
        SELECT array_agg(guild_id) AS g, array_agg(week) AS w, array_agg(section_id) AS s,
               array_agg(quote_id) AS q
        FROM shown_weekly WHERE reactions = 0
    ), given_out AS (
        SELECT array_agg(guild_id) AS g, array_agg(day) AS d, array_agg(user_id) AS u
        FROM given WHERE reactions = 0
    ), gweekly_out AS (
        SELECT array_agg(guild_id) AS g, array_agg(week) AS w, array_agg(user_id) AS u
        FROM given_weekly WHERE reactions = 0
    )
    SELECT (SELECT count(*) FROM taken), so.g, so.d, so.s, so.q, wo.g, wo.w, wo.s, wo.q,
           go.g, go.d, go.u, gw.g, gw.w, gw.u
    INTO taken_count, shown_guild, shown_day, shown_section, shown_quote,
         weekly_guild, weekly_week, weekly_section, weekly_quote,
         given_guild, given_day, given_member, gweekly_guild, gweekly_week, gweekly_member
    FROM shown_out so CROSS JOIN weekly_out wo CROSS JOIN given_out go CROSS JOIN gweekly_out gw;
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

CREATE OR REPLACE FUNCTION reactions_shown_again() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(25025);
    INSERT INTO reaction_days AS d (guild_id, day, section_id, quote_id, reactions)
        SELECT NEW.guild_id, r.created_at / 86400 AS day, s.section_id, s.quote_id,
               s.sign * count(*)
        FROM reactions r CROSS JOIN (VALUES
            (coalesce(OLD.section_id, 0), coalesce(OLD.quote_id, 0), -1),
            (coalesce(NEW.section_id, 0), coalesce(NEW.quote_id, 0), 1)
        ) AS s (section_id, quote_id, sign)
        WHERE r.message_id = NEW.message_id
        GROUP BY day, s.section_id, s.quote_id, s.sign ORDER BY day, s.section_id, s.quote_id
        ON CONFLICT (guild_id, day, section_id, quote_id)
        DO UPDATE SET reactions = d.reactions + excluded.reactions;
    DELETE FROM reaction_days
        WHERE guild_id = NEW.guild_id AND reactions = 0 AND day IN (
            SELECT r.created_at / 86400 FROM reactions r WHERE r.message_id = NEW.message_id
        );
    INSERT INTO reaction_weeks AS d (guild_id, week, section_id, quote_id, reactions)
        SELECT NEW.guild_id, r.created_at / 86400 / 7 AS week, s.section_id, s.quote_id,
               s.sign * count(*)
        FROM reactions r CROSS JOIN (VALUES
            (coalesce(OLD.section_id, 0), coalesce(OLD.quote_id, 0), -1),
            (coalesce(NEW.section_id, 0), coalesce(NEW.quote_id, 0), 1)
        ) AS s (section_id, quote_id, sign)
        WHERE r.message_id = NEW.message_id AND r.created_at / 86400 / 7 < (
            SELECT week FROM reaction_weeks_sealed WHERE guild_id = NEW.guild_id
        )
        GROUP BY week, s.section_id, s.quote_id, s.sign ORDER BY week, s.section_id, s.quote_id
        ON CONFLICT (guild_id, week, section_id, quote_id)
        DO UPDATE SET reactions = d.reactions + excluded.reactions;
    DELETE FROM reaction_weeks
        WHERE guild_id = NEW.guild_id AND reactions = 0 AND week IN (
            SELECT r.created_at / 86400 / 7 FROM reactions r WHERE r.message_id = NEW.message_id
        );
    RETURN NULL;
END $$;

-- `db port`'s counts made again (0021) with the weeks of each server sealed on SQLite (copied).
CREATE OR REPLACE FUNCTION reaction_days_rebuild() RETURNS void LANGUAGE sql AS $$
    DELETE FROM reaction_days;
    DELETE FROM member_reaction_days;
    DELETE FROM reaction_weeks;
    DELETE FROM member_reaction_weeks;
    INSERT INTO reaction_days (guild_id, day, section_id, quote_id, reactions)
        SELECT t.guild_id, r.created_at / 86400, coalesce(t.section_id, 0),
               coalesce(t.quote_id, 0), count(*)
        FROM reactions r JOIN tracked_messages t ON t.message_id = r.message_id
        WHERE t.guild_id IS NOT NULL GROUP BY 1, 2, 3, 4;
    INSERT INTO member_reaction_days (guild_id, day, user_id, reactions)
        SELECT t.guild_id, r.created_at / 86400, r.user_id, count(*)
        FROM reactions r JOIN tracked_messages t ON t.message_id = r.message_id
        WHERE t.guild_id IS NOT NULL GROUP BY 1, 2, 3;
    INSERT INTO reaction_weeks (guild_id, week, section_id, quote_id, reactions)
        SELECT d.guild_id, d.day / 7, d.section_id, d.quote_id, sum(d.reactions)
        FROM reaction_days d JOIN reaction_weeks_sealed s ON s.guild_id = d.guild_id
        WHERE d.day / 7 < s.week GROUP BY 1, 2, 3, 4;
    INSERT INTO member_reaction_weeks (guild_id, week, user_id, reactions)
        SELECT d.guild_id, d.day / 7, d.user_id, sum(d.reactions)
        FROM member_reaction_days d JOIN reaction_weeks_sealed s ON s.guild_id = d.guild_id
        WHERE d.day / 7 < s.week GROUP BY 1, 2, 3;
$$;

-- The weeks of a server before `upto` summed from its days, those sealed already left as they
-- are. Returns whether any was sealed.
CREATE FUNCTION reaction_weeks_seal(server BIGINT, upto INTEGER) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    sealed INTEGER;
BEGIN
    PERFORM pg_advisory_xact_lock(25025);
    INSERT INTO reaction_weeks_sealed (guild_id, week) VALUES (server, 0)
        ON CONFLICT (guild_id) DO NOTHING;
    SELECT week INTO sealed FROM reaction_weeks_sealed WHERE guild_id = server FOR UPDATE;
    IF sealed >= upto THEN
        RETURN false;
    END IF;
    INSERT INTO reaction_weeks (guild_id, week, section_id, quote_id, reactions)
        SELECT guild_id, day / 7, section_id, quote_id, sum(reactions) FROM reaction_days
        WHERE guild_id = server AND day >= sealed * 7 AND day < upto * 7
        GROUP BY 1, 2, 3, 4;
    INSERT INTO member_reaction_weeks (guild_id, week, user_id, reactions)
        SELECT guild_id, day / 7, user_id, sum(reactions) FROM member_reaction_days
        WHERE guild_id = server AND day >= sealed * 7 AND day < upto * 7
        GROUP BY 1, 2, 3;
    UPDATE reaction_weeks_sealed SET week = upto WHERE guild_id = server;
    RETURN true;
END $$;
