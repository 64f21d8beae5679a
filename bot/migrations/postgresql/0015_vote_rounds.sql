-- As SQLite's 0015: nominations left out of a full poll go first next time; polls are found by
-- their message.
ALTER TABLE nominations ADD COLUMN left_out INTEGER NOT NULL DEFAULT 0;
CREATE INDEX polls_by_message ON polls (message_id) WHERE message_id IS NOT NULL;
