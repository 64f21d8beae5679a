-- Whether a week opens a thread under its kickoff (the default) or runs in the channel itself,
-- its prompts and takes posted there; such a week's thread_id is its channel.
ALTER TABLE guild_settings ADD COLUMN threads INTEGER NOT NULL DEFAULT 1;
