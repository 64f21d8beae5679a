-- As SQLite's 0026: PostgreSQL's daily counts are kept from notes since its 0023, and its
-- weeks by the same fold since 0025, so nothing changes here.
SELECT 1;
