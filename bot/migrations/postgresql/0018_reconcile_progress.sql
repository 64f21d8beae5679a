-- As SQLite's 0018: per server, when it was last followed live and who reconciles it; the posts
-- still to compare with Discord; each process's progress.
CREATE TABLE reconcile_servers (
    guild_id     BIGINT PRIMARY KEY,
    seen_at      BIGINT,
    owner        TEXT,
    owner_until  BIGINT,
    plan_after   BIGINT,
    week_after   BIGINT
);
CREATE INDEX reconcile_servers_owner ON reconcile_servers (owner) WHERE owner IS NOT NULL;

CREATE TABLE reconcile_queue (
    message_id BIGINT PRIMARY KEY,
    guild_id   BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    posted_at  BIGINT NOT NULL,
    rank       BIGINT NOT NULL
);
CREATE INDEX reconcile_queue_rank ON reconcile_queue (rank, message_id);

CREATE TABLE reconcile_runs (
    process    TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    planned    INTEGER NOT NULL,
    posts      INTEGER NOT NULL,
    calls      BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
