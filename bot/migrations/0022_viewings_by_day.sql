-- A server's viewings by the day they were watched, with the member and the film: the year's
-- viewings, films and members (`/stats year`) are read from this index alone, a year's range of
-- it, where they were read from every viewing of the server (the members' index holds no film,
-- the films' no day). Without statistics SQLite read them through the films' index and a row
-- lookup each: 1 s for the benchmark's 600,000 viewings, 0.1 s now.
CREATE INDEX viewings_by_day ON viewings (guild_id, watched_on, user_id, film_id);
