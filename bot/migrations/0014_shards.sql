-- Shards own servers: a timer carries its server (NULL: one for the whole cluster), so a process
-- claims only the timers of the servers its shards hold (jobs carry theirs already).
ALTER TABLE timers ADD COLUMN guild_id INTEGER;

-- Each running process, its shards and its last heartbeat (`python -m bot status`).
CREATE TABLE processes (
    name        TEXT PRIMARY KEY,
    shard_count INTEGER,
    shards      TEXT NOT NULL,   -- "0,1" or "all"
    version     TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    beat_at     INTEGER NOT NULL,
    beat_every  INTEGER NOT NULL  -- seconds between its heartbeats
);

-- Logins (IDENTIFY) spaced across the processes of a sharded bot: the last one of each
-- concurrency bucket.
CREATE TABLE identify_slots (
    bucket  INTEGER PRIMARY KEY,
    last_at REAL NOT NULL
);
