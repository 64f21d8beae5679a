-- Each member's latest rating of each film, how many members gave each film each rating and
-- each film's sums, kept by triggers wherever a viewing is written (logged, edited, removed, imported, a week's
-- film changed, films merged, a member forgotten) and when a week ends (its ratings count from
-- then): `/taste`, `/stats films` and the year read these instead of every viewing.
-- A rating counts when it is the member's latest rated viewing of the film (undated ones last,
-- then by day, then by entry number) and is not a running week's rating.
CREATE TABLE latest_ratings (
    guild_id INTEGER NOT NULL,
    film_id  INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    rating   INTEGER NOT NULL,
    PRIMARY KEY (guild_id, film_id, user_id)
) WITHOUT ROWID;
CREATE INDEX latest_ratings_of_member ON latest_ratings (guild_id, user_id, film_id, rating);

CREATE TABLE film_rating_counts (
    guild_id INTEGER NOT NULL,
    film_id  INTEGER NOT NULL,
    rating   INTEGER NOT NULL,
    members  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, film_id, rating)
) WITHOUT ROWID;

-- Each film's raters, the sum of their ratings and of their squares: the club's films ranked
-- without reading every rating.
CREATE TABLE film_ratings (
    guild_id INTEGER NOT NULL,
    film_id  INTEGER NOT NULL,
    raters   INTEGER NOT NULL,
    total    INTEGER NOT NULL,
    squares  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, film_id)
) WITHOUT ROWID;

-- How many times a server's latest ratings have changed: a figure counted from all of them is
-- kept until this moves (bot/diary/taste.py).
CREATE TABLE rating_versions (
    guild_id INTEGER PRIMARY KEY,
    version  INTEGER NOT NULL
);

-- A member's viewings of one film are found without scanning the film's other raters.
DROP INDEX viewings_of_film;
CREATE INDEX viewings_of_film ON viewings (guild_id, film_id, user_id);

INSERT INTO latest_ratings (guild_id, film_id, user_id, rating)
SELECT guild_id, film_id, user_id, rating FROM (
    SELECT v.guild_id, v.film_id, v.user_id, v.rating,
           row_number() OVER (PARTITION BY v.guild_id, v.user_id, v.film_id
                              ORDER BY v.watched_on IS NULL, v.watched_on DESC, v.number DESC) AS nth
    FROM viewings v LEFT JOIN weeks w ON w.id = v.week_id
    WHERE v.rating IS NOT NULL AND (v.week_id IS NULL OR w.ended_at IS NOT NULL)
) WHERE nth = 1;

INSERT INTO film_rating_counts (guild_id, film_id, rating, members)
SELECT guild_id, film_id, rating, count(*) FROM latest_ratings GROUP BY guild_id, film_id, rating;
INSERT INTO film_ratings (guild_id, film_id, raters, total, squares)
SELECT guild_id, film_id, count(*), sum(rating), sum(rating * rating) FROM latest_ratings
GROUP BY guild_id, film_id;

-- A view whose insert recounts one member's latest rating of one film: the triggers' one
-- procedure.
CREATE VIEW latest_rating_refresh (guild_id, user_id, film_id) AS
SELECT guild_id, user_id, film_id FROM latest_ratings WHERE 0;

CREATE TRIGGER latest_rating_refresh INSTEAD OF INSERT ON latest_rating_refresh
BEGIN
    DELETE FROM latest_ratings
    WHERE guild_id = NEW.guild_id AND film_id = NEW.film_id AND user_id = NEW.user_id;
    INSERT INTO latest_ratings (guild_id, film_id, user_id, rating)
    SELECT v.guild_id, v.film_id, v.user_id, v.rating
    FROM viewings v LEFT JOIN weeks w ON w.id = v.week_id
    WHERE v.guild_id = NEW.guild_id AND v.film_id = NEW.film_id AND v.user_id = NEW.user_id
      AND v.rating IS NOT NULL AND (v.week_id IS NULL OR w.ended_at IS NOT NULL)
    ORDER BY v.watched_on IS NULL, v.watched_on DESC, v.number DESC
    LIMIT 1;
END;

CREATE TRIGGER viewings_added_latest AFTER INSERT ON viewings
BEGIN
    INSERT INTO latest_rating_refresh VALUES (NEW.guild_id, NEW.user_id, NEW.film_id);
END;

CREATE TRIGGER viewings_removed_latest AFTER DELETE ON viewings
BEGIN
    INSERT INTO latest_rating_refresh VALUES (OLD.guild_id, OLD.user_id, OLD.film_id);
END;

CREATE TRIGGER viewings_changed_latest
AFTER UPDATE OF guild_id, user_id, film_id, watched_on, rating, number, week_id ON viewings
BEGIN
    INSERT INTO latest_rating_refresh VALUES (OLD.guild_id, OLD.user_id, OLD.film_id);
    INSERT INTO latest_rating_refresh
    SELECT NEW.guild_id, NEW.user_id, NEW.film_id
    WHERE (NEW.guild_id, NEW.user_id, NEW.film_id) IS NOT (OLD.guild_id, OLD.user_id, OLD.film_id);
END;

CREATE TRIGGER weeks_ended_latest AFTER UPDATE OF ended_at ON weeks
WHEN (OLD.ended_at IS NULL) <> (NEW.ended_at IS NULL)
BEGIN
    INSERT INTO latest_rating_refresh
    SELECT guild_id, user_id, film_id FROM viewings WHERE week_id = NEW.id;
END;

CREATE TRIGGER latest_ratings_added AFTER INSERT ON latest_ratings
BEGIN
    INSERT INTO rating_versions (guild_id, version) VALUES (NEW.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = version + 1;
    INSERT INTO film_rating_counts (guild_id, film_id, rating, members)
    VALUES (NEW.guild_id, NEW.film_id, NEW.rating, 1)
    ON CONFLICT (guild_id, film_id, rating) DO UPDATE SET members = members + 1;
    INSERT INTO film_ratings (guild_id, film_id, raters, total, squares)
    VALUES (NEW.guild_id, NEW.film_id, 1, NEW.rating, NEW.rating * NEW.rating)
    ON CONFLICT (guild_id, film_id) DO UPDATE SET raters = raters + 1,
        total = total + NEW.rating, squares = squares + NEW.rating * NEW.rating;
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
        squares = squares - OLD.rating * OLD.rating
    WHERE guild_id = OLD.guild_id AND film_id = OLD.film_id;
    DELETE FROM film_ratings WHERE guild_id = OLD.guild_id AND film_id = OLD.film_id AND raters = 0;
END;
