-- As SQLite's 0040: each film's ratings stamped with the server's rating version at their last
-- change, for the processes that keep a server's latest ratings in memory (bot/diary/kept.py).
-- Stamped as each row is written, whatever writes it: the row triggers, a member's import and
-- `latest_ratings_rebuild` (run by `db port` into an empty database, before any process reads).
ALTER TABLE film_ratings ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION film_ratings_stamped() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := coalesce(
        (SELECT version FROM rating_versions WHERE guild_id = NEW.guild_id), 0
    );
    RETURN NEW;
END $$;

CREATE TRIGGER film_ratings_stamped BEFORE INSERT OR UPDATE OF raters, total, squares, differences
    ON film_ratings FOR EACH ROW EXECUTE FUNCTION film_ratings_stamped();

-- As in 0028, the server's version moved first, as the row triggers move it: the films are
-- stamped with the version the import ends at, and the server's row of versions, locked until
-- the import commits, holds back every other change of the server's ratings meanwhile. Moved
-- last, another member's rating committed between the films' writes and the version's move
-- left a process holding a version above the import's films, which it then never read again.
CREATE OR REPLACE FUNCTION latest_ratings_of_member(g BIGINT, u BIGINT) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('projectionist.bulk', 'on', true);
    INSERT INTO rating_versions (guild_id, version) VALUES (g, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = rating_versions.version + 1;
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
    PERFORM set_config('projectionist.bulk', 'off', true);
END $$;
