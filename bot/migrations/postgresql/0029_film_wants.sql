-- As SQLite's 0029: how many members have each film on their watchlist in each server, kept by
-- a trigger wherever a watchlist changes, read by `/watchlist club` and `/film start`'s
-- suggestions instead of counting every watchlist.
CREATE TABLE film_wants (
    guild_id BIGINT NOT NULL,
    film_id  BIGINT NOT NULL,
    members  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, film_id)
);
CREATE INDEX film_wants_most ON film_wants (guild_id, members);

DROP INDEX watchlist_of_film;
CREATE INDEX watchlist_of_film ON watchlist (guild_id, film_id, added_at, user_id);

CREATE FUNCTION watchlist_wanted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.guild_id, OLD.film_id) IS NOT DISTINCT FROM
                            (NEW.guild_id, NEW.film_id) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM film_wants
        WHERE guild_id = OLD.guild_id AND film_id = OLD.film_id AND members = 1;
        IF NOT FOUND THEN
            UPDATE film_wants SET members = members - 1
            WHERE guild_id = OLD.guild_id AND film_id = OLD.film_id;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO film_wants AS w (guild_id, film_id, members)
        VALUES (NEW.guild_id, NEW.film_id, 1)
        ON CONFLICT (guild_id, film_id) DO UPDATE SET members = w.members + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER watchlist_wanted AFTER INSERT OR DELETE OR UPDATE OF guild_id, film_id
    ON watchlist FOR EACH ROW EXECUTE FUNCTION watchlist_wanted();

-- Every server's counts made again in one pass: for this migration and after a bulk copy
-- (`db port`), whose rows are copied with the trigger off.
CREATE FUNCTION film_wants_rebuild() RETURNS void LANGUAGE sql AS $$
    DELETE FROM film_wants;
    INSERT INTO film_wants (guild_id, film_id, members)
    SELECT guild_id, film_id, count(*) FROM watchlist GROUP BY guild_id, film_id;
$$;

SELECT film_wants_rebuild();
