-- A count brought to zero by a fold goes. The fold deleted such rows by looking up each key it
-- had changed, in each of the four count tables (0.13-0.2 s of the 2 s that the benchmark's
-- stream of 250,000 events takes to merge alone); these partial indexes hold only the rows at
-- zero, so the fold deletes whatever they hold (naming them: SQLite 3.40 would scan the
-- members' tables). A count updated from one non-zero number to another writes nothing to
-- them.
CREATE INDEX reaction_days_at_zero ON reaction_days (guild_id) WHERE reactions = 0;
CREATE INDEX member_reaction_days_at_zero ON member_reaction_days (guild_id) WHERE reactions = 0;
CREATE INDEX reaction_weeks_at_zero ON reaction_weeks (guild_id) WHERE reactions = 0;
CREATE INDEX member_reaction_weeks_at_zero ON member_reaction_weeks (guild_id)
    WHERE reactions = 0;
