-- A statement's new sections get their words in one insert (a statement trigger over the rows
-- it added), where a row trigger ran an insert for each: a start that adds 1,000 essays writes
-- their sections 500 to a statement (bot/essays/library.py). Sections edited in place keep the
-- row trigger of 0013: PostgreSQL gives no transition table to a trigger on given columns.
DROP TRIGGER section_words ON sections;

CREATE FUNCTION sections_worded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO section_words (section_id, words)
    SELECT id, setweight(to_tsvector('simple', search_text(heading)), 'A')
               || setweight(to_tsvector('simple', search_text(body)), 'B')
    FROM added
    ON CONFLICT (section_id) DO UPDATE SET words = excluded.words;
    RETURN NULL;
END $$;

CREATE TRIGGER sections_worded AFTER INSERT ON sections
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION sections_worded();
CREATE TRIGGER section_words AFTER UPDATE OF heading, body ON sections
    FOR EACH ROW EXECUTE FUNCTION section_words();
