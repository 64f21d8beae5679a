-- A week's screening: when and where the club watches the film together, mirrored by a Discord
-- scheduled event. Moving it changes the same row (and event); cancelling it keeps the row.
CREATE TABLE screenings (
    id           INTEGER PRIMARY KEY,
    week_id      INTEGER NOT NULL REFERENCES weeks (id),
    guild_id     INTEGER NOT NULL,
    starts_at    INTEGER NOT NULL,
    channel_id   INTEGER,   -- a voice or stage channel
    place        TEXT,      -- or somewhere outside Discord
    note         TEXT,
    event_id     INTEGER,   -- the Discord scheduled event, once created
    interested   INTEGER,   -- members interested in the event, as last read
    created_by   INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    cancelled_at INTEGER
);
-- One screening per week at a time.
CREATE UNIQUE INDEX screenings_one_per_week ON screenings (week_id) WHERE cancelled_at IS NULL;
CREATE INDEX screenings_guild ON screenings (guild_id);

-- A week in a forum channel is a forum post: its kickoff starts the post, the week has no
-- separate channel digest, and its tags follow the week.
ALTER TABLE weeks ADD COLUMN forum INTEGER NOT NULL DEFAULT 0;

-- How long a tie's runoff runs (the first poll's length when not given).
ALTER TABLE polls ADD COLUMN runoff_hours INTEGER;
