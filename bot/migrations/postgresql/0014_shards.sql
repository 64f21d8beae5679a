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
