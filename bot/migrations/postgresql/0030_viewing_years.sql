-- As SQLite's 0030: how many viewings each member logged in each year, and each film, in each
-- server (the year of the day watched; undated viewings have none), kept by a trigger wherever a
-- viewing is written, read by the club's year instead of the year's viewings.
CREATE TABLE member_years (
    guild_id BIGINT NOT NULL,
    year     INTEGER NOT NULL,
    user_id  BIGINT NOT NULL,
    viewings INTEGER NOT NULL,
    PRIMARY KEY (guild_id, year, user_id)
);
CREATE TABLE film_years (
    guild_id BIGINT NOT NULL,
    year     INTEGER NOT NULL,
    film_id  BIGINT NOT NULL,
    viewings INTEGER NOT NULL,
    PRIMARY KEY (guild_id, year, film_id)
);

-- Viewings counted in (+1) or out (-1) of their years, from arrays: the trigger's rows, and a
-- member's import (bot/diary/latest.py), whose rows the trigger leaves to it.
CREATE FUNCTION viewing_years_moved(
    g BIGINT[], u BIGINT[], f BIGINT[], watched TEXT[], change INTEGER[]
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_years AS m (guild_id, year, user_id, viewings)
    SELECT v.guild_id, CAST(substr(v.watched_on, 1, 4) AS INTEGER) AS y, v.user_id, sum(v.change)
    FROM unnest(g, u, watched, change) AS v (guild_id, user_id, watched_on, change)
    WHERE v.watched_on IS NOT NULL GROUP BY 1, 2, 3 HAVING sum(v.change) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (guild_id, year, user_id) DO UPDATE SET viewings = m.viewings + EXCLUDED.viewings;
    INSERT INTO film_years AS y (guild_id, year, film_id, viewings)
    SELECT v.guild_id, CAST(substr(v.watched_on, 1, 4) AS INTEGER) AS y, v.film_id, sum(v.change)
    FROM unnest(g, f, watched, change) AS v (guild_id, film_id, watched_on, change)
    WHERE v.watched_on IS NOT NULL GROUP BY 1, 2, 3 HAVING sum(v.change) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (guild_id, year, film_id) DO UPDATE SET viewings = y.viewings + EXCLUDED.viewings;
    IF NOT EXISTS (SELECT 1 FROM unnest(change) AS c WHERE c < 0) THEN
        RETURN;  -- only added: no count has come down to zero
    END IF;
    DELETE FROM member_years m USING unnest(g, u, watched) AS v (guild_id, user_id, watched_on)
    WHERE m.viewings = 0 AND m.guild_id = v.guild_id AND m.user_id = v.user_id
      AND m.year = CAST(substr(v.watched_on, 1, 4) AS INTEGER);
    DELETE FROM film_years y USING unnest(g, f, watched) AS v (guild_id, film_id, watched_on)
    WHERE y.viewings = 0 AND y.guild_id = v.guild_id AND y.film_id = v.film_id
      AND y.year = CAST(substr(v.watched_on, 1, 4) AS INTEGER);
END $$;

-- While `projectionist.bulk` is on (a member's import), the rows are counted by the import.
CREATE FUNCTION viewings_year() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('projectionist.bulk', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM viewing_years_moved(ARRAY[NEW.guild_id], ARRAY[NEW.user_id], ARRAY[NEW.film_id],
                                    ARRAY[NEW.watched_on], ARRAY[1]);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM viewing_years_moved(ARRAY[OLD.guild_id], ARRAY[OLD.user_id], ARRAY[OLD.film_id],
                                    ARRAY[OLD.watched_on], ARRAY[-1]);
    ELSIF (OLD.guild_id, OLD.user_id, OLD.film_id, OLD.watched_on)
          IS DISTINCT FROM (NEW.guild_id, NEW.user_id, NEW.film_id, NEW.watched_on) THEN
        PERFORM viewing_years_moved(
            ARRAY[OLD.guild_id, NEW.guild_id], ARRAY[OLD.user_id, NEW.user_id],
            ARRAY[OLD.film_id, NEW.film_id], ARRAY[OLD.watched_on, NEW.watched_on], ARRAY[-1, 1]
        );
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER viewings_year AFTER INSERT OR DELETE
    OR UPDATE OF guild_id, user_id, film_id, watched_on
    ON viewings FOR EACH ROW EXECUTE FUNCTION viewings_year();

-- Every server's counts made again in one pass: for this migration and after a bulk copy
-- (`db port`), whose rows are copied with the trigger off.
CREATE FUNCTION viewing_years_rebuild() RETURNS void LANGUAGE sql AS $$
    DELETE FROM member_years;
    DELETE FROM film_years;
    INSERT INTO member_years (guild_id, year, user_id, viewings)
    SELECT guild_id, CAST(substr(watched_on, 1, 4) AS INTEGER) AS y, user_id, count(*)
    FROM viewings WHERE watched_on IS NOT NULL GROUP BY guild_id, y, user_id;
    INSERT INTO film_years (guild_id, year, film_id, viewings)
    SELECT guild_id, CAST(substr(watched_on, 1, 4) AS INTEGER) AS y, film_id, count(*)
    FROM viewings WHERE watched_on IS NOT NULL GROUP BY guild_id, y, film_id;
$$;

SELECT viewing_years_rebuild();
