-- Reaction events are appended to a log when they are committed, and merged into `reactions`
-- later in runs sorted by post. Written straight into `reactions`, events spread over tens of
-- thousands of posts each dirtied a page of their own; a batch appended to the log is one row,
-- and a merge writes each page of `reactions` it touches once for all its rows.
CREATE TABLE reaction_log (
    seq    INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    -- A JSON array of [added, message_id, user_id, emoji], added being 1 or 0 (removed); a
    -- reaction appears at most once in a batch.
    events TEXT NOT NULL
);

-- A batch appended by one statement, as with `reaction_batch` (migration 0004). Clears are not
-- logged: the recorder merges the log first and applies a batch holding clears through
-- `reaction_batch`. Deleted posts and emoji names are applied at once.
CREATE VIEW reaction_log_batch (at, events, deleted, emojis) AS
    SELECT NULL, NULL, NULL, NULL WHERE 0;

CREATE TRIGGER reaction_log_append INSTEAD OF INSERT ON reaction_log_batch
BEGIN
    INSERT INTO reaction_log (at, events) SELECT NEW.at, NEW.events WHERE NEW.events IS NOT NULL;
    UPDATE tracked_messages SET deleted_at = NEW.at
        WHERE message_id IN (SELECT value FROM json_each(NEW.deleted));
    INSERT INTO emojis (key, display)
        SELECT value ->> 0, value ->> 1 FROM json_each(NEW.emojis) WHERE true
        ON CONFLICT (key) DO UPDATE SET display = excluded.display;
END;

-- The logged events one per row, in the order they came.
CREATE VIEW reaction_log_events (seq, message_id, user_id, emoji, added, at) AS
    SELECT l.seq, e.value ->> 1, e.value ->> 2, e.value ->> 3, e.value ->> 0, l.at
    FROM reaction_log l, json_each(l.events) e;

-- The last logged event of each (post, member, emoji): SQLite takes the other columns from the
-- row holding max(seq).
CREATE VIEW reaction_log_last (message_id, user_id, emoji, added, at, seq) AS
    SELECT message_id, user_id, emoji, added, at, max(seq) FROM reaction_log_events
    GROUP BY message_id, user_id, emoji;
