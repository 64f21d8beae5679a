-- Settings the bot keeps for itself (e.g. the hash of the last synced command tree).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Essays: file-backed (bundled, guild_id NULL) or uploaded by a server's moderators.
-- `key` is stable: the file's stem, or "g<guild>-<title slug>" for uploads.
CREATE TABLE essays (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    guild_id     INTEGER,
    source       TEXT NOT NULL CHECK (source IN ('file', 'upload')),
    source_path  TEXT,
    title        TEXT NOT NULL,
    film         TEXT NOT NULL,
    year         INTEGER,
    director     TEXT,
    author       TEXT,
    content_hash TEXT NOT NULL,
    hidden       INTEGER NOT NULL DEFAULT 0,
    added_by     INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX essays_source_path ON essays (source_path) WHERE source = 'file';
CREATE INDEX essays_guild_title ON essays (guild_id, title COLLATE NOCASE);

-- A bundled essay a server's moderators removed for their server only.
CREATE TABLE guild_hidden_essays (
    guild_id  INTEGER NOT NULL,
    essay_id  INTEGER NOT NULL REFERENCES essays (id),
    hidden_by INTEGER,
    hidden_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, essay_id)
);

-- Sections keep their row (and id) across edits while their slug stays, so whatever is tied
-- to a section stays attached; a section gone from the text is hidden, never deleted.
CREATE TABLE sections (
    id       INTEGER PRIMARY KEY,
    essay_id INTEGER NOT NULL REFERENCES essays (id),
    slug     TEXT NOT NULL,
    position INTEGER NOT NULL,
    heading  TEXT NOT NULL,
    body     TEXT NOT NULL,
    hidden   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (essay_id, slug)
);
CREATE INDEX sections_essay_position ON sections (essay_id, position);

CREATE VIRTUAL TABLE sections_fts USING fts5 (
    heading, body,
    content = 'sections', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
-- Headings weigh four times the body in search ranking (`ORDER BY rank`).
INSERT INTO sections_fts (sections_fts, rank) VALUES ('rank', 'bm25(4.0, 1.0)');
CREATE TRIGGER sections_fts_insert AFTER INSERT ON sections BEGIN
    INSERT INTO sections_fts (rowid, heading, body) VALUES (new.id, new.heading, new.body);
END;
CREATE TRIGGER sections_fts_delete AFTER DELETE ON sections BEGIN
    INSERT INTO sections_fts (sections_fts, rowid, heading, body)
    VALUES ('delete', old.id, old.heading, old.body);
END;
CREATE TRIGGER sections_fts_update AFTER UPDATE OF heading, body ON sections BEGIN
    INSERT INTO sections_fts (sections_fts, rowid, heading, body)
    VALUES ('delete', old.id, old.heading, old.body);
    INSERT INTO sections_fts (rowid, heading, body) VALUES (new.id, new.heading, new.body);
END;
