-- The daily and weekly counts (0021, 0025) as PostgreSQL's are kept since its 0023: a reaction
-- written or deleted is only noted here, one row appended, and the recorder folds the notes
-- into the counts (bot/reactions/store.py: every few ranges of a merge and at its end, and
-- where forget-me deletes). Counted at each row, the benchmark's stream of reactions, a quarter
-- of them taking back reactions of the past month, made each range of the merge write nearly
-- every page of the four count tables: 1,863 pages a range of 5,000 events, and 3.7 s to merge
-- 250,000 events; folded, a page is written once for every 50,000 (2.3 s).
CREATE TABLE reaction_day_changes (
    guild_id   INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    section_id INTEGER NOT NULL,
    quote_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    change     INTEGER NOT NULL
);

DROP TRIGGER reaction_counted;
DROP TRIGGER reaction_uncounted;
DROP TRIGGER reaction_counted_weekly;
DROP TRIGGER reaction_uncounted_weekly;

CREATE TRIGGER reaction_noted AFTER INSERT ON reactions BEGIN
    INSERT INTO reaction_day_changes (guild_id, day, section_id, quote_id, user_id, change)
        SELECT t.guild_id, NEW.created_at / 86400, coalesce(t.section_id, 0),
               coalesce(t.quote_id, 0), NEW.user_id, 1
        FROM tracked_messages t WHERE t.message_id = NEW.message_id AND t.guild_id IS NOT NULL;
END;

CREATE TRIGGER reaction_unnoted AFTER DELETE ON reactions BEGIN
    INSERT INTO reaction_day_changes (guild_id, day, section_id, quote_id, user_id, change)
        SELECT t.guild_id, OLD.created_at / 86400, coalesce(t.section_id, 0),
               coalesce(t.quote_id, 0), OLD.user_id, -1
        FROM tracked_messages t WHERE t.message_id = OLD.message_id AND t.guild_id IS NOT NULL;
END;
-- A post edited in place (0021's and 0025's triggers) moves the counts of all its reactions at
-- once, those still noted here included, which the fold then adds under the key they were
-- noted with: the sums come out the same, and a row that passes through zero meanwhile goes at
-- the fold.
