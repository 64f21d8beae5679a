-- Members' own film life. A film is known by its folded title and its year (Letterboxd exports
-- carry no ids); a film made here from an older week has no key yet (NULL) until the bot's
-- start gives it one (bot/diary/service.py `key_films`), since folding is Python's.
CREATE TABLE films (
    id        INTEGER PRIMARY KEY,
    title     TEXT NOT NULL,
    title_key TEXT,
    year      INTEGER
);
CREATE UNIQUE INDEX films_by_key ON films (title_key, coalesce(year, 0));

-- A viewing (a diary entry): a member watched a film on a day (in the server's zone; NULL for a
-- film rated or watched with no date, as Letterboxd's ratings.csv and watched.csv have them),
-- with a rating in half stars (1 = ½ … 10 = ★★★★★). A week's rating is the viewing with its
-- `week_id` (one a member per week), its take the review. `number` names the entry to its
-- member in their diary; `source` is what an imported entry came from, so an import is never
-- added twice.
CREATE TABLE viewings (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    number          INTEGER NOT NULL,
    film_id         INTEGER NOT NULL REFERENCES films (id),
    watched_on      TEXT,
    rating          INTEGER CHECK (rating BETWEEN 1 AND 10),
    rewatch         INTEGER NOT NULL DEFAULT 0,
    review          TEXT,
    spoilers        INTEGER NOT NULL DEFAULT 0,
    tags            TEXT,
    week_id         INTEGER REFERENCES weeks (id),
    take_message_id INTEGER,
    source          TEXT,
    logged_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX viewings_numbered ON viewings (guild_id, user_id, number);
CREATE UNIQUE INDEX viewings_of_week ON viewings (week_id, user_id) WHERE week_id IS NOT NULL;
CREATE UNIQUE INDEX viewings_imported ON viewings (guild_id, user_id, source) WHERE source IS NOT NULL;
CREATE INDEX viewings_diary ON viewings (guild_id, user_id, watched_on);
CREATE INDEX viewings_of_film ON viewings (guild_id, film_id);

-- Ratings were whole stars 1 to 5: each becomes its week's viewing, the same stars in halves,
-- on the day it was given (UTC: SQLite knows no time zones), its take the review, hidden as a
-- spoiler as takes are.
INSERT INTO films (title, title_key, year)
SELECT DISTINCT w.title, NULL, w.year FROM weeks w WHERE w.id IN (SELECT week_id FROM ratings);
INSERT INTO viewings (guild_id, user_id, number, film_id, watched_on, rating, review, spoilers,
                      week_id, take_message_id, logged_at)
SELECT w.guild_id, r.user_id,
       row_number() OVER (PARTITION BY w.guild_id, r.user_id ORDER BY r.rated_at, r.week_id),
       (SELECT f.id FROM films f WHERE f.title = w.title AND f.year IS w.year),
       date(r.rated_at, 'unixepoch'), r.stars * 2, r.take, 1, r.week_id, r.take_message_id,
       r.rated_at
FROM ratings r JOIN weeks w ON w.id = r.week_id;
DROP TABLE ratings;

-- Films a member wants to see.
CREATE TABLE watchlist (
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    film_id  INTEGER NOT NULL REFERENCES films (id),
    added_at INTEGER NOT NULL,
    source   TEXT,
    PRIMARY KEY (guild_id, user_id, film_id)
);
CREATE INDEX watchlist_of_film ON watchlist (guild_id, film_id);

-- Members who keep their diary and watchlist to themselves in a server (`/diary privacy`).
CREATE TABLE diary_privacy (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    private_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
