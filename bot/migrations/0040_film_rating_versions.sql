-- Each film's ratings stamped with the server's rating version (0020) at their last change: a
-- process that keeps a server's latest ratings in memory (bot/diary/kept.py) reads again only
-- the films stamped with the version it holds or a later one, not all of the server's ratings.
ALTER TABLE film_ratings ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

DROP TRIGGER latest_ratings_added;
DROP TRIGGER latest_ratings_removed;

-- As in 0028, the film stamped with the version its change has just moved to.
CREATE TRIGGER latest_ratings_added AFTER INSERT ON latest_ratings
BEGIN
    INSERT INTO rating_versions (guild_id, version) VALUES (NEW.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = version + 1;
    INSERT INTO film_rating_counts (guild_id, film_id, rating, members)
    VALUES (NEW.guild_id, NEW.film_id, NEW.rating, 1)
    ON CONFLICT (guild_id, film_id, rating) DO UPDATE SET members = members + 1;
    INSERT INTO film_ratings (guild_id, film_id, raters, total, squares, differences, version)
    VALUES (NEW.guild_id, NEW.film_id, 1, NEW.rating, NEW.rating * NEW.rating, 0,
            (SELECT version FROM rating_versions WHERE guild_id = NEW.guild_id))
    ON CONFLICT (guild_id, film_id) DO UPDATE SET raters = raters + 1,
        total = total + NEW.rating, squares = squares + NEW.rating * NEW.rating,
        differences = differences + (
            SELECT sum(c.members * abs(c.rating - NEW.rating)) FROM film_rating_counts c
            WHERE c.guild_id = NEW.guild_id AND c.film_id = NEW.film_id
        ),
        version = excluded.version;
END;

CREATE TRIGGER latest_ratings_removed AFTER DELETE ON latest_ratings
BEGIN
    INSERT INTO rating_versions (guild_id, version) VALUES (OLD.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = version + 1;
    UPDATE film_rating_counts SET members = members - 1
    WHERE guild_id = OLD.guild_id AND film_id = OLD.film_id AND rating = OLD.rating;
    DELETE FROM film_rating_counts
    WHERE guild_id = OLD.guild_id AND film_id = OLD.film_id AND rating = OLD.rating
      AND members = 0;
    UPDATE film_ratings SET raters = raters - 1, total = total - OLD.rating,
        squares = squares - OLD.rating * OLD.rating,
        differences = differences - coalesce((
            SELECT sum(c.members * abs(c.rating - OLD.rating)) FROM film_rating_counts c
            WHERE c.guild_id = OLD.guild_id AND c.film_id = OLD.film_id
        ), 0),
        version = (SELECT version FROM rating_versions WHERE guild_id = OLD.guild_id)
    WHERE guild_id = OLD.guild_id AND film_id = OLD.film_id;
    DELETE FROM film_ratings WHERE guild_id = OLD.guild_id AND film_id = OLD.film_id AND raters = 0;
END;
