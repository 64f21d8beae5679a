-- The daily counts (0021) off a reaction batch's commit. A batch's triggers only note each
-- reaction counted or uncounted here, one row each and no index to update; the recorder folds
-- the notes into the counts once no batch has come for a moment (its merge, as SQLite's log is
-- merged), summed over every batch since. A burst's batches upserted a day's row for nearly every
-- reaction (a member's day), which tripled the benchmark's event-to-commit p99 (94 ms without
-- the counts, 306 with them); folded, a member's day is written once for all the batches of a
-- fold. The counts trail the reactions as SQLite's do, until the next fold (bot/reactions/store.py).
CREATE TABLE reaction_day_changes (
    guild_id   BIGINT NOT NULL,
    day        INTEGER NOT NULL,
    section_id BIGINT NOT NULL,
    quote_id   BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    change     SMALLINT NOT NULL
);

DROP TRIGGER reactions_counted ON reactions;
DROP TRIGGER reactions_uncounted ON reactions;
DROP FUNCTION reactions_counted();
DROP FUNCTION reactions_uncounted();

-- One function for both triggers: their transition tables share a name. Each post is looked up
-- by its key (the planner knows nothing of `changed` and would otherwise scan every tracked post
-- to hash them).
CREATE FUNCTION reactions_noted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reaction_day_changes (guild_id, day, section_id, quote_id, user_id, change)
    SELECT t.guild_id, r.created_at / 86400, coalesce(t.section_id, 0), coalesce(t.quote_id, 0),
           r.user_id, CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END
    FROM changed r CROSS JOIN LATERAL (
        SELECT guild_id, section_id, quote_id FROM tracked_messages t
        WHERE t.message_id = r.message_id OFFSET 0
    ) t
    WHERE t.guild_id IS NOT NULL;
    RETURN NULL;
END $$;

CREATE TRIGGER reactions_counted AFTER INSERT ON reactions
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION reactions_noted();
CREATE TRIGGER reactions_uncounted AFTER DELETE ON reactions
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION reactions_noted();

-- Every note so far added to the counts, in key order (two folds at once take their rows' locks
-- alike); a day's row left at zero goes. Returns how many notes it took. A post edited in place
-- (0021's trigger) moves the counts of all its reactions at once, those still noted here
-- included, which the fold then adds under the key they were noted with: the sums come out the
-- same, and a row that passes through zero meanwhile goes at the fold.
CREATE FUNCTION reaction_days_fold() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    taken_count BIGINT;
    shown_guild BIGINT[]; shown_day INTEGER[]; shown_section BIGINT[]; shown_quote BIGINT[];
    given_guild BIGINT[]; given_day INTEGER[]; given_member BIGINT[];
BEGIN
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
    ), given AS (
        INSERT INTO member_reaction_days AS d (guild_id, day, user_id, reactions)
        SELECT guild_id, day, user_id, sum(change) FROM taken
        GROUP BY 1, 2, 3 HAVING sum(change) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (guild_id, day, user_id)
        DO UPDATE SET reactions = d.reactions + excluded.reactions
        RETURNING d.guild_id, d.day, d.user_id, d.reactions
    ), shown_out AS (
        SELECT array_agg(guild_id) AS g, array_agg(day) AS d, array_agg(section_id) AS s,
               array_agg(quote_id) AS q
        FROM shown WHERE reactions = 0
    ), given_out AS (
        SELECT array_agg(guild_id) AS g, array_agg(day) AS d, array_agg(user_id) AS u
        FROM given WHERE reactions = 0
    )
    SELECT (SELECT count(*) FROM taken), so.g, so.d, so.s, so.q, go.g, go.d, go.u
    INTO taken_count, shown_guild, shown_day, shown_section, shown_quote,
         given_guild, given_day, given_member
    FROM shown_out so CROSS JOIN given_out go;
    IF shown_guild IS NOT NULL THEN
        DELETE FROM reaction_days d
            USING unnest(shown_guild, shown_day, shown_section, shown_quote)
                AS z (guild_id, day, section_id, quote_id)
            WHERE d.guild_id = z.guild_id AND d.day = z.day AND d.section_id = z.section_id
            AND d.quote_id = z.quote_id AND d.reactions = 0;
    END IF;
    IF given_guild IS NOT NULL THEN
        DELETE FROM member_reaction_days d
            USING unnest(given_guild, given_day, given_member) AS z (guild_id, day, user_id)
            WHERE d.guild_id = z.guild_id AND d.day = z.day AND d.user_id = z.user_id
            AND d.reactions = 0;
    END IF;
    RETURN taken_count;
END $$;
