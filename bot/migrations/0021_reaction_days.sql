-- How many reactions each server's posts got each day (UTC days since 1970), by what the posts
-- show (a section, a quote, both, or neither: 0), and how many each member gave each day: kept
-- by triggers wherever a reaction is written (the log's merge, forget-me, anything else), so that
-- `/stats server`, `/quote top` and the club's year read a row a day and a thing shown instead of
-- every reaction of the period.
CREATE TABLE reaction_days (
    guild_id   INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    section_id INTEGER NOT NULL,
    quote_id   INTEGER NOT NULL,
    reactions  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, day, section_id, quote_id)
) WITHOUT ROWID;
-- `/quote top` reads the quotes' rows alone.
CREATE INDEX reaction_days_quotes ON reaction_days (guild_id, day, quote_id, reactions)
    WHERE quote_id <> 0;

-- The year's quotes saved from essay sections (a year's section), without reading the year's
-- other quotes.
CREATE INDEX quotes_from_sections ON quotes (guild_id, saved_at, section_id, saved_by)
    WHERE section_id IS NOT NULL;

CREATE TABLE member_reaction_days (
    guild_id  INTEGER NOT NULL,
    day       INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    reactions INTEGER NOT NULL,
    PRIMARY KEY (guild_id, day, user_id)
) WITHOUT ROWID;

CREATE TRIGGER reaction_counted AFTER INSERT ON reactions BEGIN
    INSERT INTO reaction_days (guild_id, day, section_id, quote_id, reactions)
        SELECT t.guild_id, NEW.created_at / 86400, coalesce(t.section_id, 0),
               coalesce(t.quote_id, 0), 1
        FROM tracked_messages t WHERE t.message_id = NEW.message_id AND t.guild_id IS NOT NULL
        ON CONFLICT DO UPDATE SET reactions = reactions + 1;
    INSERT INTO member_reaction_days (guild_id, day, user_id, reactions)
        SELECT t.guild_id, NEW.created_at / 86400, NEW.user_id, 1
        FROM tracked_messages t WHERE t.message_id = NEW.message_id AND t.guild_id IS NOT NULL
        ON CONFLICT DO UPDATE SET reactions = reactions + 1;
END;

CREATE TRIGGER reaction_uncounted AFTER DELETE ON reactions BEGIN
    UPDATE reaction_days SET reactions = reactions - 1
        WHERE (guild_id, day, section_id, quote_id) = (
            SELECT t.guild_id, OLD.created_at / 86400, coalesce(t.section_id, 0),
                   coalesce(t.quote_id, 0)
            FROM tracked_messages t WHERE t.message_id = OLD.message_id
        );
    DELETE FROM reaction_days
        WHERE reactions = 0 AND (guild_id, day, section_id, quote_id) = (
            SELECT t.guild_id, OLD.created_at / 86400, coalesce(t.section_id, 0),
                   coalesce(t.quote_id, 0)
            FROM tracked_messages t WHERE t.message_id = OLD.message_id
        );
    UPDATE member_reaction_days SET reactions = reactions - 1
        WHERE (guild_id, day, user_id) = (
            SELECT t.guild_id, OLD.created_at / 86400, OLD.user_id
            FROM tracked_messages t WHERE t.message_id = OLD.message_id
        );
    DELETE FROM member_reaction_days
        WHERE reactions = 0 AND (guild_id, day, user_id) = (
            SELECT t.guild_id, OLD.created_at / 86400, OLD.user_id
            FROM tracked_messages t WHERE t.message_id = OLD.message_id
        );
END;

-- A post edited in place to show another section or quote (an essay paged) takes its
-- reactions with it, as a count of every reaction would.
CREATE TRIGGER reactions_shown_again AFTER UPDATE OF section_id, quote_id ON tracked_messages
WHEN NEW.guild_id IS NOT NULL
    AND (coalesce(OLD.section_id, 0) <> coalesce(NEW.section_id, 0)
         OR coalesce(OLD.quote_id, 0) <> coalesce(NEW.quote_id, 0))
BEGIN
    INSERT INTO reaction_days (guild_id, day, section_id, quote_id, reactions)
        SELECT NEW.guild_id, r.created_at / 86400 AS d, coalesce(OLD.section_id, 0),
               coalesce(OLD.quote_id, 0), -count(*)
        FROM reactions r WHERE r.message_id = NEW.message_id GROUP BY d
        ON CONFLICT DO UPDATE SET reactions = reactions + excluded.reactions;
    INSERT INTO reaction_days (guild_id, day, section_id, quote_id, reactions)
        SELECT NEW.guild_id, r.created_at / 86400 AS d, coalesce(NEW.section_id, 0),
               coalesce(NEW.quote_id, 0), count(*)
        FROM reactions r WHERE r.message_id = NEW.message_id GROUP BY d
        ON CONFLICT DO UPDATE SET reactions = reactions + excluded.reactions;
    DELETE FROM reaction_days
        WHERE guild_id = NEW.guild_id AND reactions = 0 AND day IN (
            SELECT r.created_at / 86400 FROM reactions r WHERE r.message_id = NEW.message_id
        );
END;

INSERT INTO reaction_days (guild_id, day, section_id, quote_id, reactions)
    SELECT t.guild_id, r.created_at / 86400 AS d, coalesce(t.section_id, 0) AS s,
           coalesce(t.quote_id, 0) AS q, count(*)
    FROM reactions r JOIN tracked_messages t ON t.message_id = r.message_id
    WHERE t.guild_id IS NOT NULL GROUP BY t.guild_id, d, s, q;
INSERT INTO member_reaction_days (guild_id, day, user_id, reactions)
    SELECT t.guild_id, r.created_at / 86400 AS d, r.user_id, count(*)
    FROM reactions r JOIN tracked_messages t ON t.message_id = r.message_id
    WHERE t.guild_id IS NOT NULL GROUP BY t.guild_id, d, r.user_id;
