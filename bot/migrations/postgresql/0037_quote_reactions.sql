-- As SQLite's 0037: each quote's reactions of every day in one row, and the first and last day
-- they were counted on, so that `/quote top` ranks a period's quotes from a row each and sums
-- the days of those alone whose first day is before it (`quote_sums`, bot/reactions/counts.py).
-- The row follows the quote's daily rows by statement triggers, whatever writes them (the fold,
-- a post edited in place, `db port`'s rebuild). Its days are bounds that never narrow: a post
-- edited in place moves reactions whose notes are not folded yet (0023), so that a day's row may
-- be below zero until the fold, and a quote's sum at zero while some of its days are not. A row
-- at zero stays, with its bounds.
CREATE TABLE quote_reactions (
    guild_id  BIGINT NOT NULL,
    quote_id  BIGINT NOT NULL,
    first_day INTEGER NOT NULL,
    last_day  INTEGER NOT NULL,
    reactions INTEGER NOT NULL,
    PRIMARY KEY (guild_id, quote_id)
);
-- A period's quotes: those counted on its first day or after.
CREATE INDEX quote_reactions_lately ON quote_reactions (guild_id, last_day)
    INCLUDE (first_day, reactions, quote_id);

-- The days of one quote, for those whose first day is before the period; in place of 0021's
-- index of every quote's rows by day. No count in it, so that a day's row is still updated in
-- place (0021).
DROP INDEX reaction_days_quotes;
CREATE INDEX reaction_days_of_quotes ON reaction_days (guild_id, quote_id, day)
    WHERE quote_id <> 0;
-- 0034's indexes of the weeks' and quarters' quotes ranked them over a long period; they are
-- ranked from `quote_reactions` now, and every change of a week's count wrote to them.
DROP INDEX reaction_weeks_quotes;
DROP INDEX reaction_quarters_quotes;

-- The daily rows a statement added (`added`), changed (`gone` before, `added` after) or removed
-- (`gone`), summed into their quotes' rows in key order (two folds at once take the rows' locks
-- alike). A row removed or changed lies within its quote's days already; a row removed at zero
-- (the fold's) changes nothing.
CREATE FUNCTION quote_reactions_counted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes TEXT;
BEGIN
    changes := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT guild_id, quote_id, day, reactions FROM added'
        WHEN 'DELETE' THEN 'SELECT guild_id, quote_id, day, -reactions FROM gone '
                           'WHERE reactions <> 0'
        ELSE 'SELECT guild_id, quote_id, day, reactions FROM added UNION ALL '
             'SELECT guild_id, quote_id, day, -reactions FROM gone'
    END;
    EXECUTE format(
        'INSERT INTO quote_reactions AS q (guild_id, quote_id, first_day, last_day, reactions) '
        'SELECT guild_id, quote_id, min(day), max(day), sum(reactions) '
        'FROM (%s) c (guild_id, quote_id, day, reactions) WHERE quote_id <> 0 '
        'GROUP BY 1, 2 ORDER BY 1, 2 ON CONFLICT (guild_id, quote_id) DO UPDATE SET '
        'first_day = least(q.first_day, excluded.first_day), '
        'last_day = greatest(q.last_day, excluded.last_day), '
        'reactions = q.reactions + excluded.reactions',
        changes);
    RETURN NULL;
END $$;

CREATE TRIGGER quote_reactions_added AFTER INSERT ON reaction_days
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION quote_reactions_counted();
CREATE TRIGGER quote_reactions_changed AFTER UPDATE ON reaction_days
    REFERENCING OLD TABLE AS gone NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION quote_reactions_counted();
CREATE TRIGGER quote_reactions_removed AFTER DELETE ON reaction_days
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION quote_reactions_counted();

INSERT INTO quote_reactions (guild_id, quote_id, first_day, last_day, reactions)
    SELECT guild_id, quote_id, min(day), max(day), sum(reactions) FROM reaction_days
    WHERE quote_id <> 0 GROUP BY guild_id, quote_id;
