-- How many viewings each member logged in each year, and each film, in each server (the year of
-- the day watched, as the server's dates are written; undated viewings have none), kept by
-- triggers wherever a viewing is written: the club's year (`/stats year`) reads its films and
-- its members from a row each instead of the year's viewings (150,000 at the benchmark's scale,
-- read twice: 41 ms on SQLite).
CREATE TABLE member_years (
    guild_id INTEGER NOT NULL,
    year     INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    viewings INTEGER NOT NULL,
    PRIMARY KEY (guild_id, year, user_id)
) WITHOUT ROWID;
CREATE TABLE film_years (
    guild_id INTEGER NOT NULL,
    year     INTEGER NOT NULL,
    film_id  INTEGER NOT NULL,
    viewings INTEGER NOT NULL,
    PRIMARY KEY (guild_id, year, film_id)
) WITHOUT ROWID;

INSERT INTO member_years (guild_id, year, user_id, viewings)
SELECT guild_id, CAST(substr(watched_on, 1, 4) AS INTEGER) AS y, user_id, count(*) FROM viewings
WHERE watched_on IS NOT NULL GROUP BY guild_id, y, user_id;
INSERT INTO film_years (guild_id, year, film_id, viewings)
SELECT guild_id, CAST(substr(watched_on, 1, 4) AS INTEGER) AS y, film_id, count(*) FROM viewings
WHERE watched_on IS NOT NULL GROUP BY guild_id, y, film_id;

-- A viewing counted in (+1) or out (-1) of its year: the triggers' one procedure.
CREATE VIEW viewing_year_change (guild_id, year, user_id, film_id, change) AS
SELECT guild_id, 0, user_id, film_id, 0 FROM viewings WHERE 0;
CREATE TRIGGER viewing_year_change INSTEAD OF INSERT ON viewing_year_change
WHEN NEW.year IS NOT NULL
BEGIN
    INSERT INTO member_years (guild_id, year, user_id, viewings)
    VALUES (NEW.guild_id, NEW.year, NEW.user_id, NEW.change)
    ON CONFLICT (guild_id, year, user_id) DO UPDATE SET viewings = viewings + NEW.change;
    DELETE FROM member_years
    WHERE guild_id = NEW.guild_id AND year = NEW.year AND user_id = NEW.user_id AND viewings = 0;
    INSERT INTO film_years (guild_id, year, film_id, viewings)
    VALUES (NEW.guild_id, NEW.year, NEW.film_id, NEW.change)
    ON CONFLICT (guild_id, year, film_id) DO UPDATE SET viewings = viewings + NEW.change;
    DELETE FROM film_years
    WHERE guild_id = NEW.guild_id AND year = NEW.year AND film_id = NEW.film_id AND viewings = 0;
END;

CREATE TRIGGER viewings_added_year AFTER INSERT ON viewings
BEGIN
    INSERT INTO viewing_year_change VALUES (NEW.guild_id,
        CAST(substr(NEW.watched_on, 1, 4) AS INTEGER), NEW.user_id, NEW.film_id, 1);
END;
CREATE TRIGGER viewings_removed_year AFTER DELETE ON viewings
BEGIN
    INSERT INTO viewing_year_change VALUES (OLD.guild_id,
        CAST(substr(OLD.watched_on, 1, 4) AS INTEGER), OLD.user_id, OLD.film_id, -1);
END;
CREATE TRIGGER viewings_changed_year AFTER UPDATE OF guild_id, user_id, film_id, watched_on
ON viewings
WHEN (OLD.guild_id, OLD.user_id, OLD.film_id, OLD.watched_on)
    IS NOT (NEW.guild_id, NEW.user_id, NEW.film_id, NEW.watched_on)
BEGIN
    INSERT INTO viewing_year_change VALUES (OLD.guild_id,
        CAST(substr(OLD.watched_on, 1, 4) AS INTEGER), OLD.user_id, OLD.film_id, -1);
    INSERT INTO viewing_year_change VALUES (NEW.guild_id,
        CAST(substr(NEW.watched_on, 1, 4) AS INTEGER), NEW.user_id, NEW.film_id, 1);
END;
