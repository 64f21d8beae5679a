-- What the bot owes Discord: each post a state change obliges (a kickoff, a prompt, a take, a
-- digest, a poll and its result), written in the same transaction as that change. A job is
-- claimed before it runs, retried with backoff while Discord fails, and kept with its last error
-- so moderators see what is owed and why. Timers wake the dispatcher for it (event 'job').
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    week_id     INTEGER,
    poll_id     INTEGER,
    -- Jobs with the same key coalesce while pending (a member's take: the latest one is posted).
    key         TEXT,
    payload     TEXT NOT NULL DEFAULT '{}',
    revision    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    claimed_at  INTEGER,
    -- An earlier attempt may have posted (killed meanwhile, or Discord failed after accepting):
    -- the next one looks for the post in the channel before posting again.
    uncertain   INTEGER NOT NULL DEFAULT 0,
    done_at     INTEGER,
    given_up_at INTEGER,
    last_error  TEXT,
    result      TEXT
);
CREATE UNIQUE INDEX jobs_pending_key ON jobs (key) WHERE done_at IS NULL AND given_up_at IS NULL;
CREATE INDEX jobs_open ON jobs (guild_id) WHERE done_at IS NULL;
CREATE INDEX jobs_week ON jobs (week_id) WHERE week_id IS NOT NULL;

-- A prompt's number in its week is fixed when it is owed, so two at once never share a number
-- or a section, and a prompt that could not be posted is released for the next prompt time.
ALTER TABLE prompts ADD COLUMN number INTEGER;
UPDATE prompts SET number = (
    SELECT count(*) FROM prompts p WHERE p.week_id = prompts.week_id AND p.posted_at IS NOT NULL
        AND (p.posted_at < prompts.posted_at OR (p.posted_at = prompts.posted_at AND p.id <= prompts.id))
) WHERE posted_at IS NOT NULL;
CREATE UNIQUE INDEX prompts_number ON prompts (week_id, number) WHERE number IS NOT NULL;

-- A poll's answers in the order they were posted (nomination ids), its length, and how it ended:
-- 'winner', 'tie' or 'no votes'.
ALTER TABLE polls ADD COLUMN answers TEXT;
ALTER TABLE polls ADD COLUMN hours INTEGER;
ALTER TABLE polls ADD COLUMN outcome TEXT;

-- Members who used /privacy forget-me: reconciliation never brings back a reaction they gave
-- before forgetting (Discord still shows it).
CREATE TABLE forgotten_members (
    user_id      INTEGER PRIMARY KEY,
    forgotten_at INTEGER NOT NULL
);
