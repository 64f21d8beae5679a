-- A recorder sends its next batch of reactions while the one before is still being written, on
-- another connection of the pool (bot/reactions/recorder.py): the server, not a round trip
-- through the bot's busy event loop, starts it the moment the one before commits. Each batch
-- names the batch it follows, and the writer's row here holds the last batch written: a batch
-- waits for the one it follows (that batch holds the row until it commits) and fails if that
-- one was not written, so no batch is ever written before or without the one it follows. A
-- batch sent with nothing being written follows none.
CREATE TABLE reaction_writers (
    writer BIGINT PRIMARY KEY,  -- chosen at random by each recorder
    batch  BIGINT NOT NULL,
    at     BIGINT NOT NULL      -- its last batch's time: a writer gone for long is removed
);

-- A writer's row made before its first batch (a batch that follows another updates the row,
-- which must be there already), and the rows of writers gone since `gone_before` removed.
CREATE FUNCTION reaction_writer_joined(joining BIGINT, joined_at BIGINT, gone_before BIGINT)
RETURNS void LANGUAGE sql AS $$
    DELETE FROM reaction_writers WHERE at < gone_before;
    INSERT INTO reaction_writers (writer, batch, at) VALUES (joining, 0, joined_at)
        ON CONFLICT (writer) DO NOTHING;
$$;

CREATE FUNCTION apply_reaction_batch_in_turn(
    batch_writer BIGINT, batch_number BIGINT, batch_follows BIGINT,
    batch_at BIGINT, queued_since BIGINT, event_added INTEGER[], event_messages BIGINT[],
    event_members BIGINT[], event_emoji TEXT[], cleared_messages BIGINT[], cleared_emoji TEXT[],
    deleted_messages BIGINT[], emoji_keys TEXT[], emoji_names TEXT[]
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    written BIGINT;
BEGIN
    IF batch_follows IS NULL THEN
        INSERT INTO reaction_writers (writer, batch, at) VALUES (batch_writer, batch_number, batch_at)
            ON CONFLICT (writer) DO UPDATE SET batch = excluded.batch, at = excluded.at;
    ELSE
        -- Waits while the batch it follows holds the row, then reads the row as that batch
        -- left it. (An update whose condition named the batch would not wait: the row as its
        -- snapshot shows it, before that batch, would not match.)
        SELECT batch INTO written FROM reaction_writers WHERE writer = batch_writer FOR UPDATE;
        IF written IS DISTINCT FROM batch_follows THEN
            -- Not written, or not at the server yet (sent first, it came second): the
            -- recorder sends it again once it knows which (bot/reactions/recorder.py).
            RAISE EXCEPTION 'reaction batch % follows batch %, which was not written',
                batch_number, batch_follows USING ERRCODE = 'PJ001';
        END IF;
        UPDATE reaction_writers SET batch = batch_number, at = batch_at
            WHERE writer = batch_writer;
    END IF;
    -- Its statements each see what the batch it followed committed (read committed: a new
    -- snapshot a statement).
    PERFORM apply_reaction_batch(
        batch_at, queued_since, event_added, event_messages, event_members, event_emoji,
        cleared_messages, cleared_emoji, deleted_messages, emoji_keys, emoji_names
    );
END $$;
