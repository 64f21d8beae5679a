-- A server's viewings by the day they were watched, with the member and the film: the year's
-- viewings, films and members (`/stats year`) are read from a year's range of this index alone,
-- where every viewing of the server was read (the members' index holds no film, the films' no
-- day).
CREATE INDEX viewings_by_day ON viewings (guild_id, watched_on, user_id, film_id);
