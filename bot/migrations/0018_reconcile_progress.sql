-- Reconciling reactions after downtime, in proportion to it, kept across restarts.
-- Per server: when a process last followed its events live (its heartbeat, or the moment it
-- stopped cleanly), and which process reconciles it now (a claim its heartbeat renews).
CREATE TABLE reconcile_servers (
    guild_id     INTEGER PRIMARY KEY,
    seen_at      INTEGER,           -- NULL: never known (a full pass, most alive posts first)
    owner        TEXT,              -- the process reconciling the server, NULL when none
    owner_until  INTEGER,           -- the claim lapses then unless the owner's heartbeat renews it
    plan_after   INTEGER,           -- while a claim is planned: posts alive since then are queued
    week_after   INTEGER            -- the same for the running week's posts
);
CREATE INDEX reconcile_servers_owner ON reconcile_servers (owner) WHERE owner IS NOT NULL;

-- The posts still to compare with Discord, most alive first: progress survives a restart.
CREATE TABLE reconcile_queue (
    message_id INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    posted_at  INTEGER NOT NULL,
    rank       INTEGER NOT NULL      -- the post's last sign of life (running weeks' posts above)
);
CREATE INDEX reconcile_queue_rank ON reconcile_queue (rank, message_id);

-- What each process's reconciliation has done so far (`python -m bot status`).
CREATE TABLE reconcile_runs (
    process    TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL,
    planned    INTEGER NOT NULL,
    posts      INTEGER NOT NULL,
    calls      INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
