-- Search finds œuvre when a member types oeuvre, as PostgreSQL's unaccent does: FTS5's
-- unicode61 tokenizer folds accents but not the letters œ, æ and ß, so the index is given the
-- text with them spelled out (the query is spelled out the same way, in bot/fulltext.py).
DROP TRIGGER sections_fts_insert;
DROP TRIGGER sections_fts_delete;
DROP TRIGGER sections_fts_update;
CREATE TRIGGER sections_fts_insert AFTER INSERT ON sections BEGIN
    INSERT INTO sections_fts (rowid, heading, body)
    VALUES (new.id, replace(replace(replace(replace(replace(replace(new.heading, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS'),
            replace(replace(replace(replace(replace(replace(new.body, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS'));
END;
CREATE TRIGGER sections_fts_delete AFTER DELETE ON sections BEGIN
    INSERT INTO sections_fts (sections_fts, rowid, heading, body)
    VALUES ('delete', old.id, replace(replace(replace(replace(replace(replace(old.heading, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS'),
            replace(replace(replace(replace(replace(replace(old.body, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS'));
END;
CREATE TRIGGER sections_fts_update AFTER UPDATE OF heading, body ON sections BEGIN
    INSERT INTO sections_fts (sections_fts, rowid, heading, body)
    VALUES ('delete', old.id, replace(replace(replace(replace(replace(replace(old.heading, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS'),
            replace(replace(replace(replace(replace(replace(old.body, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS'));
    INSERT INTO sections_fts (rowid, heading, body)
    VALUES (new.id, replace(replace(replace(replace(replace(replace(new.heading, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS'),
            replace(replace(replace(replace(replace(replace(new.body, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS'));
END;
INSERT INTO sections_fts (sections_fts) VALUES ('delete-all');
INSERT INTO sections_fts (rowid, heading, body)
SELECT id, replace(replace(replace(replace(replace(replace(heading, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS'), replace(replace(replace(replace(replace(replace(body, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS')
FROM sections;
