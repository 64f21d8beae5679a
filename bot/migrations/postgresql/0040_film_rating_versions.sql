-- As SQLite's 0040: each film's ratings stamped with the server's rating version at their last
-- change, for the processes that keep a server's latest ratings in memory (bot/diary/kept.py).
-- Stamped as each row is written, whatever writes it: the row triggers, which move the version
-- first, and a member's import and `latest_ratings_rebuild`, which move it last (a film then
-- carries the version before: a process reads again the films stamped with the version it holds
-- or a later one).
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
