-- A nomination left out of a full poll (more than ten films) goes first in the next one: how
-- many polls in a row it was left out of.
ALTER TABLE nominations ADD COLUMN left_out INTEGER NOT NULL DEFAULT 0;
-- A deleted message is looked up among the open polls' messages.
CREATE INDEX polls_by_message ON polls (message_id) WHERE message_id IS NOT NULL;
