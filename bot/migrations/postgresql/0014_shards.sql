-- As SQLite's 0014: timers carry their server; processes record their shards and heartbeats;
-- logins are spaced.
ALTER TABLE timers ADD COLUMN guild_id BIGINT;

CREATE TABLE processes (
    name        TEXT PRIMARY KEY,
    shard_count INTEGER,
    shards      TEXT NOT NULL,
    version     TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    beat_at     BIGINT NOT NULL,
    beat_every  INTEGER NOT NULL
);

-- Logins (IDENTIFY) spaced across processes: the last one of each concurrency bucket.
CREATE TABLE identify_slots (
    bucket  INTEGER PRIMARY KEY,
    last_at DOUBLE PRECISION NOT NULL
);

-- Several processes hold reaction events: a member forgotten by one process (forget-me) keeps
-- none of the additions another commits afterwards from events queued before (since).
DROP FUNCTION apply_reaction_batch(
    BIGINT, INTEGER[], BIGINT[], BIGINT[], TEXT[], BIGINT[], TEXT[], BIGINT[], TEXT[], TEXT[]
);
CREATE FUNCTION apply_reaction_batch(
    batch_at BIGINT, queued_since BIGINT, event_added INTEGER[], event_messages BIGINT[],
    event_members BIGINT[], event_emoji TEXT[], cleared_messages BIGINT[], cleared_emoji TEXT[],
    deleted_messages BIGINT[], emoji_keys TEXT[], emoji_names TEXT[]
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reactions r
        USING unnest(cleared_messages, cleared_emoji) AS c (message_id, emoji)
        WHERE r.message_id = c.message_id AND (c.emoji IS NULL OR r.emoji = c.emoji);
    DELETE FROM reactions r
        USING unnest(event_added, event_messages, event_members, event_emoji)
            AS e (added, message_id, user_id, emoji)
        WHERE e.added = 0 AND r.message_id = e.message_id AND r.user_id = e.user_id
        AND r.emoji = e.emoji;
    INSERT INTO reactions (message_id, user_id, emoji, created_at)
        SELECT e.message_id, e.user_id, e.emoji, batch_at
        FROM unnest(event_added, event_messages, event_members, event_emoji)
            AS e (added, message_id, user_id, emoji)
        WHERE e.added = 1 AND NOT EXISTS (
            SELECT 1 FROM forgotten_members f
            WHERE f.user_id = e.user_id AND f.forgotten_at >= queued_since
        )
        ON CONFLICT DO NOTHING;
    UPDATE tracked_messages SET deleted_at = batch_at WHERE message_id = ANY (deleted_messages);
    INSERT INTO emojis (key, display)
        SELECT * FROM unnest(emoji_keys, emoji_names)
        ON CONFLICT (key) DO UPDATE SET display = excluded.display;
END $$;
