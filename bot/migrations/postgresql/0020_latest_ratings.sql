-- As SQLite's 0020: each member's latest rating of each film, how many members gave each film
-- each rating and each film's sums, kept by triggers wherever a viewing is written and when a week ends.
CREATE TABLE latest_ratings (
    guild_id BIGINT NOT NULL,
    film_id  BIGINT NOT NULL,
    user_id  BIGINT NOT NULL,
    rating   INTEGER NOT NULL,
    -- the rating inside the key's index: a film's raters are read from the index alone
    PRIMARY KEY (guild_id, film_id, user_id) INCLUDE (rating)
);
CREATE INDEX latest_ratings_of_member ON latest_ratings (guild_id, user_id, film_id, rating);

CREATE TABLE film_rating_counts (
    guild_id BIGINT NOT NULL,
    film_id  BIGINT NOT NULL,
    rating   INTEGER NOT NULL,
    members  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, film_id, rating)
);

CREATE TABLE film_ratings (
    guild_id BIGINT NOT NULL,
    film_id  BIGINT NOT NULL,
    raters   INTEGER NOT NULL,
    total    INTEGER NOT NULL,
    squares  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, film_id)
);

CREATE TABLE rating_versions (
    guild_id BIGINT PRIMARY KEY,
    version  BIGINT NOT NULL
);

DROP INDEX viewings_of_film;
CREATE INDEX viewings_of_film ON viewings (guild_id, film_id, user_id);

CREATE FUNCTION latest_rating_refresh(g BIGINT, u BIGINT, f BIGINT) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM latest_ratings WHERE guild_id = g AND film_id = f AND user_id = u;
    INSERT INTO latest_ratings (guild_id, film_id, user_id, rating)
    SELECT v.guild_id, v.film_id, v.user_id, v.rating
    FROM viewings v LEFT JOIN weeks w ON w.id = v.week_id
    WHERE v.guild_id = g AND v.film_id = f AND v.user_id = u
      AND v.rating IS NOT NULL AND (v.week_id IS NULL OR w.ended_at IS NOT NULL)
    ORDER BY v.watched_on IS NULL, v.watched_on DESC, v.number DESC
    LIMIT 1;
$$;

-- While `projectionist.bulk` is on (a member's import, bot/diary/latest.py), the row triggers
-- stand aside and latest_ratings_of_member() counts the member's films again in one pass.
CREATE FUNCTION viewings_latest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('projectionist.bulk', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM latest_rating_refresh(OLD.guild_id, OLD.user_id, OLD.film_id);
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM latest_rating_refresh(NEW.guild_id, NEW.user_id, NEW.film_id);
    ELSIF TG_OP = 'UPDATE' THEN
        IF (NEW.guild_id, NEW.user_id, NEW.film_id)
           IS DISTINCT FROM (OLD.guild_id, OLD.user_id, OLD.film_id) THEN
            PERFORM latest_rating_refresh(NEW.guild_id, NEW.user_id, NEW.film_id);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER viewings_latest AFTER INSERT OR DELETE
    OR UPDATE OF guild_id, user_id, film_id, watched_on, rating, number, week_id
    ON viewings FOR EACH ROW EXECUTE FUNCTION viewings_latest();

CREATE FUNCTION weeks_ended_latest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM latest_rating_refresh(v.guild_id, v.user_id, v.film_id)
    FROM viewings v WHERE v.week_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER weeks_ended_latest AFTER UPDATE OF ended_at ON weeks FOR EACH ROW
    WHEN ((OLD.ended_at IS NULL) <> (NEW.ended_at IS NULL))
    EXECUTE FUNCTION weeks_ended_latest();

CREATE FUNCTION latest_ratings_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('projectionist.bulk', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO rating_versions (guild_id, version)
    VALUES (CASE WHEN TG_OP = 'INSERT' THEN NEW.guild_id ELSE OLD.guild_id END, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = rating_versions.version + 1;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO film_rating_counts (guild_id, film_id, rating, members)
        VALUES (NEW.guild_id, NEW.film_id, NEW.rating, 1)
        ON CONFLICT (guild_id, film_id, rating)
        DO UPDATE SET members = film_rating_counts.members + 1;
        INSERT INTO film_ratings (guild_id, film_id, raters, total, squares)
        VALUES (NEW.guild_id, NEW.film_id, 1, NEW.rating, NEW.rating * NEW.rating)
        ON CONFLICT (guild_id, film_id) DO UPDATE SET raters = film_ratings.raters + 1,
            total = film_ratings.total + NEW.rating,
            squares = film_ratings.squares + NEW.rating * NEW.rating;
    ELSE
        DELETE FROM film_rating_counts
        WHERE guild_id = OLD.guild_id AND film_id = OLD.film_id AND rating = OLD.rating
          AND members = 1;
        IF NOT FOUND THEN
            UPDATE film_rating_counts SET members = members - 1
            WHERE guild_id = OLD.guild_id AND film_id = OLD.film_id AND rating = OLD.rating;
        END IF;
        DELETE FROM film_ratings
        WHERE guild_id = OLD.guild_id AND film_id = OLD.film_id AND raters = 1;
        IF NOT FOUND THEN
            UPDATE film_ratings SET raters = raters - 1, total = total - OLD.rating,
                squares = squares - OLD.rating * OLD.rating
            WHERE guild_id = OLD.guild_id AND film_id = OLD.film_id;
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER latest_ratings_counted AFTER INSERT OR DELETE ON latest_ratings
    FOR EACH ROW EXECUTE FUNCTION latest_ratings_counted();

-- One member's latest ratings in one server made again in one pass, their counts moved by the
-- difference: after a member's import, where a trigger per row would take seconds.
CREATE FUNCTION latest_ratings_of_member(g BIGINT, u BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('projectionist.bulk', 'on', true);
    UPDATE film_rating_counts c SET members = c.members - 1 FROM latest_ratings l
    WHERE l.guild_id = g AND l.user_id = u AND c.guild_id = g AND c.film_id = l.film_id
      AND c.rating = l.rating;
    UPDATE film_ratings r SET raters = r.raters - 1, total = r.total - l.rating,
        squares = r.squares - l.rating * l.rating
    FROM latest_ratings l
    WHERE l.guild_id = g AND l.user_id = u AND r.guild_id = g AND r.film_id = l.film_id;
    DELETE FROM latest_ratings WHERE guild_id = g AND user_id = u;
    INSERT INTO latest_ratings (guild_id, film_id, user_id, rating)
    SELECT DISTINCT ON (v.film_id) v.guild_id, v.film_id, v.user_id, v.rating
    FROM viewings v LEFT JOIN weeks w ON w.id = v.week_id
    WHERE v.guild_id = g AND v.user_id = u AND v.rating IS NOT NULL
      AND (v.week_id IS NULL OR w.ended_at IS NOT NULL)
    ORDER BY v.film_id, v.watched_on IS NULL, v.watched_on DESC, v.number DESC;
    INSERT INTO film_rating_counts (guild_id, film_id, rating, members)
    SELECT guild_id, film_id, rating, 1 FROM latest_ratings WHERE guild_id = g AND user_id = u
    ON CONFLICT (guild_id, film_id, rating)
    DO UPDATE SET members = film_rating_counts.members + 1;
    INSERT INTO film_ratings (guild_id, film_id, raters, total, squares)
    SELECT guild_id, film_id, 1, rating, rating * rating FROM latest_ratings
    WHERE guild_id = g AND user_id = u
    ON CONFLICT (guild_id, film_id) DO UPDATE SET raters = film_ratings.raters + 1,
        total = film_ratings.total + EXCLUDED.total,
        squares = film_ratings.squares + EXCLUDED.squares;
    DELETE FROM film_rating_counts WHERE guild_id = g AND members = 0;
    DELETE FROM film_ratings WHERE guild_id = g AND raters = 0;
    INSERT INTO rating_versions (guild_id, version) VALUES (g, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = rating_versions.version + 1;
    PERFORM set_config('projectionist.bulk', 'off', true);
END $$;

-- Every server's latest ratings and counts made again in one pass, the row triggers off meanwhile:
-- for this migration and for a bulk copy (`db port`), where a trigger per row would take minutes.
CREATE FUNCTION latest_ratings_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    ALTER TABLE latest_ratings DISABLE TRIGGER latest_ratings_counted;
    TRUNCATE latest_ratings, film_rating_counts, film_ratings;
    INSERT INTO latest_ratings (guild_id, film_id, user_id, rating)
    SELECT DISTINCT ON (v.guild_id, v.user_id, v.film_id) v.guild_id, v.film_id, v.user_id, v.rating
    FROM viewings v LEFT JOIN weeks w ON w.id = v.week_id
    WHERE v.rating IS NOT NULL AND (v.week_id IS NULL OR w.ended_at IS NOT NULL)
    ORDER BY v.guild_id, v.user_id, v.film_id, v.watched_on IS NULL, v.watched_on DESC,
             v.number DESC;
    INSERT INTO film_rating_counts (guild_id, film_id, rating, members)
    SELECT guild_id, film_id, rating, count(*) FROM latest_ratings
    GROUP BY guild_id, film_id, rating;
    INSERT INTO film_ratings (guild_id, film_id, raters, total, squares)
    SELECT guild_id, film_id, count(*), sum(rating), sum(rating * rating) FROM latest_ratings
    GROUP BY guild_id, film_id;
    INSERT INTO rating_versions (guild_id, version)
    SELECT DISTINCT guild_id, 1 FROM latest_ratings
    ON CONFLICT (guild_id) DO UPDATE SET version = rating_versions.version + 1;
    ALTER TABLE latest_ratings ENABLE TRIGGER latest_ratings_counted;
END $$;

SELECT latest_ratings_rebuild();
