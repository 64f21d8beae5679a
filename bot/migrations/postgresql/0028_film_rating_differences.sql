-- As SQLite's 0028: each film's sum of the differences between every two of its raters' latest
-- ratings, in half stars, kept beside its other sums, so that the club's typical agreement is
-- read from a row a film instead of counted from every film's ratings at each change of one.
ALTER TABLE film_ratings ADD COLUMN differences BIGINT NOT NULL DEFAULT 0;

-- Every film's differences counted from how many members gave it each rating (a film with one
-- rating among its raters keeps 0): for this migration and after `latest_ratings_rebuild`.
CREATE FUNCTION film_ratings_differences() RETURNS void LANGUAGE sql AS $$
    UPDATE film_ratings r SET differences = d.differences
    FROM (
        SELECT a.guild_id, a.film_id, sum(a.members::bigint * b.members * (b.rating - a.rating))
            AS differences
        FROM film_rating_counts a JOIN film_rating_counts b
            ON b.guild_id = a.guild_id AND b.film_id = a.film_id AND b.rating > a.rating
        GROUP BY a.guild_id, a.film_id
    ) d
    WHERE r.guild_id = d.guild_id AND r.film_id = d.film_id;
$$;

SELECT film_ratings_differences();

-- A rating r joining or leaving a film adds or takes away its distance to each rating there,
-- Σ members(k) · |r − k| over the film's counts, whether or not it is among them yet (|r − r| = 0).
CREATE OR REPLACE FUNCTION latest_ratings_counted() RETURNS trigger LANGUAGE plpgsql AS $$
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
        INSERT INTO film_ratings (guild_id, film_id, raters, total, squares, differences)
        VALUES (NEW.guild_id, NEW.film_id, 1, NEW.rating, NEW.rating * NEW.rating, 0)
        ON CONFLICT (guild_id, film_id) DO UPDATE SET raters = film_ratings.raters + 1,
            total = film_ratings.total + NEW.rating,
            squares = film_ratings.squares + NEW.rating * NEW.rating,
            differences = film_ratings.differences + (
                SELECT sum(c.members::bigint * abs(c.rating - NEW.rating))
                FROM film_rating_counts c
                WHERE c.guild_id = NEW.guild_id AND c.film_id = NEW.film_id
            );
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
                squares = squares - OLD.rating * OLD.rating,
                differences = differences - coalesce((
                    SELECT sum(c.members::bigint * abs(c.rating - OLD.rating))
                    FROM film_rating_counts c
                    WHERE c.guild_id = OLD.guild_id AND c.film_id = OLD.film_id
                ), 0)
            WHERE guild_id = OLD.guild_id AND film_id = OLD.film_id;
        END IF;
    END IF;
    RETURN NULL;
END $$;

-- As in 0020, and the differences of each film the member rates counted again: an import only
-- adds viewings, so no film loses the member's rating.
CREATE OR REPLACE FUNCTION latest_ratings_of_member(g BIGINT, u BIGINT) RETURNS void
LANGUAGE plpgsql AS $$
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
    UPDATE film_ratings r SET differences = d.differences
    FROM (
        SELECT a.film_id,
            coalesce(sum(a.members::bigint * b.members * (b.rating - a.rating)), 0) AS differences
        FROM latest_ratings l JOIN film_rating_counts a ON a.guild_id = g AND a.film_id = l.film_id
        LEFT JOIN film_rating_counts b
            ON b.guild_id = g AND b.film_id = a.film_id AND b.rating > a.rating
        WHERE l.guild_id = g AND l.user_id = u GROUP BY a.film_id
    ) d
    WHERE r.guild_id = g AND r.film_id = d.film_id;
    INSERT INTO rating_versions (guild_id, version) VALUES (g, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = rating_versions.version + 1;
    PERFORM set_config('projectionist.bulk', 'off', true);
END $$;

-- As in 0020, the films' differences counted once the counts are made.
CREATE OR REPLACE FUNCTION latest_ratings_rebuild() RETURNS void LANGUAGE plpgsql AS $$
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
    INSERT INTO film_ratings (guild_id, film_id, raters, total, squares, differences)
    SELECT guild_id, film_id, count(*), sum(rating), sum(rating * rating), 0 FROM latest_ratings
    GROUP BY guild_id, film_id;
    PERFORM film_ratings_differences();
    INSERT INTO rating_versions (guild_id, version)
    SELECT DISTINCT guild_id, 1 FROM latest_ratings
    ON CONFLICT (guild_id) DO UPDATE SET version = rating_versions.version + 1;
    ALTER TABLE latest_ratings ENABLE TRIGGER latest_ratings_counted;
END $$;
