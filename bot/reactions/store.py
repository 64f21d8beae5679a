"""Where a batch of reaction events goes, per backend.

SQLite (`LogStore`): each batch is appended to `reaction_log` with one statement, and the log is
merged into `reactions` in runs sorted by post, once it has been quiet for a moment: appending
is cheap however scattered the posts are, and the merge writes each page of `reactions` once for
many rows. PostgreSQL (`DirectStore`): each batch is one statement (a function applying the
clears, the removals and the additions in that order); its pages are written by the server,
which many processes share, so there is no log. On both, a reaction written or deleted only
notes what it changes in the daily counts, and the merge folds the notes into them (migrations
postgresql/0023, 0026): the counts follow the reactions once the recorder's merge has run. The
counts per week (0025) are summed from the days once a week is over (`seal`), by the recorder's
merge."""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from dataclasses import dataclass
from typing import Any

from bot.db import Database, Row, Tx
from bot.sqlite import SqliteDatabase

# Queued operations, in arrival order. An add or a remove is (ADD or REMOVE, message_id,
# user_id, emoji): as logged, with its first item the `added` flag.
REMOVE, ADD, CLEAR, CLEAR_EMOJI, DELETED, EMOJI = range(6)
# One queued operation: its kind, then the ids and names that kind carries (see `batch_parts`).
Op = tuple[Any, ...]


class OutOfTurn(Exception):
    """A batch reached the server before the batch it follows was written: that one failed, or
    has not arrived yet."""


@dataclass(frozen=True)
class Turn:
    """A batch's place among those its recorder sent: its number, and the batch it must follow
    when that one may still be being written (None when no other is)."""

    number: int
    follows: int | None = None


def batch_parts(
    ops: list[Op],
) -> tuple[list[Op], list[tuple[int, str | None]], list[int], list[tuple[str, str]]]:
    """Queued operations as what a batch writes: the last event of each (message, member,
    emoji) after the batch's last clear of it, the clears, deleted posts and emoji names."""
    last: dict[Op, Op] = {}
    cleared: list[tuple[int, str | None]] = []
    deleted: list[int] = []
    emoji_names: list[tuple[str, str]] = []
    for op in ops:
        kind = op[0]
        if kind <= ADD:
            last[op[1:]] = op
        elif kind in (CLEAR, CLEAR_EMOJI):
            message_id, emoji = op[1], op[2] if kind == CLEAR_EMOJI else None
            cleared.append((message_id, emoji))
            # Events before the clear in this batch are void; the merge removes what they did.
            for key in [k for k in last if k[0] == message_id and emoji in (None, k[2])]:
                del last[key]
        elif kind == DELETED:
            deleted.append(op[1])
        elif kind == EMOJI:
            emoji_names.append(op[1:])
    return list(last.values()), cleared, deleted, list(dict(emoji_names).items())


def log_arrays(ops: list[Op]) -> tuple[str | None, ...]:
    """The batch as the JSON arrays of one `reaction_log_entry` row (SQLite migration 0010)."""
    return tuple(json.dumps(values) if values else None for values in batch_parts(ops))


# --- SQLite: a log, merged --------------------------------------------------------------

LAST_ID = 2**63 - 1  # above every Discord id: the open end of the last merge range
# Events per merged range. Each range's changes (the reactions and the notes of their counts,
# migration 0026, and at a fold the counts) are held in memory until it commits: with the counts
# written at each range (before 0026), at 20,000 the benchmark's peak memory was 166 MB (two
# runs), at 10,000 150, 152 and 154 MB, at 5,000 138 and 140 MB, ingestion within its spread
# each time.
MERGE_CHUNK = 5_000

APPEND_BATCH = (
    "INSERT INTO reaction_log_entry (at, events, cleared, deleted, emojis) VALUES (?, ?, ?, ?, ?)"
)
# A merge gathers the last logged event of each reaction into a table of the writer's own
# connection, sorted by key, with one read of the log; then it applies ranges of posts of about
# `merge_chunk` reactions each, one transaction per range, and drops the merged part of the log
# with the last range. Each step is one round trip to the writer's thread: the bot's event loop,
# busy with a burst, answers each round trip late. A merge that stops halfway is simply done
# again: each reaction ends as its last logged event says, however often that is applied.
# Only integers the recorder read from the database are formatted into these scripts.
GATHER = """
CREATE TEMP TABLE IF NOT EXISTS merging (
    message_id INTEGER NOT NULL, user_id INTEGER NOT NULL, emoji TEXT NOT NULL,
    added INTEGER NOT NULL, at INTEGER NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
) WITHOUT ROWID;
DELETE FROM temp.merging;
INSERT INTO temp.merging (message_id, user_id, emoji, added, at, seq)
    SELECT message_id, user_id, emoji, added, at, seq FROM reaction_log_events
    WHERE seq <= {upto} ORDER BY seq
    ON CONFLICT (message_id, user_id, emoji)
    DO UPDATE SET added = excluded.added, at = excluded.at, seq = excluded.seq;
CREATE TEMP TABLE IF NOT EXISTS clearing (
    message_id INTEGER NOT NULL, emoji TEXT, seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS temp.clearing_post ON clearing (message_id);
DELETE FROM temp.clearing;
INSERT INTO temp.clearing (message_id, emoji, seq)
    SELECT message_id, emoji, seq FROM reaction_log_clears WHERE seq <= {upto};
"""
# The ends of the ranges: from each end, the post of the `chunk`-th reaction after it in key order.
RANGE_ENDS = """
WITH RECURSIVE ends(post) AS (
    SELECT (SELECT message_id FROM temp.merging LIMIT 1 OFFSET ?1)
    UNION ALL
    SELECT (SELECT message_id FROM temp.merging WHERE message_id > post LIMIT 1 OFFSET ?1)
    FROM ends WHERE post IS NOT NULL
)
SELECT post FROM ends WHERE post IS NOT NULL
"""
APPLY_RANGE = """
BEGIN IMMEDIATE;
DELETE FROM reactions WHERE message_id IN (
    SELECT message_id FROM temp.clearing
    WHERE emoji IS NULL AND message_id > {after} AND message_id <= {through}
);
DELETE FROM reactions WHERE (message_id, emoji) IN (
    SELECT message_id, emoji FROM temp.clearing
    WHERE emoji IS NOT NULL AND message_id > {after} AND message_id <= {through}
);
DELETE FROM reactions WHERE (message_id, user_id, emoji) IN (
    SELECT message_id, user_id, emoji FROM temp.merging
    WHERE message_id > {after} AND message_id <= {through} AND NOT added
);
INSERT OR IGNORE INTO reactions (message_id, user_id, emoji, created_at)
    SELECT m.message_id, m.user_id, m.emoji, m.at FROM temp.merging m
    WHERE m.message_id > {after} AND m.message_id <= {through} AND m.added
    AND NOT EXISTS (
        SELECT 1 FROM temp.clearing c WHERE c.message_id = m.message_id
        AND (c.emoji IS NULL OR c.emoji = m.emoji) AND c.seq > m.seq
    );
{fold}{last}
COMMIT;
"""


# The notes of reactions written and deleted (migration 0026) added to the daily counts, and
# to the weekly ones where their week is sealed, each row once for all the notes of its key, in
# key order; a row left at zero goes, found in the counts' indexes of rows at zero (migration
# 0031) rather than by each key the fold changed: named, as SQLite 3.40 scans the members'
# tables otherwise (33 ms for a million rows, against 0.02 through the index). In the writer's
# transaction: a range of a merge every `FOLD_EVENTS` events and its last, or forget-me's
# deletion (`counts_settled`). As PostgreSQL's `reaction_days_fold` (migrations
# postgresql/0025, 0039).
FOLD_NOTES = (
    "CREATE TEMP TABLE IF NOT EXISTS folding_days (guild_id INTEGER NOT NULL, "
    "day INTEGER NOT NULL, section_id INTEGER NOT NULL, quote_id INTEGER NOT NULL, "
    "change INTEGER NOT NULL)",
    "CREATE TEMP TABLE IF NOT EXISTS folding_members (guild_id INTEGER NOT NULL, "
    "day INTEGER NOT NULL, user_id INTEGER NOT NULL, change INTEGER NOT NULL)",
    "DELETE FROM temp.folding_days",
    "DELETE FROM temp.folding_members",
    "INSERT INTO temp.folding_days (guild_id, day, section_id, quote_id, change) "
    "SELECT guild_id, day, section_id, quote_id, sum(change) FROM reaction_day_changes "
    "GROUP BY 1, 2, 3, 4 HAVING sum(change) <> 0",
    "INSERT INTO temp.folding_members (guild_id, day, user_id, change) "
    "SELECT guild_id, day, user_id, sum(change) FROM reaction_day_changes "
    "GROUP BY 1, 2, 3 HAVING sum(change) <> 0",
    "DELETE FROM reaction_day_changes",
    "INSERT INTO reaction_days (guild_id, day, section_id, quote_id, reactions) "
    "SELECT guild_id, day, section_id, quote_id, change FROM temp.folding_days WHERE true "
    "ON CONFLICT DO UPDATE SET reactions = reactions + excluded.reactions",
    "DELETE FROM reaction_days INDEXED BY reaction_days_at_zero WHERE reactions = 0",
    "INSERT INTO member_reaction_days (guild_id, day, user_id, reactions) "
    "SELECT guild_id, day, user_id, change FROM temp.folding_members WHERE true "
    "ON CONFLICT DO UPDATE SET reactions = reactions + excluded.reactions",
    "DELETE FROM member_reaction_days INDEXED BY member_reaction_days_at_zero WHERE reactions = 0",
    "INSERT INTO reaction_weeks (guild_id, week, section_id, quote_id, reactions) "
    "SELECT f.guild_id, f.day / 7, f.section_id, f.quote_id, sum(f.change) "
    "FROM temp.folding_days f JOIN reaction_weeks_sealed s ON s.guild_id = f.guild_id "
    "WHERE f.day / 7 < s.week GROUP BY 1, 2, 3, 4 HAVING sum(f.change) <> 0 "
    "ON CONFLICT DO UPDATE SET reactions = reactions + excluded.reactions",
    "DELETE FROM reaction_weeks INDEXED BY reaction_weeks_at_zero WHERE reactions = 0",
    "INSERT INTO member_reaction_weeks (guild_id, week, user_id, reactions) "
    "SELECT f.guild_id, f.day / 7, f.user_id, sum(f.change) "
    "FROM temp.folding_members f JOIN reaction_weeks_sealed s ON s.guild_id = f.guild_id "
    "WHERE f.day / 7 < s.week GROUP BY 1, 2, 3 HAVING sum(f.change) <> 0 "
    "ON CONFLICT DO UPDATE SET reactions = reactions + excluded.reactions",
    "DELETE FROM member_reaction_weeks INDEXED BY member_reaction_weeks_at_zero "
    "WHERE reactions = 0",
)
FOLD_NOTES_SCRIPT = "".join(f"{statement};\n" for statement in FOLD_NOTES)
# Events merged between folds: each fold writes the count tables' pages its notes touch, which a
# stream's removals of old reactions spread over all of them (migration 0026). The benchmark's
# 250,000 events: folded at the end alone, 2.4 s to apply and a last range of 1.4 s that appends
# wait for; every 50,000, 2.3 s and 0.39; every 10,000, 3.0 s and 0.18.
FOLD_EVENTS = 50_000


# A member's reactions as the bot would show them: the merged rows, then what the bot logged and
# has not merged yet (an export may read while the bot runs).
MEMBER_REACTIONS = """
WITH last AS MATERIALIZED (
    SELECT message_id, emoji, added, at FROM reaction_log_last WHERE user_id = ?
)
SELECT r.message_id, r.emoji, r.created_at FROM reactions r
    WHERE r.user_id = ? AND NOT EXISTS (
        SELECT 1 FROM last WHERE last.message_id = r.message_id AND last.emoji = r.emoji
    )
UNION ALL
SELECT last.message_id, last.emoji, coalesce(r.created_at, last.at) FROM last
    LEFT JOIN reactions r
        ON r.message_id = last.message_id AND r.user_id = ? AND r.emoji = last.emoji
    WHERE last.added
ORDER BY 1, 2
"""


# The servers with counts whose weeks before a given one are not all sealed yet (migration
# 0025): the servers found one by one in the daily counts' key, not by reading every row.
UNSEALED = """
WITH RECURSIVE servers(guild_id) AS (
    SELECT min(guild_id) FROM reaction_days
    UNION ALL
    SELECT (SELECT min(d.guild_id) FROM reaction_days d WHERE d.guild_id > servers.guild_id)
    FROM servers WHERE servers.guild_id IS NOT NULL
)
SELECT v.guild_id FROM servers v LEFT JOIN reaction_weeks_sealed s ON s.guild_id = v.guild_id
WHERE v.guild_id IS NOT NULL AND coalesce(s.week, 0) < ?
"""
# SQLite: a server's weeks from the last sealed one (?2) up to a given one (?3) summed from its
# days, and the server sealed up to it, in the writer's transaction (SQLite's merges and every
# other write wait for it). PostgreSQL's is a function (migration postgresql/0025).
SEAL = (
    "INSERT INTO reaction_weeks (guild_id, week, section_id, quote_id, reactions) "
    "SELECT guild_id, day / 7, section_id, quote_id, sum(reactions) FROM reaction_days "
    "WHERE guild_id = ?1 AND day >= ?2 * 7 AND day < ?3 * 7 GROUP BY 1, 2, 3, 4",
    "INSERT INTO member_reaction_weeks (guild_id, week, user_id, reactions) "
    "SELECT guild_id, day / 7, user_id, sum(reactions) FROM member_reaction_days "
    "WHERE guild_id = ?1 AND day >= ?2 * 7 AND day < ?3 * 7 GROUP BY 1, 2, 3",
    "INSERT INTO reaction_weeks_sealed (guild_id, week) VALUES (?1, ?3) "
    "ON CONFLICT (guild_id) DO UPDATE SET week = excluded.week",
)


class Store:
    db: Database
    merges = False  # whether batches leave work for `merge` (SQLite: its log; PostgreSQL: notes)
    merges_between_batches = False  # whether a merge waits for the batch being written
    batches_in_flight = 1  # how many batches may be being written at once (see `Turn`)
    # While events keep coming, a merge once the oldest batch not merged is this many seconds
    # old, or once this many events wait (`ReactionRecorder`'s defaults).
    merge_max_age = 2.0
    merge_rows = 100_000
    # Every stored reaction of a member (on PostgreSQL, the rows behind the view: through it,
    # a statement a reaction).
    forget = "DELETE FROM reactions WHERE user_id = ?"

    def __init__(self, merge_chunk: int = MERGE_CHUNK) -> None:
        self.merge_chunk = merge_chunk  # events per merged range (SQLite)

    async def append(self, at: int, ops: list[Op], since: int, turn: Turn) -> None:
        raise NotImplementedError

    async def merge(self) -> bool:
        raise NotImplementedError

    async def counts_settled(self, tx: Tx) -> None:
        """Within `tx`, after reactions were deleted in it: the daily counts made to follow."""

    async def unsealed(self, week: int) -> list[int]:
        """The servers whose counts have weeks before `week` not sealed yet."""
        return [int(row[0]) for row in await self.db.fetchall(UNSEALED, (week,))]

    async def seal(self, guild_id: int, week: int) -> bool:
        """Sum the server's weeks before `week` not sealed yet from its days; False if they
        all were."""
        raise NotImplementedError

    async def member_reactions(self, user_id: int) -> list[Row]:
        raise NotImplementedError


class LogStore(Store):
    """SQLite: each batch appended to the log; the log merged into `reactions` later."""

    db: SqliteDatabase
    merges = True

    def __init__(self, db: SqliteDatabase, merge_chunk: int = MERGE_CHUNK) -> None:
        super().__init__(merge_chunk)
        self.db = db

    async def append(self, at: int, ops: list[Op], since: int, turn: Turn) -> None:
        # One process owns a SQLite file: forget-me commits what it holds before forgetting.
        await self.db.write(APPEND_BATCH, (at, *log_arrays(ops)))

    async def merge(self) -> bool:
        """Merge every committed batch of the log into `reactions`; False if it was empty."""
        upto = await self.db.fetchval("SELECT max(seq) FROM reaction_log")
        if upto is None:
            # Notes of reactions written by anything but a merge and not folded (a tool's
            # writes, a copy of the file): a merge's own are folded by its last range, in the
            # transaction that empties the log.
            if await self.db.fetchval("SELECT EXISTS (SELECT 1 FROM reaction_day_changes)"):
                async with self.db.transaction() as tx:
                    await self.counts_settled(tx)
            return False
        await self.db.script(GATHER.format(upto=int(upto)))
        rows = await self.db.fetchall_writing(RANGE_ENDS, (self.merge_chunk - 1,))
        ends = dict.fromkeys([-1, *(int(row[0]) for row in rows), LAST_ID])
        ranges = list(itertools.pairwise(ends))
        fold_every = max(1, FOLD_EVENTS // self.merge_chunk)
        for number, (after, through) in enumerate(ranges, 1):
            last = ""
            if number == len(ranges):
                last = f"DELETE FROM reaction_log WHERE seq <= {int(upto)};"
            fold = FOLD_NOTES_SCRIPT if last or number % fold_every == 0 else ""
            await self.db.script(
                APPLY_RANGE.format(after=after, through=through, fold=fold, last=last)
            )
        return True

    async def counts_settled(self, tx: Tx) -> None:
        for statement in FOLD_NOTES:
            await tx.execute(statement)

    async def seal(self, guild_id: int, week: int) -> bool:
        async with self.db.transaction() as tx:
            sealed = await tx.fetchval(
                "SELECT week FROM reaction_weeks_sealed WHERE guild_id = ?", (guild_id,)
            )
            sealed = int(sealed or 0)
            if sealed >= week:
                return False
            for statement in SEAL:
                await tx.execute(statement, (guild_id, sealed, week))
        return True

    async def member_reactions(self, user_id: int) -> list[Row]:
        return await self.db.fetchall(MEMBER_REACTIONS, (user_id,) * 3)


# --- PostgreSQL: one statement a batch --------------------------------------------------

# apply_reaction_batch (migrations postgresql/0013, 0035): the clears, then the removals,
# then the additions in key order (none of a member forgotten since the batch's first event, by
# whichever process), then deleted posts and emoji names, from arrays: one statement, one round
# trip; in its writer's turn, after the batch it follows (0038).
APPLY_BATCH = (
    "SELECT apply_reaction_batch_in_turn(?, ?, ?, ?, ?, ?::integer[], ?::bigint[], ?::bigint[], "
    "?::text[], ?::bigint[], ?::text[], ?::bigint[], ?::text[], ?::text[])"
)
OUT_OF_TURN = "PJ001"  # the batch it follows was not written (yet)
WRITER_JOINED = "SELECT reaction_writer_joined(?, ?, ?)"
WRITERS_KEPT = 90 * 86400  # seconds a writer's row outlives its last batch

FOLD = "SELECT reaction_days_fold()"  # how many notes it folded (migration postgresql/0023)


class DirectStore(Store):
    """PostgreSQL: each batch applied to the reactions' rows at once; the daily counts' notes folded
    into them by `merge`."""

    merges = True
    # The fold runs on the server that writes the batches, whose two cores the benchmark's bot
    # shares: folded beside the batches, it took the core the bot parses events on, so while
    # events come it takes turns with them. A burst is folded after it, a stream every
    # `merge_max_age`; once events stop, a fold goes beside the batches left to write (see
    # `ReactionRecorder._turn_between_batches`).
    merges_between_batches = True
    # A fold costs by the count rows it changes more than by its notes: on the benchmark's
    # community (before migration 0039) 20,000 notes folded in 373 ms, 60,000 in 477-594,
    # 250,000 in 1,127 and 550,000 in 1,621. Each fold while events come holds the batches back
    # for as long, so a stream is folded every 10 s rather than every 2 s or 100,000 events: its
    # counts trail by up to 10 s until it pauses for `merge_idle`. A million events (about 13 s
    # of the benchmark's fastest stream) bound a fold's size rather than its pace. Streams of
    # 250,000 events, four each way alternating in one process: the batches still to write when
    # the last event came 0.6-1.5 s → 0.1-0.6 s, the stream against discord.py alone median
    # 0.598 → 0.756, ahead in each pair.
    merge_max_age = 10.0
    merge_rows = 1_000_000
    forget = "DELETE FROM reaction_rows WHERE user_id = ?"  # migration postgresql/0036

    # The next batch is sent while one is still being written (migration postgresql/0038): the
    # server starts it as the one before commits, instead of once the answer has crossed the
    # event loop and the next statement has been built and sent back. Bursts of 50,000 events,
    # six a kind alternating in one process: event-to-commit p99 median 395 → 247 ms.
    batches_in_flight = 2

    def __init__(self, db: Database, merge_chunk: int = MERGE_CHUNK) -> None:
        super().__init__(merge_chunk)
        self.db = db
        self.writer = secrets.randbits(63)  # this recorder's row in `reaction_writers`
        self._joined = False
        self._joining = asyncio.Lock()

    async def append(self, at: int, ops: list[Op], since: int, turn: Turn) -> None:
        if not self._joined:
            async with self._joining:  # before the first batch, which the second may follow
                if not self._joined:
                    await self.db.write(WRITER_JOINED, (self.writer, at, at - WRITERS_KEPT))
                    self._joined = True
        events, cleared, deleted, emojis = batch_parts(ops)
        try:
            await self.db.write(
                APPLY_BATCH,
                (
                    self.writer,
                    turn.number,
                    turn.follows,
                    at,
                    since,
                    [e[0] for e in events],
                    [e[1] for e in events],
                    [e[2] for e in events],
                    [e[3] for e in events],
                    [c[0] for c in cleared],
                    [c[1] for c in cleared],
                    deleted,
                    [k for k, _ in emojis],
                    [d for _, d in emojis],
                ),
            )
        except Exception as error:
            if getattr(error, "sqlstate", None) == OUT_OF_TURN:
                raise OutOfTurn(str(error)) from error
            raise

    async def merge(self) -> bool:
        """Fold the daily counts' notes (every process's) into the counts; False if none."""
        async with self.db.unlocked() as tx:
            return bool(await tx.fetchval(FOLD))

    async def counts_settled(self, tx: Tx) -> None:
        # The deleted reactions' notes name their members: folded before `tx` commits.
        await tx.fetchval(FOLD)

    async def seal(self, guild_id: int, week: int) -> bool:
        # alone beside the folds (migration postgresql/0025)
        async with self.db.transaction() as tx:
            return bool(await tx.fetchval("SELECT reaction_weeks_seal(?, ?)", (guild_id, week)))

    async def member_reactions(self, user_id: int) -> list[Row]:
        return await self.db.fetchall(
            "SELECT message_id, emoji, created_at FROM reactions WHERE user_id = ? ORDER BY 1, 2",
            (user_id,),
        )


def store_for(db: Database, merge_chunk: int) -> Store:
    if isinstance(db, SqliteDatabase):
        return LogStore(db, merge_chunk)
    return DirectStore(db, merge_chunk)
