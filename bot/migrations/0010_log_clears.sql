-- Clears go through the log too, so every batch of reaction events has one write path: a row of
-- the log may hold its batch's clears, a JSON array of [message_id, emoji or null], which the
-- merge applies in order with the events (an event logged before a clear of its post is void).
ALTER TABLE reaction_log ADD COLUMN cleared TEXT;

DROP TRIGGER reaction_log_append;
DROP VIEW reaction_log_batch;
CREATE VIEW reaction_log_batch (at, events, cleared, deleted, emojis) AS
    SELECT NULL, NULL, NULL, NULL, NULL WHERE 0;

CREATE TRIGGER reaction_log_append INSTEAD OF INSERT ON reaction_log_batch
BEGIN
    INSERT INTO reaction_log (at, events, cleared)
        SELECT NEW.at, coalesce(NEW.events, '[]'), NEW.cleared
        WHERE NEW.events IS NOT NULL OR NEW.cleared IS NOT NULL;
    UPDATE tracked_messages SET deleted_at = NEW.at
        WHERE message_id IN (SELECT value FROM json_each(NEW.deleted));
    INSERT INTO emojis (key, display)
        SELECT value ->> 0, value ->> 1 FROM json_each(NEW.emojis) WHERE true
        ON CONFLICT (key) DO UPDATE SET display = excluded.display;
END;

-- The logged clears one per row.
CREATE VIEW reaction_log_clears (seq, message_id, emoji) AS
    SELECT l.seq, c.value ->> 0, c.value ->> 1
    FROM reaction_log l, json_each(l.cleared) c WHERE l.cleared IS NOT NULL;

-- The second write path of migration 0004, no longer used.
DROP TRIGGER reaction_batch_apply;
DROP VIEW reaction_batch;
