-- The daily counts of 0021 again per week (UTC days since 1970 divided by 7), so that a period
-- is read as its whole weeks and a few days at its ends: `/stats server`'s month reads about
-- five rows a member or post shown instead of thirty (bot/reactions/counts.py).
--
-- A server's weeks are written once they are over, summed from its days when the recorder
-- seals them (`reaction_weeks_sealed`: every week before `week` is kept here); after that,
-- only a change to a reaction of a sealed week (a removal, a post edited to show another
-- section, forget-me) updates a week's row too. The week going on is counted by day alone, so
-- a reaction added now costs the merge nothing more (counted per week as well, each reaction
-- doubled the merge's time).
CREATE TABLE reaction_weeks (
    guild_id   INTEGER NOT NULL,
    week       INTEGER NOT NULL,
    section_id INTEGER NOT NULL,
    quote_id   INTEGER NOT NULL,
    reactions  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, week, section_id, quote_id)
) WITHOUT ROWID;
-- No index of the weeks' quotes (0021 has one of the days'): quotes are ranked from their days
-- (`ReactionRecorder.leading`), which a week hardly sums.

CREATE TABLE member_reaction_weeks (
    guild_id  INTEGER NOT NULL,
    week      INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    reactions INTEGER NOT NULL,
    PRIMARY KEY (guild_id, week, user_id)
) WITHOUT ROWID;

CREATE TABLE reaction_weeks_sealed (
    guild_id INTEGER PRIMARY KEY,
    week     INTEGER NOT NULL
);

-- Each trigger first asks whether the reaction's week is sealed for any server (one small
-- table's read), then for its post's server.
CREATE TRIGGER reaction_counted_weekly AFTER INSERT ON reactions
WHEN NEW.created_at / 86400 / 7 < (SELECT max(week) FROM reaction_weeks_sealed)
BEGIN
    INSERT INTO reaction_weeks (guild_id, week, section_id, quote_id, reactions)
        SELECT t.guild_id, NEW.created_at / 86400 / 7, coalesce(t.section_id, 0),
               coalesce(t.quote_id, 0), 1
        FROM tracked_messages t JOIN reaction_weeks_sealed s ON s.guild_id = t.guild_id
        WHERE t.message_id = NEW.message_id AND NEW.created_at / 86400 / 7 < s.week
        ON CONFLICT DO UPDATE SET reactions = reactions + 1;
    INSERT INTO member_reaction_weeks (guild_id, week, user_id, reactions)
        SELECT t.guild_id, NEW.created_at / 86400 / 7, NEW.user_id, 1
        FROM tracked_messages t JOIN reaction_weeks_sealed s ON s.guild_id = t.guild_id
        WHERE t.message_id = NEW.message_id AND NEW.created_at / 86400 / 7 < s.week
        ON CONFLICT DO UPDATE SET reactions = reactions + 1;
END;

CREATE TRIGGER reaction_uncounted_weekly AFTER DELETE ON reactions
WHEN OLD.created_at / 86400 / 7 < (SELECT max(week) FROM reaction_weeks_sealed)
BEGIN
    UPDATE reaction_weeks SET reactions = reactions - 1
        WHERE (guild_id, week, section_id, quote_id) = (
            SELECT t.guild_id, OLD.created_at / 86400 / 7, coalesce(t.section_id, 0),
                   coalesce(t.quote_id, 0)
            FROM tracked_messages t JOIN reaction_weeks_sealed s ON s.guild_id = t.guild_id
            WHERE t.message_id = OLD.message_id AND OLD.created_at / 86400 / 7 < s.week
        );
    DELETE FROM reaction_weeks
        WHERE reactions = 0 AND (guild_id, week, section_id, quote_id) = (
            SELECT t.guild_id, OLD.created_at / 86400 / 7, coalesce(t.section_id, 0),
                   coalesce(t.quote_id, 0)
            FROM tracked_messages t WHERE t.message_id = OLD.message_id
        );
    UPDATE member_reaction_weeks SET reactions = reactions - 1
        WHERE (guild_id, week, user_id) = (
            SELECT t.guild_id, OLD.created_at / 86400 / 7, OLD.user_id
            FROM tracked_messages t JOIN reaction_weeks_sealed s ON s.guild_id = t.guild_id
            WHERE t.message_id = OLD.message_id AND OLD.created_at / 86400 / 7 < s.week
        );
    DELETE FROM member_reaction_weeks
        WHERE reactions = 0 AND (guild_id, week, user_id) = (
            SELECT t.guild_id, OLD.created_at / 86400 / 7, OLD.user_id
            FROM tracked_messages t WHERE t.message_id = OLD.message_id
        );
END;

-- A post edited in place takes its reactions of sealed weeks with it, as 0021's trigger does
-- its reactions of every day.
CREATE TRIGGER reactions_shown_again_weekly AFTER UPDATE OF section_id, quote_id
ON tracked_messages
WHEN NEW.guild_id IS NOT NULL
    AND (coalesce(OLD.section_id, 0) <> coalesce(NEW.section_id, 0)
         OR coalesce(OLD.quote_id, 0) <> coalesce(NEW.quote_id, 0))
BEGIN
    INSERT INTO reaction_weeks (guild_id, week, section_id, quote_id, reactions)
        SELECT NEW.guild_id, r.created_at / 86400 / 7 AS w, coalesce(OLD.section_id, 0),
               coalesce(OLD.quote_id, 0), -count(*)
        FROM reactions r JOIN reaction_weeks_sealed s ON s.guild_id = NEW.guild_id
        WHERE r.message_id = NEW.message_id AND r.created_at / 86400 / 7 < s.week GROUP BY w
        ON CONFLICT DO UPDATE SET reactions = reactions + excluded.reactions;
    INSERT INTO reaction_weeks (guild_id, week, section_id, quote_id, reactions)
        SELECT NEW.guild_id, r.created_at / 86400 / 7 AS w, coalesce(NEW.section_id, 0),
               coalesce(NEW.quote_id, 0), count(*)
        FROM reactions r JOIN reaction_weeks_sealed s ON s.guild_id = NEW.guild_id
        WHERE r.message_id = NEW.message_id AND r.created_at / 86400 / 7 < s.week GROUP BY w
        ON CONFLICT DO UPDATE SET reactions = reactions + excluded.reactions;
    DELETE FROM reaction_weeks
        WHERE guild_id = NEW.guild_id AND reactions = 0 AND week IN (
            SELECT r.created_at / 86400 / 7 FROM reactions r WHERE r.message_id = NEW.message_id
        );
END;
