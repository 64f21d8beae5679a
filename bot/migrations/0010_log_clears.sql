-- Clears go through the log too, so every batch of reaction events has one write path: a row of
-- the log may hold its batch's clears, a JSON array of [message_id, emoji or null], which the
-- merge applies in order with the events (an event logged before a clear of its post is void).
ALTER TABLE reaction_log ADD COLUMN cleared TEXT;

-- A batch, clears included, appended by one statement. A batch with clears is logged here; the
-- rest (and deleted posts and emoji names) by the append of migration 0007.
CREATE VIEW reaction_log_entry (at, events, cleared, deleted, emojis) AS
    SELECT NULL, NULL, NULL, NULL, NULL WHERE 0;

CREATE TRIGGER reaction_log_entry_append INSTEAD OF INSERT ON reaction_log_entry
BEGIN
    INSERT INTO reaction_log (at, events, cleared)
        SELECT NEW.at, coalesce(NEW.events, '[]'), NEW.cleared WHERE NEW.cleared IS NOT NULL;
    INSERT INTO reaction_log_batch (at, events, deleted, emojis) VALUES (
        NEW.at, CASE WHEN NEW.cleared IS NULL THEN NEW.events END, NEW.deleted, NEW.emojis
    );
END;

-- The logged clears one per row.
CREATE VIEW reaction_log_clears (seq, message_id, emoji) AS
    SELECT l.seq, c.value ->> 0, c.value ->> 1
    FROM reaction_log l, json_each(l.cleared) c WHERE l.cleared IS NOT NULL;

-- The second write path of migration 0004, no longer used.
DROP TRIGGER reaction_batch_apply;
DROP VIEW reaction_batch;
