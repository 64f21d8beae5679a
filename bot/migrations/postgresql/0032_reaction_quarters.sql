-- As SQLite's 0032: the weekly counts again per quarter of thirteen weeks, each quarter's row
-- the sum of its weeks' rows, kept so by statement triggers on the weeks (the fold, the seal, a
-- post edited in place, `db port`'s rebuild).
--
-- The quarters are written by one transaction at a time (an advisory lock held to its commit).
-- A statement's weeks are in key order, but their quarters are not (week 2925's section 8
-- before week 2926's section 7), and an upsert fires its update trigger and then its insert
-- trigger, two passes: a fold and a post edited in place at once could each hold a quarter's
-- row the other waits for. Each takes the lock once its own rows of days and weeks are written
-- and locks no other count after it, so whoever holds it waits on no one.
CREATE TABLE reaction_quarters (
    guild_id   BIGINT NOT NULL,
    quarter    INTEGER NOT NULL,
    section_id BIGINT NOT NULL,
    quote_id   BIGINT NOT NULL,
    reactions  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, quarter, section_id, quote_id)
) WITH (fillfactor = 70);

INSERT INTO reaction_quarters (guild_id, quarter, section_id, quote_id, reactions)
    SELECT guild_id, week / 13, section_id, quote_id, sum(reactions) FROM reaction_weeks
    GROUP BY 1, 2, 3, 4 HAVING sum(reactions) <> 0;

-- The weeks' rows a statement added (`added`), changed (`gone` before, `added` after) or
-- removed (`gone`), summed into their quarters; a quarter's row brought to zero goes.
CREATE FUNCTION reaction_quarters_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes TEXT;
    changed BOOLEAN;
    zero_guild BIGINT[]; zero_quarter INTEGER[]; zero_section BIGINT[]; zero_quote BIGINT[];
BEGIN
    changes := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT guild_id, week, section_id, quote_id, reactions FROM added'
        WHEN 'DELETE' THEN 'SELECT guild_id, week, section_id, quote_id, -reactions FROM gone'
        ELSE 'SELECT guild_id, week, section_id, quote_id, reactions FROM added UNION ALL '
             'SELECT guild_id, week, section_id, quote_id, -reactions FROM gone'
    END;
    EXECUTE 'SELECT EXISTS (' || changes || ')' INTO changed;
    IF NOT changed THEN
        RETURN NULL;  -- a statement that wrote no week, as most folds do
    END IF;
    PERFORM pg_advisory_xact_lock(25032);
    EXECUTE 'WITH moved AS ('
        'INSERT INTO reaction_quarters AS q (guild_id, quarter, section_id, quote_id, reactions) '
        'SELECT guild_id, week / 13, section_id, quote_id, sum(reactions) FROM (' || changes
        || ') c (guild_id, week, section_id, quote_id, reactions) '
        'GROUP BY 1, 2, 3, 4 HAVING sum(reactions) <> 0 ORDER BY 1, 2, 3, 4 '
        'ON CONFLICT (guild_id, quarter, section_id, quote_id) '
        'DO UPDATE SET reactions = q.reactions + excluded.reactions '
        'RETURNING q.guild_id, q.quarter, q.section_id, q.quote_id, q.reactions) '
        'SELECT array_agg(guild_id), array_agg(quarter), array_agg(section_id), '
        'array_agg(quote_id) FROM moved WHERE reactions = 0'
        INTO zero_guild, zero_quarter, zero_section, zero_quote;
    IF zero_guild IS NOT NULL THEN
        DELETE FROM reaction_quarters d
            USING unnest(zero_guild, zero_quarter, zero_section, zero_quote)
                AS z (guild_id, quarter, section_id, quote_id)
            WHERE (d.guild_id, d.quarter, d.section_id, d.quote_id)
                = (z.guild_id, z.quarter, z.section_id, z.quote_id)
            AND d.reactions = 0;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER reaction_quarters_added AFTER INSERT ON reaction_weeks
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION reaction_quarters_follow();
CREATE TRIGGER reaction_quarters_changed AFTER UPDATE ON reaction_weeks
    REFERENCING OLD TABLE AS gone NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION reaction_quarters_follow();
CREATE TRIGGER reaction_quarters_removed AFTER DELETE ON reaction_weeks
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION reaction_quarters_follow();
