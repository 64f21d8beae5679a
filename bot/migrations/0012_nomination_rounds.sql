-- Nominations that did not win carry over to the next round with their nominators; a film's
-- nomination closes when its week starts. A runoff poll names the poll whose tie it settles.
ALTER TABLE nominations ADD COLUMN closed_at INTEGER;
ALTER TABLE polls ADD COLUMN runoff_of INTEGER;
