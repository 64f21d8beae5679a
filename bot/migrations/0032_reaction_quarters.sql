-- The weekly counts of 0025 again per quarter of thirteen weeks (quarter = week / 13), so that a
-- long period (the club's year) is read as its whole quarters and the weeks at its ends, as a
-- month is read as its whole weeks (bot/reactions/counts.py): nine months of the benchmark's
-- reactions are 270,000 weekly rows, which the club's section of the year summed in 58 ms.
--
-- A quarter's row is the sum of its weeks' rows, kept so by triggers on the weeks, whatever
-- writes them (the seal, the fold, a post edited in place, `db port`'s rebuild): a quarter is
-- complete once all its weeks are sealed, and until then holds those sealed so far (a period
-- running to now reads it so, bot/reactions/counts.py). The members' weekly counts are
-- kept per quarter alike (`/stats server` over a long period ranks its members from them). The
-- weeks' rows only ever change their count, never their key.
CREATE TABLE reaction_quarters (
    guild_id   INTEGER NOT NULL,
    quarter    INTEGER NOT NULL,
    section_id INTEGER NOT NULL,
    quote_id   INTEGER NOT NULL,
    reactions  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, quarter, section_id, quote_id)
) WITHOUT ROWID;

CREATE TABLE member_reaction_quarters (
    guild_id  INTEGER NOT NULL,
    quarter   INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    reactions INTEGER NOT NULL,
    PRIMARY KEY (guild_id, quarter, user_id)
) WITHOUT ROWID;

INSERT INTO reaction_quarters (guild_id, quarter, section_id, quote_id, reactions)
    SELECT guild_id, week / 13, section_id, quote_id, sum(reactions) FROM reaction_weeks
    GROUP BY 1, 2, 3, 4 HAVING sum(reactions) <> 0;
INSERT INTO member_reaction_quarters (guild_id, quarter, user_id, reactions)
    SELECT guild_id, week / 13, user_id, sum(reactions) FROM member_reaction_weeks
    GROUP BY 1, 2, 3 HAVING sum(reactions) <> 0;

-- Each adds the change of a week's row to its quarter's, and a quarter's row brought to zero
-- goes.
CREATE TRIGGER reaction_quarters_added AFTER INSERT ON reaction_weeks
WHEN NEW.reactions <> 0
BEGIN
    INSERT INTO reaction_quarters (guild_id, quarter, section_id, quote_id, reactions)
        VALUES (NEW.guild_id, NEW.week / 13, NEW.section_id, NEW.quote_id, NEW.reactions)
        ON CONFLICT DO UPDATE SET reactions = reactions + excluded.reactions;
    DELETE FROM reaction_quarters
        WHERE (guild_id, quarter, section_id, quote_id)
            = (NEW.guild_id, NEW.week / 13, NEW.section_id, NEW.quote_id)
        AND reactions = 0;
END;

CREATE TRIGGER reaction_quarters_changed AFTER UPDATE OF reactions ON reaction_weeks
WHEN NEW.reactions <> OLD.reactions
BEGIN
    INSERT INTO reaction_quarters (guild_id, quarter, section_id, quote_id, reactions)
        VALUES (NEW.guild_id, NEW.week / 13, NEW.section_id, NEW.quote_id,
                NEW.reactions - OLD.reactions)
        ON CONFLICT DO UPDATE SET reactions = reactions + excluded.reactions;
    DELETE FROM reaction_quarters
        WHERE (guild_id, quarter, section_id, quote_id)
            = (NEW.guild_id, NEW.week / 13, NEW.section_id, NEW.quote_id)
        AND reactions = 0;
END;

CREATE TRIGGER reaction_quarters_removed AFTER DELETE ON reaction_weeks
WHEN OLD.reactions <> 0
BEGIN
    INSERT INTO reaction_quarters (guild_id, quarter, section_id, quote_id, reactions)
        VALUES (OLD.guild_id, OLD.week / 13, OLD.section_id, OLD.quote_id, -OLD.reactions)
        ON CONFLICT DO UPDATE SET reactions = reactions + excluded.reactions;
    DELETE FROM reaction_quarters
        WHERE (guild_id, quarter, section_id, quote_id)
            = (OLD.guild_id, OLD.week / 13, OLD.section_id, OLD.quote_id)
        AND reactions = 0;
END;

CREATE TRIGGER member_reaction_quarters_added AFTER INSERT ON member_reaction_weeks
WHEN NEW.reactions <> 0
BEGIN
    INSERT INTO member_reaction_quarters (guild_id, quarter, user_id, reactions)
        VALUES (NEW.guild_id, NEW.week / 13, NEW.user_id, NEW.reactions)
        ON CONFLICT DO UPDATE SET reactions = reactions + excluded.reactions;
    DELETE FROM member_reaction_quarters
        WHERE (guild_id, quarter, user_id) = (NEW.guild_id, NEW.week / 13, NEW.user_id)
        AND reactions = 0;
END;

CREATE TRIGGER member_reaction_quarters_changed AFTER UPDATE OF reactions
ON member_reaction_weeks
WHEN NEW.reactions <> OLD.reactions
BEGIN
    INSERT INTO member_reaction_quarters (guild_id, quarter, user_id, reactions)
        VALUES (NEW.guild_id, NEW.week / 13, NEW.user_id, NEW.reactions - OLD.reactions)
        ON CONFLICT DO UPDATE SET reactions = reactions + excluded.reactions;
    DELETE FROM member_reaction_quarters
        WHERE (guild_id, quarter, user_id) = (NEW.guild_id, NEW.week / 13, NEW.user_id)
        AND reactions = 0;
END;

CREATE TRIGGER member_reaction_quarters_removed AFTER DELETE ON member_reaction_weeks
WHEN OLD.reactions <> 0
BEGIN
    INSERT INTO member_reaction_quarters (guild_id, quarter, user_id, reactions)
        VALUES (OLD.guild_id, OLD.week / 13, OLD.user_id, -OLD.reactions)
        ON CONFLICT DO UPDATE SET reactions = reactions + excluded.reactions;
    DELETE FROM member_reaction_quarters
        WHERE (guild_id, quarter, user_id) = (OLD.guild_id, OLD.week / 13, OLD.user_id)
        AND reactions = 0;
END;
