-- Durable timers: one dispatcher sleeps until the earliest unclaimed one.
CREATE TABLE timers (
    id         INTEGER PRIMARY KEY,
    due_at     INTEGER NOT NULL,
    event      TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    claimed_at INTEGER
);
CREATE INDEX timers_due ON timers (due_at, id) WHERE claimed_at IS NULL;

-- A server's film-of-the-week settings; defaults until a moderator sets them.
CREATE TABLE guild_settings (
    guild_id        INTEGER PRIMARY KEY,
    channel_id      INTEGER,
    timezone        TEXT NOT NULL DEFAULT 'UTC',
    prompt_time     TEXT NOT NULL DEFAULT '18:00',
    prompt_days     TEXT NOT NULL DEFAULT 'daily',
    length_days     INTEGER NOT NULL DEFAULT 7,
    last_failure    TEXT,
    last_failure_at INTEGER
);

CREATE TABLE weeks (
    id                  INTEGER PRIMARY KEY,
    guild_id            INTEGER NOT NULL,
    title               TEXT NOT NULL,
    year                INTEGER,
    essay_id            INTEGER REFERENCES essays (id),
    channel_id          INTEGER NOT NULL,
    kickoff_message_id  INTEGER,
    thread_id           INTEGER,
    started_by          INTEGER,
    started_at          INTEGER NOT NULL,
    ends_at             INTEGER NOT NULL,
    ended_at            INTEGER,
    digest_message_id   INTEGER,
    digest_channel_id   INTEGER,
    average_rating      REAL,
    rating_count        INTEGER
);
-- One running week per server, enforced by the database.
CREATE UNIQUE INDEX weeks_one_running ON weeks (guild_id) WHERE ended_at IS NULL;

-- Moderators' queued questions and what the bot posted (queued or drawn from the essay).
CREATE TABLE prompts (
    id          INTEGER PRIMARY KEY,
    week_id     INTEGER NOT NULL REFERENCES weeks (id),
    kind        TEXT NOT NULL CHECK (kind IN ('question', 'section')),
    text        TEXT NOT NULL,
    section_id  INTEGER REFERENCES sections (id),
    added_by    INTEGER,
    added_at    INTEGER NOT NULL,
    removed     INTEGER NOT NULL DEFAULT 0,
    posted_at   INTEGER,
    message_id  INTEGER
);
CREATE INDEX prompts_week ON prompts (week_id, posted_at);
CREATE UNIQUE INDEX prompts_section_once ON prompts (week_id, section_id) WHERE section_id IS NOT NULL;

CREATE TABLE ratings (
    week_id         INTEGER NOT NULL REFERENCES weeks (id),
    user_id         INTEGER NOT NULL,
    stars           INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
    take            TEXT,
    take_message_id INTEGER,
    rated_at        INTEGER NOT NULL,
    PRIMARY KEY (week_id, user_id)
);

-- Nominations for the next film. A round closes when a poll is posted.
CREATE TABLE nominations (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    title      TEXT NOT NULL,
    title_key  TEXT NOT NULL,
    year       INTEGER,
    created_at INTEGER NOT NULL,
    poll_id    INTEGER REFERENCES polls (id)
);
CREATE INDEX nominations_open ON nominations (guild_id, title_key) WHERE poll_id IS NULL;

CREATE TABLE nominators (
    nomination_id INTEGER NOT NULL REFERENCES nominations (id),
    user_id       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (nomination_id, user_id)
);

CREATE TABLE polls (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    channel_id   INTEGER NOT NULL,
    message_id   INTEGER,
    created_by   INTEGER,
    created_at   INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    ended_at     INTEGER,
    winner_title TEXT,
    winner_year  INTEGER
);
