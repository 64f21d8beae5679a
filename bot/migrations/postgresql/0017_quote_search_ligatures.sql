-- As SQLite's 0017: PostgreSQL's unaccent (search_text) already reads œ as oe, æ as ae and ß as
-- ss in quotes, in the text and in the query alike, so nothing changes here.
SELECT 1;
