-- Quote search finds œuvre when a member types oeuvre, as essay search does since 0016: the
-- quotes' index is given the text and the author's name with œ, æ and ß spelled out (the query
-- is spelled out the same way, in bot/fulltext.py).
DROP TRIGGER quotes_fts_insert;
DROP TRIGGER quotes_fts_delete;
CREATE TRIGGER quotes_fts_insert AFTER INSERT ON quotes BEGIN
    INSERT INTO quotes_fts (rowid, text, author_name)
    VALUES (new.id, replace(replace(replace(replace(replace(replace(new.text, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS'),
            replace(replace(replace(replace(replace(replace(new.author_name, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS'));
END;
CREATE TRIGGER quotes_fts_delete AFTER DELETE ON quotes BEGIN
    INSERT INTO quotes_fts (quotes_fts, rowid, text, author_name)
    VALUES ('delete', old.id, replace(replace(replace(replace(replace(replace(old.text, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS'),
            replace(replace(replace(replace(replace(replace(old.author_name, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS'));
END;
INSERT INTO quotes_fts (quotes_fts) VALUES ('delete-all');
INSERT INTO quotes_fts (rowid, text, author_name)
SELECT id, replace(replace(replace(replace(replace(replace(text, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS'), replace(replace(replace(replace(replace(replace(author_name, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'), 'ß', 'ss'), 'ẞ', 'SS')
FROM quotes;
