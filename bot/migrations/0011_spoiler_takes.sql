-- Whether takes posted in the thread while the week runs are hidden as spoilers (the default),
-- so a member who has not watched the film yet can read the thread safely.
ALTER TABLE guild_settings ADD COLUMN spoiler_takes INTEGER NOT NULL DEFAULT 1;
