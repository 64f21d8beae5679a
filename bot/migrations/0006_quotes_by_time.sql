-- Quotes saved in a period, and by whom (/stats server): read from the index alone instead of
-- every quote's row.
CREATE INDEX quotes_saved ON quotes (guild_id, saved_at, saved_by);
