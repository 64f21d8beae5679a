-- Each quote's reactions of every day, in one row, and the first and last day they were counted
-- on, so that `/quote top` ranks a period's quotes from a row each: a quote's reactions come
-- within a day or two of its card's posting, so that nearly every quote ranked has all its
-- reactions in the period (its first day in it) and is read from this row alone; the few whose
-- first day is before it are summed from their days (`quote_sums`, bot/reactions/counts.py). A
-- month's ranking read 15,600 daily rows of 9,500 quotes and sorted them to sum them by quote.
--
-- The row follows the quote's daily rows (0021) by triggers, whatever writes them (the fold, a
-- post edited in place, `db port`'s rebuild), as the quarters follow the weeks (0032). Its days
-- are bounds: every day with a row of the quote is within them, and they never narrow (a day's
-- row may pass through zero and back, or below zero for a moment on PostgreSQL, where a post
-- edited in place moves reactions whose notes are not folded yet). A row at zero stays, with
-- its bounds.
CREATE TABLE quote_reactions (
    guild_id  INTEGER NOT NULL,
    quote_id  INTEGER NOT NULL,
    first_day INTEGER NOT NULL,
    last_day  INTEGER NOT NULL,
    reactions INTEGER NOT NULL,
    PRIMARY KEY (guild_id, quote_id)
) WITHOUT ROWID;
-- A period's quotes: those counted on its first day or after.
CREATE INDEX quote_reactions_lately ON quote_reactions (guild_id, last_day, first_day, reactions);

-- The days of one quote, for those whose first day is before the period; in place of 0021's
-- index of every quote's rows by day, which ranked them.
DROP INDEX reaction_days_quotes;
CREATE INDEX reaction_days_of_quotes ON reaction_days (guild_id, quote_id, day, reactions)
    WHERE quote_id <> 0;

CREATE TRIGGER quote_reactions_added AFTER INSERT ON reaction_days
WHEN NEW.quote_id <> 0
BEGIN
    INSERT INTO quote_reactions (guild_id, quote_id, first_day, last_day, reactions)
        VALUES (NEW.guild_id, NEW.quote_id, NEW.day, NEW.day, NEW.reactions)
        ON CONFLICT DO UPDATE SET first_day = min(first_day, excluded.first_day),
            last_day = max(last_day, excluded.last_day),
            reactions = reactions + excluded.reactions;
END;

-- The daily rows change their count, never their key; a change of key is followed anyway.
CREATE TRIGGER quote_reactions_changed AFTER UPDATE ON reaction_days
WHEN NEW.quote_id <> 0 AND (NEW.reactions <> OLD.reactions OR NEW.quote_id <> OLD.quote_id
    OR NEW.guild_id <> OLD.guild_id OR NEW.day <> OLD.day)
BEGIN
    INSERT INTO quote_reactions (guild_id, quote_id, first_day, last_day, reactions)
        VALUES (NEW.guild_id, NEW.quote_id, NEW.day, NEW.day,
                NEW.reactions - CASE WHEN (OLD.guild_id, OLD.quote_id)
                    = (NEW.guild_id, NEW.quote_id) THEN OLD.reactions ELSE 0 END)
        ON CONFLICT DO UPDATE SET first_day = min(first_day, excluded.first_day),
            last_day = max(last_day, excluded.last_day),
            reactions = reactions + excluded.reactions;
END;

CREATE TRIGGER quote_reactions_moved AFTER UPDATE OF guild_id, quote_id ON reaction_days
WHEN OLD.quote_id <> 0 AND (OLD.guild_id, OLD.quote_id) <> (NEW.guild_id, NEW.quote_id)
BEGIN
    UPDATE quote_reactions SET reactions = reactions - OLD.reactions
        WHERE guild_id = OLD.guild_id AND quote_id = OLD.quote_id;
END;

CREATE TRIGGER quote_reactions_removed AFTER DELETE ON reaction_days
WHEN OLD.quote_id <> 0 AND OLD.reactions <> 0
BEGIN
    UPDATE quote_reactions SET reactions = reactions - OLD.reactions
        WHERE guild_id = OLD.guild_id AND quote_id = OLD.quote_id;
END;

INSERT INTO quote_reactions (guild_id, quote_id, first_day, last_day, reactions)
    SELECT guild_id, quote_id, min(day), max(day), sum(reactions) FROM reaction_days
    WHERE quote_id <> 0 GROUP BY guild_id, quote_id;
