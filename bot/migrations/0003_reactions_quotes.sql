-- Every bot post that shows something, and what it shows: what turns raw reactions into
-- "which sections moved people".
CREATE TABLE tracked_messages (
    message_id  INTEGER PRIMARY KEY,
    guild_id    INTEGER,
    channel_id  INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('section', 'excerpt', 'prompt', 'quote', 'week', 'digest', 'take')),
    essay_id    INTEGER,
    section_id  INTEGER,
    prompt_id   INTEGER,
    quote_id    INTEGER,
    week_id     INTEGER,
    created_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE INDEX tracked_section ON tracked_messages (section_id) WHERE section_id IS NOT NULL;
CREATE INDEX tracked_essay ON tracked_messages (essay_id, guild_id) WHERE essay_id IS NOT NULL;
CREATE INDEX tracked_quote ON tracked_messages (quote_id) WHERE quote_id IS NOT NULL;
CREATE INDEX tracked_recent ON tracked_messages (created_at);

-- One row per (message, member, emoji). Emoji keys are stable: a custom emoji by its id
-- ("c:<id>"), a Unicode emoji without variation selectors (so ❤ and ❤️ are one heart).
CREATE TABLE reactions (
    message_id INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    emoji      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
) WITHOUT ROWID;
-- No index by member: per-member reads are rare (/stats member, /privacy forget-me), writes
-- are the hot path, and a second B-tree would double the pages each reaction batch touches.

-- How to show a custom emoji key.
CREATE TABLE emojis (
    key     TEXT PRIMARY KEY,
    display TEXT NOT NULL
) WITHOUT ROWID;

-- Quotes are numbered per server.
CREATE TABLE quotes (
    id                INTEGER PRIMARY KEY,
    guild_id          INTEGER NOT NULL,
    number            INTEGER NOT NULL,
    text              TEXT NOT NULL,
    author_id         INTEGER,
    author_name       TEXT,
    source_message_id INTEGER,
    source_channel_id INTEGER,
    jump_url          TEXT,
    essay_id          INTEGER,
    section_id        INTEGER,
    saved_by          INTEGER NOT NULL,
    said_at           INTEGER,
    saved_at          INTEGER NOT NULL,
    UNIQUE (guild_id, number)
);
CREATE UNIQUE INDEX quotes_source ON quotes (guild_id, source_message_id)
    WHERE source_message_id IS NOT NULL;
CREATE INDEX quotes_author ON quotes (guild_id, author_id);
CREATE INDEX quotes_saver ON quotes (guild_id, saved_by);
CREATE INDEX quotes_section ON quotes (section_id) WHERE section_id IS NOT NULL;
CREATE INDEX quotes_essay ON quotes (essay_id, guild_id) WHERE essay_id IS NOT NULL;

CREATE VIRTUAL TABLE quotes_fts USING fts5 (
    text, author_name,
    content = 'quotes', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER quotes_fts_insert AFTER INSERT ON quotes BEGIN
    INSERT INTO quotes_fts (rowid, text, author_name) VALUES (new.id, new.text, new.author_name);
END;
CREATE TRIGGER quotes_fts_delete AFTER DELETE ON quotes BEGIN
    INSERT INTO quotes_fts (quotes_fts, rowid, text, author_name)
    VALUES ('delete', old.id, old.text, old.author_name);
END;

-- Members who asked not to be quoted by others.
CREATE TABLE quote_optouts (
    user_id INTEGER PRIMARY KEY,
    since   INTEGER NOT NULL
);
