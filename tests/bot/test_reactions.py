import asyncio
import shutil
import sqlite3
from contextlib import closing

import pytest

from bot import Config, ops
from bot.members import Forgotten
from bot.reactions.recorder import LoopTime, ReactionRecorder, Tracked, emoji_key
from bot.reactions.store import FOLD_NOTES, OutOfTurn


class HandTime(LoopTime):
    """Time the test moves: the recorder's sleeps end only when `advance` passes them, and
    `advance` returns once every task the recorder started has finished or sleeps again."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeping: dict[asyncio.Task, tuple[float, asyncio.Future]] = {}
        # Tasks waiting for batches being written, and for which: quiet while none is settled.
        self.waiting: dict[asyncio.Task, list[asyncio.Future]] = {}
        self.recorder: ReactionRecorder | None = None

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self.sleeping[asyncio.current_task()] = (self.now + seconds, future)
        await future

    async def settled(self, batches: list[asyncio.Future]) -> None:
        task = asyncio.current_task()
        self.waiting[task] = batches
        try:
            await asyncio.wait(batches)
        finally:
            del self.waiting[task]

    def quiet(self, task: asyncio.Task) -> bool:
        batches = self.waiting.get(task)
        return task in self.sleeping or (batches is not None and not any(b.done() for b in batches))

    async def settle(self) -> None:
        for _ in range(5000):
            if all(self.quiet(task) for task in self.recorder.background()):
                return
            await asyncio.sleep(0.001)  # the database's threads finish what they were given
        raise AssertionError("the recorder kept working")

    async def advance(self, seconds: float) -> None:
        """Move time on by `seconds`, waking each sleep in turn when its moment comes."""
        target = self.now + seconds
        await self.settle()
        while True:
            due = [(deadline, task) for task, (deadline, _) in self.sleeping.items()]
            due = [pair for pair in due if pair[0] <= target]
            if not due:
                break
            deadline, task = min(due, key=lambda pair: pair[0])
            self.now = max(self.now, deadline)
            _, future = self.sleeping.pop(task)
            future.set_result(None)
            await self.settle()
        self.now = target


@pytest.fixture
async def recorder(db):
    timing = HandTime()
    rec = ReactionRecorder(db, clock=lambda: 1000.0, timing=timing, max_delay=0.05, merge_idle=0.05)
    timing.recorder = rec
    for message_id in (1, 2, 3):
        await rec.track(
            Tracked(message_id, 9, 5, "section", essay_id=1, section_id=message_id), 1000
        )
    yield rec
    await rec.close()


# The log and its merge are SQLite's (bot/reactions/store.py); PostgreSQL applies each batch.
SQLITE_LOG = pytest.mark.parametrize("backend", ["sqlite"])


async def rows(rec):
    return {
        tuple(r) for r in await rec.db.fetchall("SELECT message_id, user_id, emoji FROM reactions")
    }


async def logged(rec):
    """Events in the log, not merged yet."""
    return await rec.db.fetchval("SELECT count(*) FROM reaction_log_events")


def test_emoji_keys():
    assert emoji_key("❤️") == emoji_key("❤") == "❤"
    assert emoji_key("popcorn", 123) == "c:123"
    assert emoji_key("👍🏽") == "👍🏽"


@SQLITE_LOG
async def test_events_are_committed_in_one_statement_per_batch(recorder):
    writes = 0
    original = recorder.db.write

    async def counting(sql, params=()):
        nonlocal writes
        writes += 1
        await original(sql, params)

    recorder.db.write = counting
    recorder.merge_idle = 60
    for user in range(500):
        recorder.add(1, user, "🎬")
    await recorder.timing.advance(0.2)
    assert writes == 1
    assert await logged(recorder) == 500 and await rows(recorder) == set()
    await recorder.flush()
    assert len(await rows(recorder)) == 500 and await logged(recorder) == 0


@SQLITE_LOG
async def test_events_arriving_during_a_write_join_the_next_batch(recorder):
    recorder.max_batch, recorder.merge_idle = 100, 60
    logged_after_each_write = []
    release = asyncio.Event()
    original = recorder.db.write

    async def slow(sql, params=()):
        await release.wait()
        await original(sql, params)
        logged_after_each_write.append(await logged(recorder))

    recorder.db.write = slow
    for user in range(100):
        recorder.add(1, user, "🎬")
    await asyncio.sleep(0)  # the first batch is being written
    for user in range(100, 450):
        recorder.add(1, user, "🎬")
    await asyncio.sleep(0)
    release.set()
    await recorder.commit()
    assert logged_after_each_write == [100, 450], "two batches: 100, then the 350 that waited"
    await recorder.flush()
    assert len(await rows(recorder)) == 450


async def test_a_failed_write_is_tried_again_without_losing_events(recorder, monkeypatch):
    monkeypatch.setattr("bot.reactions.recorder.RETRY_DELAY", 0.05)
    original = recorder.db.write
    failures = []

    async def locked_once(sql, params=()):
        if not failures:
            failures.append(sql)
            raise sqlite3.OperationalError("database is locked")
        await original(sql, params)

    recorder.db.write = locked_once
    recorder.add(1, 7, "🎬")
    recorder.add(2, 8, "🔥")
    await recorder.timing.advance(0.3)  # no new event arrives: the retry alone commits them
    assert len(failures) == 1
    assert await rows(recorder) == {(1, 7, "🎬"), (2, 8, "🔥")}


async def test_events_that_waited_are_written_in_statements_of_bounded_size(recorder):
    """A queue longer than `max_statement` is written in several statements, in order: a clear
    in the second voids what the first wrote, and a failed statement is queued again alone."""
    recorder.max_statement, recorder.merge_idle = 40, 60
    sizes = []
    original = recorder.store.append

    async def append(at, ops, since, turn):
        sizes.append(len(ops))
        if len(sizes) == 2:
            raise sqlite3.OperationalError("database is locked")
        await original(at, ops, since, turn)

    recorder.store.append = append
    for user in range(50):
        recorder.add(1, user, "🎬")
    recorder.clear(1)  # the 51st event: in the second statement
    for user in range(50, 100):
        recorder.add(2, user, "🎬")
    with pytest.raises(sqlite3.OperationalError):
        await recorder.commit()
    assert sizes == [40, 40]
    assert await recorder.commit() == 61
    assert sizes == [40, 40, 40, 21]
    await recorder.flush()
    assert await rows(recorder) == {(2, user, "🎬") for user in range(50, 100)}


async def test_order_within_a_batch_is_respected(recorder):
    recorder.add(1, 7, "🎬")
    recorder.remove(1, 7, "🎬")
    recorder.add(1, 7, "🎬")  # add, remove, add again
    recorder.add(2, 7, "🔥")
    recorder.clear(2)
    recorder.add(2, 8, "🔥")  # after the clear: survives
    recorder.add(3, 7, "🎬")
    recorder.add(3, 8, "👍")
    recorder.clear_emoji(3, "🎬")
    await recorder.flush()
    assert await rows(recorder) == {(1, 7, "🎬"), (2, 8, "🔥"), (3, 8, "👍")}


async def test_close_flushes_what_is_queued(recorder):
    recorder.max_delay = 60
    recorder.add(1, 7, "🎬")
    await recorder.close()
    assert await rows(recorder) == {(1, 7, "🎬")}


async def test_bulk_deletes_mark_tracked_messages(recorder):
    recorder.clock = lambda: 2000.0
    recorder.deleted([1, 2, 99])
    await recorder.flush()
    deleted = await recorder.db.fetchall(
        "SELECT message_id FROM tracked_messages WHERE deleted_at = 2000"
    )
    assert {r[0] for r in deleted} == {1, 2}
    assert recorder.tracked == {3}


async def test_custom_emoji_are_stored_by_id_with_how_to_show_them(recorder):
    recorder.add(1, 7, emoji_key("popcorn", 55), "<:popcorn:55>")
    recorder.add(2, 8, emoji_key("popcorn", 55), "<:popcorn:55>")
    await recorder.flush()
    assert await rows(recorder) == {(1, 7, "c:55"), (2, 8, "c:55")}
    shown = await recorder.db.fetchall("SELECT key, display FROM emojis")
    assert [tuple(r) for r in shown] == [("c:55", "<:popcorn:55>")]

    recorder.known_emoji.clear()  # as after a restart; the emoji was renamed meanwhile
    recorder.add(3, 7, "c:55", "<:kernels:55>")
    await recorder.flush()
    shown = await recorder.db.fetchall("SELECT key, display FROM emojis")
    assert [tuple(r) for r in shown] == [("c:55", "<:kernels:55>")]


@SQLITE_LOG
async def test_logged_events_are_merged_once_no_batch_comes_for_a_moment(recorder):
    recorder.add(1, 7, "🎬")
    recorder.add(2, 8, "🔥")
    await recorder.timing.advance(0.07)  # committed to the log, not merged yet
    assert await logged(recorder) == 2 and await rows(recorder) == set()
    await recorder.timing.advance(0.1)
    assert await rows(recorder) == {(1, 7, "🎬"), (2, 8, "🔥")}
    assert await logged(recorder) == 0


async def test_a_write_longer_than_the_pause_puts_the_merge_off(recorder):
    """The merge waits for a pause in the events; a batch still being written is none."""
    merged_at = []
    merge, append = recorder.store.merge, recorder.store.append

    async def noting_merge():
        merged_at.append(recorder.timing.now)
        return await merge()

    async def slow_append(at, ops, since, turn):
        if ops[0][2] == 8:
            await recorder.timing.sleep(0.3)  # a large batch on a busy server
        await append(at, ops, since, turn)

    recorder.store.merge, recorder.store.append = noting_merge, slow_append
    recorder.add(1, 7, "🎬")
    await recorder.timing.advance(0.06)  # committed at 0.05: a merge is due at 0.1
    recorder.add(1, 8, "🎬")  # written from 0.11 to 0.41
    await recorder.timing.advance(0.34)
    assert merged_at == []
    await recorder.timing.advance(0.2)
    assert merged_at == [pytest.approx(0.46)]  # a pause of 0.05 after the write ended
    assert await rows(recorder) == {(1, 7, "🎬"), (1, 8, "🎬")}


class MergeDuringAWrite:
    """The recorder's store made to merge as PostgreSQL's does (taking turns with the batches),
    a batch of member 8 being written and held until `release` is set, and a merge started
    meanwhile; `merges` says, for each merge begun, whether the write was over."""

    def __init__(self, recorder) -> None:
        self.recorder = recorder
        self.writing, self.release, self.merges = asyncio.Event(), asyncio.Event(), []
        merge, append = recorder.store.merge, recorder.store.append

        async def noting_merge():
            self.merges.append(self.release.is_set())
            return await merge()

        async def held(at, ops, since, turn):
            if ops[0][2] == 8:
                self.writing.set()
                await self.release.wait()
            await append(at, ops, since, turn)

        recorder.store.merge, recorder.store.append = noting_merge, held
        recorder.store.merges_between_batches = True
        recorder.merge_idle = 1.0  # no event for 0.5 s is a stream over

    async def start(self) -> None:
        self.recorder.add(1, 8, "🎬")
        self.committing = asyncio.create_task(self.recorder.commit())
        await self.writing.wait()
        self.merging = asyncio.create_task(self.recorder.merge())

    async def events_every_5_ms(self, users: range) -> None:
        for user_id in users:
            await asyncio.sleep(0.005)
            self.recorder.add(2, user_id, "🔥")  # queued: the flush timer is on hand time


async def test_a_merge_takes_its_turn_after_the_batch_being_written_while_events_come(recorder):
    during = MergeDuringAWrite(recorder)
    await during.start()
    coming = asyncio.create_task(during.events_every_5_ms(range(20, 180)))  # 0.8 s
    await asyncio.sleep(0.5)
    assert during.merges == []
    during.release.set()
    await asyncio.wait_for(during.merging, 5)
    assert during.merges == [True]  # once the write was over
    await coming
    await during.committing
    await recorder.flush()
    assert len(await rows(recorder)) == 161


async def test_a_merge_goes_beside_the_batch_being_written_once_events_stop(recorder):
    during = MergeDuringAWrite(recorder)
    await during.start()
    await during.events_every_5_ms(range(20, 60))
    await asyncio.wait_for(during.merging, 5)  # no event since: it does not wait for the write
    assert during.merges == [False] and not during.committing.done()
    during.release.set()
    await during.committing
    await recorder.flush()  # the writer's turn was never taken: nothing waits for it
    assert len(await rows(recorder)) == 41


@SQLITE_LOG
async def test_many_logged_events_merge_at_once_in_ranges_of_posts(recorder):
    recorder.merge_idle, recorder.merge_rows, recorder.merge_chunk = 60, 300, 100
    merged_after_each_step = []
    original = recorder.db.script

    async def watching(sql):
        await original(sql)
        merged_after_each_step.append(len(await rows(recorder)))

    recorder.db.script = watching
    for message_id in (1, 2, 3):
        for user in range(100):
            recorder.add(message_id, user, "🎬")
    await recorder.commit()
    await recorder.timing.settle()  # the merge started by 300 waiting events, at once
    assert len(await rows(recorder)) == 300 and await logged(recorder) == 0
    # A range of posts at a time (posts 1, 2, 3, then the open end after them, empty), each
    # committed on its own: the rows arrive 100 at a time, never all at once.
    merged = [count for count in dict.fromkeys(merged_after_each_step) if count]
    assert merged == [100, 200, 300]


@SQLITE_LOG
async def test_a_merge_keeps_the_last_event_of_each_reaction_across_batches(recorder):
    recorder.merge_idle = 60
    recorder.add(1, 7, "🎬")
    recorder.add(1, 8, "🎬")
    await recorder.flush()
    recorder.remove(1, 7, "🎬")
    recorder.add(2, 7, "🔥")
    await recorder.commit()
    recorder.add(1, 7, "🎬")  # added again in a later batch
    recorder.remove(1, 8, "🎬")
    recorder.remove(2, 7, "🔥")
    await recorder.commit()
    assert await logged(recorder) == 5
    await recorder.merge()
    assert await rows(recorder) == {(1, 7, "🎬")}


@SQLITE_LOG
async def test_a_clear_applies_after_the_events_logged_before_it(recorder):
    recorder.merge_idle = 60
    recorder.add(1, 7, "🎬")
    recorder.add(1, 8, "🔥")
    await recorder.commit()
    recorder.clear(1)
    recorder.add(1, 9, "🎬")
    await recorder.commit()  # clears are logged like the events: one write path
    assert await logged(recorder) == 3 and await rows(recorder) == set()
    await recorder.merge()
    assert await logged(recorder) == 0
    assert await rows(recorder) == {(1, 9, "🎬")}


async def test_clears_in_a_batch_void_what_came_before_them_only(recorder):
    recorder.merge_idle = 60
    recorder.add(2, 7, "🎬")
    recorder.add(2, 7, "🔥")
    await recorder.flush()  # merged: they are rows already
    recorder.add(1, 7, "🎬")
    recorder.clear(1)  # in the same batch: voids the add before it
    recorder.add(1, 8, "🔥")
    recorder.clear_emoji(2, "🎬")  # one emoji of a merged post
    recorder.add(2, 9, "🎬")  # after it: kept
    await recorder.flush()
    assert await rows(recorder) == {(1, 8, "🔥"), (2, 7, "🔥"), (2, 9, "🎬")}


@SQLITE_LOG
async def test_events_logged_before_a_crash_are_merged_on_start(recorder):
    recorder.merge_idle = 60
    recorder.add(1, 7, "🎬")
    await recorder.commit()
    restarted = ReactionRecorder(recorder.db, clock=lambda: 1000.0)
    await restarted.load()
    assert await rows(restarted) == {(1, 7, "🎬")} and await logged(restarted) == 0


@SQLITE_LOG
async def test_a_merge_that_fails_halfway_is_done_again(recorder, monkeypatch):
    monkeypatch.setattr("bot.reactions.recorder.RETRY_DELAY", 0.05)
    recorder.merge_chunk = 1
    recorder.add(1, 7, "🎬")
    recorder.add(2, 7, "🎬")
    recorder.add(3, 7, "🎬")
    await recorder.flush()
    original = recorder.db.script
    failed = asyncio.Event()

    async def locked_in_the_second_range(sql):
        # The first step once the first range (post 1's removal) is merged fails.
        if not failed.is_set() and (1, 7, "🎬") not in await rows(recorder):
            failed.set()
            raise sqlite3.OperationalError("database is locked")
        await original(sql)

    recorder.db.script = locked_in_the_second_range
    recorder.remove(1, 7, "🎬")
    recorder.remove(2, 7, "🎬")
    recorder.add(3, 8, "🔥")
    await recorder.timing.advance(0.1)  # committed at 0.05, merged at 0.10: the second range fails
    assert failed.is_set()
    assert await rows(recorder) == {(2, 7, "🎬"), (3, 7, "🎬")}, "the first range is merged"
    assert await logged(recorder) == 3
    await recorder.timing.advance(0.15)  # no new event arrives: the retry alone merges the rest
    assert await rows(recorder) == {(3, 7, "🎬"), (3, 8, "🔥")}
    assert await logged(recorder) == 0


def file_alone(rec, tmp_path):
    """The reactions a copy of the database's file holds without its write-ahead log: what the
    log has been copied into (checkpointed)."""
    copy = tmp_path / "file-alone.db"
    shutil.copyfile(rec.db.path, copy)
    with closing(sqlite3.connect(copy)) as conn:
        return {tuple(r) for r in conn.execute("SELECT message_id, user_id, emoji FROM reactions")}


@SQLITE_LOG
async def test_the_log_is_copied_into_the_file_once_the_merges_pause(recorder, tmp_path):
    recorder.add(1, 7, "🎬")
    recorder.add(2, 8, "🔥")
    await recorder.timing.advance(0.2)  # committed, then merged once no batch came
    await recorder.checkpointed()
    assert await rows(recorder) == {(1, 7, "🎬"), (2, 8, "🔥")}
    assert file_alone(recorder, tmp_path) == {(1, 7, "🎬"), (2, 8, "🔥")}


class FirstMergeHeld:
    """The recorder's store with its first merge held open once its work is done (`holding` set
    then, until `release` is), and each checkpoint noting how many reactions were merged by
    then (`merged_at_checkpoints`)."""

    def __init__(self, recorder):
        self.holding, self.release = asyncio.Event(), asyncio.Event()
        self.merged_at_checkpoints: list[int] = []
        merge, checkpoint = recorder.store.merge, recorder.db.checkpoint

        async def held_merge():
            merged = await merge()
            if not self.release.is_set():
                self.holding.set()
                await self.release.wait()
            return merged

        async def noting_checkpoint():
            self.merged_at_checkpoints.append(len(await rows(recorder)))
            await checkpoint()

        recorder.store.merge, recorder.db.checkpoint = held_merge, noting_checkpoint


@SQLITE_LOG
async def test_merges_that_follow_each_other_leave_the_checkpoint_to_the_last(recorder):
    """A stream's merges follow each other: a page each rewrites is copied into the file once,
    after the last."""
    recorder.merge_idle, recorder.merge_rows = 60, 2
    held = FirstMergeHeld(recorder)
    recorder.add(1, 7, "🎬")
    recorder.add(2, 7, "🎬")
    await recorder.commit()  # two events waiting: a merge starts
    await held.holding.wait()  # it has merged them, and is not over yet
    recorder.add(3, 7, "🎬")
    recorder.add(3, 8, "🔥")
    await recorder.commit()  # two more: another merge is due after it
    held.release.set()
    await recorder.timing.settle()
    assert len(await rows(recorder)) == 4
    assert held.merged_at_checkpoints == [4]


@SQLITE_LOG
async def test_a_merge_that_events_kept_coming_during_leaves_the_checkpoint_to_the_next(recorder):
    """Events coming through a merge, however few a merge needs, make it one of a stream's."""
    recorder.merge_idle, recorder.merge_rows = 0.05, 100
    held = FirstMergeHeld(recorder)
    recorder.add(1, 7, "🎬")
    await recorder.commit()
    merging = asyncio.create_task(recorder.merge())
    await held.holding.wait()
    for user in range(20):  # a fifth of what a merge needs at once: none is due
        recorder.add(2, user, "🔥")
    await recorder.commit()
    held.release.set()
    await merging
    assert held.merged_at_checkpoints == []
    await recorder.timing.advance(0.1)  # the events stop: their merge, then the checkpoint
    assert held.merged_at_checkpoints == [21]


@SQLITE_LOG
async def test_a_checkpoint_that_fails_loses_nothing_and_the_next_pause_copies_all(
    recorder, tmp_path, caplog
):
    tries = 0
    checkpoint = recorder.db.checkpoint

    async def failing_once():
        nonlocal tries
        tries += 1
        if tries == 1:
            raise sqlite3.OperationalError("database is locked")
        await checkpoint()

    await checkpoint()  # the tables as migrations made them, in the file
    recorder.db.checkpoint = failing_once
    recorder.add(1, 7, "🎬")
    await recorder.timing.advance(0.2)
    assert tries == 1 and "Could not copy the database's log into its file" in caplog.text
    assert await rows(recorder) == {(1, 7, "🎬")}
    assert file_alone(recorder, tmp_path) == set(), "still in the log alone"
    recorder.add(2, 8, "🔥")
    await recorder.timing.advance(0.2)
    assert tries == 2
    assert file_alone(recorder, tmp_path) == {(1, 7, "🎬"), (2, 8, "🔥")}


@SQLITE_LOG
async def test_a_merge_folds_its_notes_every_few_ranges_and_at_its_end(recorder, monkeypatch):
    # Migration 0026: each range notes what it changes; the counts take the notes every
    # FOLD_EVENTS events and with the last range. Ranges of one post here: a merge stopped
    # after its third leaves post 3's notes, which the merge that does it again folds once.
    monkeypatch.setattr("bot.reactions.store.FOLD_EVENTS", 2)
    recorder.merge_idle = 60
    recorder.merge_chunk = 1
    for message_id in (1, 2, 3):
        recorder.add(message_id, 7, "🎬")
    recorder.add(3, 8, "🔥")
    await recorder.commit()
    original = recorder.db.script
    ranges = []

    async def stopped_after_the_third_range(sql):
        if "BEGIN IMMEDIATE" in sql and len(ranges) == 3:
            raise sqlite3.OperationalError("disk I/O error")
        await original(sql)
        if "BEGIN IMMEDIATE" in sql:
            ranges.append(sql)

    recorder.db.script = stopped_after_the_third_range
    with pytest.raises(sqlite3.OperationalError):
        await recorder.merge()
    assert len(ranges) == 3
    assert await day_counts(recorder) == ({(9, 0, 1, 0, 1), (9, 0, 2, 0, 1)}, {(9, 0, 7, 2)})
    assert await notes(recorder) == 2, "post 3's reactions, merged and not folded yet"
    recorder.db.script = original
    await recorder.merge()
    assert await rows(recorder) == {(1, 7, "🎬"), (2, 7, "🎬"), (3, 7, "🎬"), (3, 8, "🔥")}
    assert await day_counts(recorder) == (
        {(9, 0, 1, 0, 1), (9, 0, 2, 0, 1), (9, 0, 3, 0, 2)},
        {(9, 0, 7, 3), (9, 0, 8, 1)},
    )
    assert await notes(recorder) == 0


@SQLITE_LOG
async def test_a_fold_finds_the_counts_at_zero_through_their_indexes(recorder):
    # Migration 0031: the counts left at zero are deleted through partial indexes of them, not
    # by scanning the count tables (SQLite 3.40 scans the members' tables unless told).
    for statement in FOLD_NOTES:
        if statement.startswith("DELETE FROM") and "reactions = 0" in statement:
            table = statement.split()[2]
            plan = await recorder.db.fetchall_writing(f"EXPLAIN QUERY PLAN {statement}")
            assert [row[3] for row in plan] == [f"SCAN {table} USING INDEX {table}_at_zero"]


@SQLITE_LOG
async def test_notes_left_with_an_empty_log_are_folded_at_the_next_start(recorder):
    # Reactions written by anything but the merge (a tool, a restore) are noted like the
    # merge's; a start folds what it finds, though no batch is logged.
    async with recorder.db.transaction() as tx:
        await tx.execute("INSERT INTO reactions VALUES (1, 7, '🎬', 1000), (2, 7, '🎬', 90000)")
    assert await day_counts(recorder) == (set(), set()) and await notes(recorder) == 2
    restarted = ReactionRecorder(recorder.db, clock=lambda: 100000.0)
    await restarted.load()
    assert await day_counts(restarted) == (
        {(9, 0, 1, 0, 1), (9, 1, 2, 0, 1)},
        {(9, 0, 7, 1), (9, 1, 7, 1)},
    )
    assert await notes(restarted) == 0


@SQLITE_LOG
async def test_a_steady_stream_is_merged_once_its_oldest_batch_is_old_enough(recorder):
    recorder.merge_idle, recorder.merge_max_age = 0.05, 0.2
    for user in range(12):
        recorder.add(1, user, "🎬")
        await recorder.commit()
        await recorder.timing.advance(0.03)  # never quiet for merge_idle
    merged = len(await rows(recorder))
    # Batches at 0, 0.03, ... 0.33 s: the one at 0.21 s finds the oldest unmerged batch 0.2 s
    # old, and the eight logged so far are merged while the stream goes on.
    assert merged == 8, "merged while the stream went on, not only after it"


@SQLITE_LOG
async def test_a_members_export_includes_events_not_merged_yet(recorder):
    recorder.merge_idle = 60
    recorder.add(1, 7, "🎬")
    recorder.add(3, 7, "👍")
    await recorder.flush()
    recorder.remove(1, 7, "🎬")
    recorder.add(2, 7, "🔥")
    recorder.add(2, 8, "🔥")
    await recorder.commit()
    exported = (await ops.export(Config(database_path=recorder.db.path), member_id=7))["reactions"]
    assert [(r["message_id"], r["emoji"]) for r in exported] == [(2, "🔥"), (3, "👍")]


async def test_batches_apply_in_the_order_events_came_on_either_backend(recorder):
    recorder.add(1, 7, "🎬")
    recorder.add(1, 8, "🔥")
    await recorder.commit()
    recorder.clear(1)
    recorder.add(1, 9, "🎬")
    await recorder.commit()
    recorder.remove(1, 9, "🎬")
    recorder.add(1, 9, "🎬")  # taken back and given again in one batch
    recorder.add(2, 7, "🎬")
    recorder.add(2, 7, "🔥")
    await recorder.commit()
    recorder.clear_emoji(2, "🎬")
    recorder.add(2, 8, "🎬")
    recorder.deleted([3])
    await recorder.flush()
    assert await rows(recorder) == {(1, 9, "🎬"), (2, 7, "🔥"), (2, 8, "🎬")}
    assert (
        await recorder.db.fetchval("SELECT deleted_at FROM tracked_messages WHERE message_id = 3")
        == 1000
    )


async def day_counts(rec):
    db = rec.db
    shown = {tuple(r) for r in await db.fetchall("SELECT * FROM reaction_days")}
    given = {tuple(r) for r in await db.fetchall("SELECT * FROM member_reaction_days")}
    return shown, given


async def notes(rec, user_id=None):
    """The notes of the daily counts, not folded yet (migrations 0026, postgresql/0023)."""
    where = "" if user_id is None else f" WHERE user_id = {int(user_id)}"
    return await rec.db.fetchval(f"SELECT count(*) FROM reaction_day_changes{where}")


async def test_a_flush_merges_only_when_something_was_logged_since_the_last_merge(
    recorder, monkeypatch
):
    # `/quote top` flushes to count the latest events: on PostgreSQL a merge is a write
    # transaction (the fold), which a flush with nothing new must not pay at every call.
    recorder.merge_idle = 60
    recorder.add(1, 7, "🎬")
    await recorder.flush()
    merges = []
    merge = recorder.store.merge

    async def counted() -> bool:
        merges.append(1)
        return await merge()

    monkeypatch.setattr(recorder.store, "merge", counted)
    await recorder.flush()
    assert merges == []
    recorder.add(2, 7, "🔥")
    await recorder.flush()
    assert merges == [1]
    assert (9, 0, 7, 2) in (await day_counts(recorder))[1]

    # A recorder started on what an earlier run logged and never merged merges at its first
    # flush, though nothing was logged since it started.
    recorder.add(3, 8, "🎬")
    await recorder.commit()
    restarted = ReactionRecorder(recorder.db, clock=lambda: 1000.0)
    await restarted.flush()
    assert (9, 0, 8, 1) in (await day_counts(restarted))[1]


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_postgresql_batches_leave_the_daily_counts_to_the_merge(recorder):
    recorder.merge_idle = 60
    recorder.add(1, 7, "🎬")
    recorder.add(1, 8, "🎬")
    recorder.add(2, 7, "🔥")
    await recorder.commit()
    assert len(await rows(recorder)) == 3
    assert await day_counts(recorder) == (set(), set()) and await notes(recorder) == 3
    recorder.remove(1, 8, "🎬")
    await recorder.commit()
    # Two merges at once (as two processes' would) take each note once.
    await asyncio.gather(recorder.merge(), recorder.merge())
    # Guild 9, day 0 (the clock says 1000): member 8's day, back to nothing, is gone.
    assert await day_counts(recorder) == ({(9, 0, 1, 0, 1), (9, 0, 2, 0, 1)}, {(9, 0, 7, 2)})
    assert await notes(recorder) == 0

    recorder.add(3, 7, "🎬")
    await recorder.commit()
    assert await notes(recorder, 7) == 1
    async with recorder.db.transaction() as tx:
        await recorder.forget_member(tx, 7, Forgotten())
    assert await notes(recorder, 7) == 0  # no trace of the member waits for a merge
    assert await day_counts(recorder) == (set(), set())


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_postgresql_fold_waits_for_the_batch_being_written(recorder, monkeypatch):
    recorder.merge_idle = 60
    recorder.add(1, 7, "🎬")
    await recorder.commit()
    writing, release = asyncio.Event(), asyncio.Event()
    append = recorder.store.append

    async def held(*args, **kwargs):
        writing.set()
        await release.wait()
        await append(*args, **kwargs)

    monkeypatch.setattr(recorder.store, "append", held)
    recorder.add(2, 7, "🔥")
    commit = asyncio.create_task(recorder.commit())
    await writing.wait()
    merge = asyncio.create_task(recorder.merge())
    await asyncio.sleep(0.1)
    assert not merge.done() and await notes(recorder) == 1  # the first batch's, not folded
    release.set()
    await asyncio.gather(commit, merge)
    assert await notes(recorder) == 0
    assert await day_counts(recorder) == ({(9, 0, 1, 0, 1), (9, 0, 2, 0, 1)}, {(9, 0, 7, 2)})


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_stream_of_postgresql_events_is_folded_as_it_goes(recorder):
    recorder.merge_idle, recorder.merge_max_age, recorder.merge_rows = 60, 60, 300
    for n in range(299):
        recorder.add(n % 3 + 1, n, "🎬")
    await recorder.commit()
    await recorder.timing.settle()
    assert await notes(recorder) == 299  # the stream goes on: folded later
    recorder.add(1, 300, "🎬")
    await recorder.commit()
    await recorder.timing.settle()
    assert await notes(recorder) == 0
    shown, _ = await day_counts(recorder)
    assert sorted(row[4] for row in shown) == [99, 100, 101]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_stream_that_never_pauses_is_merged_every_two_seconds_on_sqlite_ten_on_postgresql(
    recorder,
):
    # SQLite merges its log into `reactions` at least every 2 s. PostgreSQL has its rows at once
    # and only folds its counts' notes, a fold holding the batches back while events come: at
    # least every 10 s (`DirectStore.merge_max_age`).
    every = {"sqlite": 2.0, "postgresql": 10.0}[recorder.db.backend]
    recorder.merge_idle = 0.1  # the bot's own; a batch comes every 0.05 s
    unmerged = []
    for user in range(240):  # 12 s
        recorder.add(user % 3 + 1, user, "🎬")
        await recorder.commit()
        await recorder.timing.advance(0.05)
        unmerged.append(await (logged if recorder.db.backend == "sqlite" else notes)(recorder))
    merges = [user for user in range(1, 240) if unmerged[user] < unmerged[user - 1]]
    assert merges, "merged while the stream went on"
    assert merges[0] * 0.05 == pytest.approx(every, abs=0.1)
    if recorder.db.backend == "postgresql":
        assert len(merges) == 1


class WriterRowHeld:
    """PostgreSQL: the recorder's row in `reaction_writers` locked by another transaction, so
    that each batch sent waits at the server (migration postgresql/0038) until `release`."""

    WAITING = (
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query LIKE 'SELECT apply_reaction_batch_in_turn%' ORDER BY query_start"
    )

    def __init__(self, recorder) -> None:
        self.recorder, self.db = recorder, recorder.db
        self.held, self.release = asyncio.Event(), asyncio.Event()

    async def __aenter__(self):
        self.task = asyncio.create_task(self._hold())
        await self.held.wait()
        return self

    async def _hold(self) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("SELECT batch FROM reaction_writers FOR UPDATE")
            self.held.set()
            await self.release.wait()

    async def waiting(self, batches: int) -> list[int]:
        """The server processes of the `batches` batches waiting, the first sent first."""
        for _ in range(500):
            pids = [row[0] for row in await self.db.fetchall(self.WAITING)]
            if len(pids) == batches:
                return pids
            await asyncio.sleep(0.01)
        raise AssertionError(f"{len(pids)} batches waiting at the server, not {batches}")

    async def two_batches(self) -> tuple[asyncio.Task, asyncio.Task, list[int]]:
        """A batch adding a reaction, then one removing it and adding another, sent while
        the first waits: their commits, and the server processes of the batches waiting."""
        recorder = self.recorder
        recorder.add(2, 7, "🔥")
        first = asyncio.create_task(recorder.commit())
        await self.waiting(1)
        recorder.remove(2, 7, "🔥")
        recorder.add(3, 7, "🎬")
        second = asyncio.create_task(recorder.commit())
        return first, second, await self.waiting(2)  # sent before the first was written

    async def __aexit__(self, *exc) -> None:
        self.release.set()
        await self.task


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_postgresql_batch_is_sent_while_the_one_before_is_written_and_follows_it(
    recorder,
):
    recorder.merge_idle = 60
    recorder.add(1, 7, "🎬")
    await recorder.commit()  # the recorder's row exists from its first batch
    sent, send = [], recorder._send
    recorder._send = lambda count: sent.append(send(count)) or sent[-1]
    calls, append = [], recorder.store.append

    async def counted(at, ops, since, turn):
        calls.append(turn.number)
        await append(at, ops, since, turn)

    recorder.store.append = counted
    async with WriterRowHeld(recorder) as held:
        first, second, _ = await held.two_batches()
    assert (await first, await second) == (1, 2)
    # The removal in the second batch found what the first added.
    assert await rows(recorder) == {(1, 7, "🎬"), (3, 7, "🎬")}
    assert calls == [2, 3]  # the second waited for the first: not refused, not sent again
    assert sent[1].turn.follows == sent[0].turn.number
    # Written, a batch lets go of the one it followed: a stream's batches are not kept.
    assert sent[1].follows is None


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_postgresql_batch_sent_after_one_that_fails_is_not_written_and_both_go_again(
    recorder, caplog
):
    recorder.merge_idle = 60
    recorder.add(1, 7, "🎬")
    await recorder.commit()
    async with WriterRowHeld(recorder) as held:
        first, second, (first_pid, _) = await held.two_batches()
        await recorder.db.fetchval("SELECT pg_cancel_backend(?)", (first_pid,))
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert all(isinstance(result, Exception) for result in results), results
    assert "batch 3 follows batch 2, which was not written" in str(results[1])
    assert "Could not commit 3 reaction events; they are queued again" in caplog.text
    assert await rows(recorder) == {(1, 7, "🎬")}  # neither was written
    assert await recorder.commit() == 3  # in their order: the removal after the addition
    assert await rows(recorder) == {(1, 7, "🎬"), (3, 7, "🎬")}


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_postgresql_batch_whose_answer_was_lost_counts_as_written_once_a_later_one_is(
    recorder, caplog
):
    """A call can fail after the server committed (the connection dropped on the way back):
    the batch sent after it was written, so it was too, and its events are not written again."""
    recorder.merge_idle = 60
    recorder.add(2, 7, "🎬")
    await recorder.commit()  # the recorder's row exists from its first batch
    append = recorder.store.append
    first_written, second_written = asyncio.Event(), asyncio.Event()

    async def answer_lost(at, ops, since, turn):
        await append(at, ops, since, turn)
        if turn.number == 2:
            first_written.set()
            await second_written.wait()
            raise ConnectionResetError("connection lost")
        second_written.set()

    recorder.store.append = answer_lost
    recorder.add(1, 7, "🎬")
    first = asyncio.create_task(recorder.commit())
    await first_written.wait()
    recorder.remove(1, 7, "🎬")
    assert await asyncio.wait_for(recorder.commit(), 5) == 1  # sent while the first is out
    assert await first == 1
    assert "queued again" not in caplog.text
    assert await rows(recorder) == {(2, 7, "🎬")}  # not added again after its removal


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_postgresql_flush_writes_again_what_an_earlier_batch_failed_to_write(recorder):
    """A flush with nothing queued of its own, while a batch sent before it fails: the failed
    batch's events, queued again, are written before the flush says all is written."""
    recorder.merge_idle = 60
    append, calls = recorder.store.append, []
    sent, failing = asyncio.Event(), asyncio.Event()

    async def fails_once(at, ops, since, turn):
        calls.append(turn.number)
        if len(calls) == 1:
            sent.set()
            await failing.wait()
            raise ConnectionResetError("connection lost")
        await append(at, ops, since, turn)

    recorder.store.append = fails_once
    recorder.add(1, 7, "🎬")
    first = asyncio.create_task(recorder.commit())
    await sent.wait()
    flushed = asyncio.create_task(recorder.flush())
    await asyncio.sleep(0.05)
    failing.set()
    assert await asyncio.wait_for(flushed, 5) == 1
    with pytest.raises(ConnectionResetError):
        await first
    assert await rows(recorder) == {(1, 7, "🎬")}


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_postgresql_batch_that_reaches_the_server_first_goes_again_in_turn(
    recorder, caplog
):
    """The batch sent first may reach the server second (it waited for a connection): the one
    that came first is refused, and sent again once the first is written."""
    recorder.merge_idle = 60
    recorder.add(1, 7, "🎬")
    await recorder.commit()
    append, calls, refused = recorder.store.append, [], asyncio.Event()

    async def first_is_late(at, ops, since, turn):
        calls.append(turn.number)
        if turn.number == 2:
            await refused.wait()
        try:
            await append(at, ops, since, turn)
        except OutOfTurn:
            refused.set()
            raise

    recorder.store.append = first_is_late
    recorder.add(2, 7, "🔥")
    first = asyncio.create_task(recorder.commit())
    await asyncio.sleep(0)  # sent: the next is sent while it is out
    recorder.remove(2, 7, "🔥")
    recorder.add(3, 7, "🎬")
    assert await asyncio.wait_for(recorder.commit(), 5) == 2
    assert await asyncio.wait_for(first, 5) == 1
    assert calls == [2, 3, 3]
    assert "queued again" not in caplog.text
    assert await rows(recorder) == {(1, 7, "🎬"), (3, 7, "🎬")}


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_postgresql_writer_gone_for_90_days_loses_its_row(recorder):
    day = 86400
    await recorder.db.write(
        "INSERT INTO reaction_writers (writer, batch, at) VALUES (1, 5, ?), (2, 5, ?)",
        (1000 - 91 * day, 1000 - 89 * day),
    )
    recorder.add(1, 7, "🎬")
    await recorder.commit()
    writers = await recorder.db.fetchall("SELECT writer, batch FROM reaction_writers ORDER BY 1")
    assert [tuple(row) for row in writers] == sorted([(2, 5), (recorder.store.writer, 1)])


async def week_counts(rec):
    db = rec.db
    shown = {tuple(r) for r in await db.fetchall("SELECT * FROM reaction_weeks")}
    given = {tuple(r) for r in await db.fetchall("SELECT * FROM member_reaction_weeks")}
    return shown, given


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_week_is_summed_after_a_fold_that_began_before_it(recorder):
    # Migration postgresql/0025: a fold still running when a week is summed (sealed) would have
    # added its notes to the days after the seal read them, and not to the week, which it took
    # for unsealed. The seal waits for the fold instead.
    recorder.merge_idle = 60
    recorder.add(1, 7, "🎬")
    recorder.add(2, 8, "🔥")
    await recorder.commit()  # noted, on day 0 (the clock says 1000): week 0
    folding = recorder.db.transaction()
    fold = await folding.__aenter__()
    assert await fold.fetchval("SELECT reaction_days_fold()") == 2  # not committed yet
    seal = asyncio.create_task(recorder.store.seal(9, 1))
    await asyncio.sleep(0.3)
    assert not seal.done()
    await folding.__aexit__(None, None, None)
    assert await seal
    assert await week_counts(recorder) == (
        {(9, 0, 1, 0, 1), (9, 0, 2, 0, 1)},
        {(9, 0, 7, 1), (9, 0, 8, 1)},
    )
    # Sealed, the week takes a removal of one of its reactions at the next fold.
    recorder.remove(1, 7, "🎬")
    await recorder.flush()
    assert await week_counts(recorder) == ({(9, 0, 2, 0, 1)}, {(9, 0, 8, 1)})
    assert not await recorder.store.seal(9, 1)  # sealed already
