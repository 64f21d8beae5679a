-- As SQLite's 0032: the weekly counts again per quarter of thirteen weeks, the posts' and the
-- members', each quarter's row the sum of its weeks' rows, kept so by statement triggers on the
-- weeks (the fold, the seal, a post edited in place, `db port`'s rebuild).
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

CREATE TABLE member_reaction_quarters (
    guild_id  BIGINT NOT NULL,
    quarter   INTEGER NOT NULL,
    user_id   BIGINT NOT NULL,
    reactions INTEGER NOT NULL,
    PRIMARY KEY (guild_id, quarter, user_id)
) WITH (fillfactor = 70);

INSERT INTO reaction_quarters (guild_id, quarter, section_id, quote_id, reactions)
    SELECT guild_id, week / 13, section_id, quote_id, sum(reactions) FROM reaction_weeks
    GROUP BY 1, 2, 3, 4 HAVING sum(reactions) <> 0;
INSERT INTO member_reaction_quarters (guild_id, quarter, user_id, reactions)
    SELECT guild_id, week / 13, user_id, sum(reactions) FROM member_reaction_weeks
    GROUP BY 1, 2, 3 HAVING sum(reactions) <> 0;

-- The weeks' rows a statement added (`added`), changed (`gone` before, `added` after) or
-- removed (`gone`), summed into the quarters' table named by the trigger's first argument,
-- keyed after (guild_id, quarter) by the columns of its second; a row brought to zero goes.
CREATE FUNCTION counts_by_quarter() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    quarters TEXT := quote_ident(TG_ARGV[0]);
    keys TEXT := TG_ARGV[1];
    changes TEXT;
    changed BOOLEAN;
    zeroed BOOLEAN;
BEGIN
    changes := CASE TG_OP
        WHEN 'INSERT' THEN format('SELECT guild_id, week, %s, reactions FROM added', keys)
        WHEN 'DELETE' THEN format('SELECT guild_id, week, %s, -reactions AS reactions FROM gone', keys)
        ELSE format('SELECT guild_id, week, %1$s, reactions FROM added UNION ALL '
                    'SELECT guild_id, week, %1$s, -reactions AS reactions FROM gone', keys)
    END;
    changes := format('SELECT guild_id, week / 13 AS quarter, %s, sum(reactions) AS reactions '
                      'FROM (%s) c GROUP BY 1, 2, %s HAVING sum(reactions) <> 0',
                      keys, changes, keys);
    EXECUTE format('SELECT EXISTS (%s)', changes) INTO changed;
    IF NOT changed THEN
        RETURN NULL;  -- a statement that wrote no week's count, as most folds do
    END IF;
    PERFORM pg_advisory_xact_lock(25032);
    EXECUTE format(
        'WITH moved AS (INSERT INTO %1$s AS q (guild_id, quarter, %2$s, reactions) '
        '%3$s ORDER BY 1, 2, %2$s ON CONFLICT (guild_id, quarter, %2$s) '
        'DO UPDATE SET reactions = q.reactions + excluded.reactions RETURNING q.reactions) '
        'SELECT coalesce(bool_or(reactions = 0), FALSE) FROM moved',
        quarters, keys, changes) INTO zeroed;
    IF zeroed THEN
        EXECUTE format(
            'DELETE FROM %1$s q USING (%3$s) c WHERE q.reactions = 0 '
            'AND (q.guild_id, q.quarter, q.%4$s) = (c.guild_id, c.quarter, c.%5$s)',
            quarters, keys, changes, replace(keys, ', ', ', q.'), replace(keys, ', ', ', c.'));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER reaction_quarters_added AFTER INSERT ON reaction_weeks
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION counts_by_quarter('reaction_quarters', 'section_id, quote_id');
CREATE TRIGGER reaction_quarters_changed AFTER UPDATE ON reaction_weeks
    REFERENCING OLD TABLE AS gone NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION counts_by_quarter('reaction_quarters', 'section_id, quote_id');
CREATE TRIGGER reaction_quarters_removed AFTER DELETE ON reaction_weeks
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION counts_by_quarter('reaction_quarters', 'section_id, quote_id');
CREATE TRIGGER member_reaction_quarters_added AFTER INSERT ON member_reaction_weeks
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION counts_by_quarter('member_reaction_quarters', 'user_id');
CREATE TRIGGER member_reaction_quarters_changed AFTER UPDATE ON member_reaction_weeks
    REFERENCING OLD TABLE AS gone NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION counts_by_quarter('member_reaction_quarters', 'user_id');
CREATE TRIGGER member_reaction_quarters_removed AFTER DELETE ON member_reaction_weeks
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION counts_by_quarter('member_reaction_quarters', 'user_id');
