-- A batch of reaction events applied by one statement: `INSERT INTO reaction_batch` with JSON
-- arrays runs the trigger below as a single atomic statement. The recorder then needs one round
-- trip to the database thread per batch instead of one per statement, and SQLite reads the
-- arrays itself, so the bot's event loop is not held row by row while a batch is written.
CREATE VIEW reaction_batch (at, cleared, cleared_emoji, removed, added, deleted, emojis) AS
    SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;

CREATE TRIGGER reaction_batch_apply INSTEAD OF INSERT ON reaction_batch
BEGIN
    -- Clears first: an add later in the same batch is in `added` and survives them.
    DELETE FROM reactions
        WHERE message_id IN (SELECT value FROM json_each(NEW.cleared));
    DELETE FROM reactions
        WHERE (message_id, emoji) IN
            (SELECT value ->> 0, value ->> 1 FROM json_each(NEW.cleared_emoji));
    DELETE FROM reactions
        WHERE (message_id, user_id, emoji) IN
            (SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(NEW.removed));
    INSERT OR IGNORE INTO reactions (message_id, user_id, emoji, created_at)
        SELECT value ->> 0, value ->> 1, value ->> 2, NEW.at FROM json_each(NEW.added);
    UPDATE tracked_messages SET deleted_at = NEW.at
        WHERE message_id IN (SELECT value FROM json_each(NEW.deleted));
    INSERT INTO emojis (key, display)
        SELECT value ->> 0, value ->> 1 FROM json_each(NEW.emojis) WHERE true
        ON CONFLICT (key) DO UPDATE SET display = excluded.display;
END;
