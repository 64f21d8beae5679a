import asyncio
import gc
import os
import sqlite3
import sys
import threading
import warnings
from contextlib import asynccontextmanager, closing

import pytest

from bot.client import build_offline
from bot.config import Config
from bot.db import (
    Conflict,
    DatabaseTooNew,
    UnsupportedStatement,
    bundled_migrations,
    in_turn,
)
from bot.services import Services
from bot.sqlite import WRITER_NICENESS, SqliteDatabase

# A thread's own nice value is Linux's; a run already at 19 has no lower one to give.
NO_LOWER_PRIORITY = sys.platform != "linux" or os.getpriority(os.PRIO_PROCESS, 0) >= 19


def niceness() -> int:
    """The nice value of the thread that calls it (a statement's, as a SQL function)."""
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


async def test_migrations_set_user_version_and_pragmas(tmp_path):
    db = await SqliteDatabase.open(tmp_path / "a.db", migrations=[])
    try:
        applied = await db.migrate()
        assert applied == [name for _, name, _ in bundled_migrations()]
        assert await db.user_version() == len(applied)
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
        assert await db.fetchval("PRAGMA busy_timeout") == 5000
        assert await db.migrate() == []
    finally:
        await db.close()


@pytest.mark.skipif(NO_LOWER_PRIORITY, reason="no thread's nice value of its own to raise")
async def test_the_writers_statements_run_below_the_readers_and_the_event_loop(tmp_path):
    # The recorder's merges run on the writer's thread: members' commands, on the event loop
    # and the readers, take the cores first when all want one.
    db = await SqliteDatabase.open(tmp_path / "a.db", migrations=[])
    try:
        for conn in (db._writer, *db._readers, db._checkpointer):
            await conn.create_function("niceness", 0, niceness)
        loop = niceness()
        # Start-up waits for its writes: the writer runs as the rest until it is done.
        [[starting]] = await db.fetchall_writing("SELECT niceness()")
        assert starting == loop
        db.members_first()
        readers = await asyncio.gather(*(db.fetchval("SELECT niceness()") for _ in range(4)))
        [[writer]] = await db.fetchall_writing("SELECT niceness()")
        # The log copied into the file once merges pause is background work too.
        async with db._checkpointer.execute("SELECT niceness()") as cursor:
            [[checkpointer]] = await cursor.fetchall()
        assert readers == [loop] * 4
        assert writer == checkpointer == min(19, loop + WRITER_NICENESS) > loop
    finally:
        await db.close()


def file_alone(path, tmp_path) -> list[int]:
    """The rows of `t` in a copy of the database's file without its write-ahead log."""
    copy = tmp_path / "copy.db"
    copy.write_bytes(path.read_bytes())
    with closing(sqlite3.connect(copy)) as conn:
        return [row[0] for row in conn.execute("SELECT x FROM t ORDER BY x")]


class WritingDuring:
    """The checkpointing connection, with a write through the database once its own checkpoint
    is done and before the writer's (as a batch of reactions comes meanwhile)."""

    def __init__(self, conn, db, tmp_path):
        self.conn, self.db, self.tmp_path = conn, db, tmp_path
        self.in_file_before_the_write: list[int] | None = None

    @asynccontextmanager
    async def execute(self, sql):
        async with self.conn.execute(sql) as cursor:
            rows = await cursor.fetchall()
        self.in_file_before_the_write = file_alone(self.db.path, self.tmp_path)
        await self.db.write("INSERT INTO t VALUES (2)")
        yield FetchedAlready(rows)

    async def close(self):
        await self.conn.close()


class FetchedAlready:
    def __init__(self, rows):
        self.rows = rows

    async def fetchall(self):
        return self.rows


async def test_a_checkpoint_puts_in_the_file_what_was_written_while_it_ran(tmp_path):
    path = tmp_path / "a.db"
    db = await SqliteDatabase.open(path, migrations=[])
    try:
        await db.write("CREATE TABLE t (x INTEGER)")
        await db.write("INSERT INTO t VALUES (1)")
        db._checkpointer = side = WritingDuring(db._checkpointer, db, tmp_path)
        await db.checkpoint()
        assert side.in_file_before_the_write == [1], "copied by the connection of its own"
        assert file_alone(path, tmp_path) == [1, 2]
    finally:
        await db.close()


async def test_reads_asked_at_once_run_two_at_a_time_in_the_order_asked():
    running, started, most = set(), [], [0]
    ends = {name: asyncio.Event() for name in "abcde"}

    async def read(name):
        running.add(name)
        started.append(name)
        most[0] = max(most[0], len(running))
        await ends[name].wait()
        running.discard(name)
        return name.upper()

    turn = in_turn(2)
    asked = asyncio.gather(*(turn(lambda name=name: read(name)) for name in "abcde"))
    await asyncio.sleep(0)
    assert started == ["a", "b"]
    for name in "bacde":  # each end lets the next in line start
        ends[name].set()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    assert await asked == ["A", "B", "C", "D", "E"]
    assert started == ["a", "b", "c", "d", "e"]
    assert most[0] == 2


async def test_a_read_cancelled_before_its_turn_is_never_made():
    made = []

    async def read(name):
        made.append(name)
        await asyncio.sleep(10)

    turn = in_turn(1)
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Cancelled before its tasks took a step, then one waiting for its turn.
        asked = asyncio.gather(*(turn(lambda name=name: read(name)) for name in ("a", "b")))
        asked.cancel()
        await asyncio.gather(asked, return_exceptions=True)
        tasks = [asyncio.create_task(turn(lambda name=name: read(name))) for name in ("c", "d")]
        await asyncio.sleep(0)
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        del asked, tasks, task
        gc.collect()
    assert made == ["c"]
    assert [w for w in caught if "read' was never awaited" in str(w.message)] == []


@pytest.mark.skipif(NO_LOWER_PRIORITY, reason="no thread's nice value of its own to raise")
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_started_bots_writer_runs_below_its_event_loop(config):
    bot = await build_offline(config)
    try:
        db = bot.services.db
        await db._writer.create_function("niceness", 0, niceness)
        [[writer]] = await db.fetchall_writing("SELECT niceness()")
        loop = niceness()
        assert writer == min(19, loop + WRITER_NICENESS) > loop
    finally:
        await bot.close()


async def test_a_query_is_answered_while_a_long_one_runs_on_the_other_reader(tmp_path):
    # Two readers: a command's quick read does not wait behind another's long one.
    db = await SqliteDatabase.open(tmp_path / "a.db", migrations=[])
    try:
        answered = []

        async def ask(name, sql):
            await db.fetchall(sql)
            answered.append(name)

        long = (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000) "
            "SELECT count(*) FROM n"
        )
        await asyncio.gather(ask("long", long), ask("quick", "SELECT 1"))
        assert answered == ["quick", "long"]
    finally:
        await db.close()


@asynccontextmanager
async def readers_held(path):
    """A database whose two readers each run a query held until its event is set: the
    database, the events and the queries by name, and a list of tasks to wait for at the end."""
    db = await SqliteDatabase.open(path, migrations=[])
    released = {name: threading.Event() for name in ("long", "short")}
    tasks = []
    try:
        for reader in db._readers:
            await reader.create_function("held", 1, lambda name: released[name].wait(10))
        held = {
            name: asyncio.create_task(db.fetchall(f"SELECT held('{name}')")) for name in released
        }
        tasks += held.values()
        await asyncio.sleep(0)  # each on its reader
        yield db, released, held, tasks
    finally:
        for event in released.values():
            event.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await db.close()


async def test_a_query_goes_to_the_reader_that_frees_first_not_behind_a_long_one(tmp_path):
    # Both readers busy: the next query waits for whichever frees first. Handed to a reader
    # when asked, it could wait behind the longer query while the other reader sat idle (as
    # /stats server's quotes' ranking did behind its members' ranking).
    async with readers_held(tmp_path / "a.db") as (db, released, held, tasks):
        quick = asyncio.create_task(db.fetchall("SELECT 'answered'"))
        tasks.append(quick)
        released["short"].set()
        done, _ = await asyncio.wait({quick}, timeout=5)
        assert quick in done, "the query waited behind the long one"
        assert [tuple(row) for row in quick.result()] == [("answered",)]
        assert not held["long"].done()


async def test_a_reader_whose_query_was_cancelled_is_free_once_its_statement_ends(tmp_path):
    # A cancelled query's statement goes on in the reader's thread: the next query takes the
    # other reader when it frees, and the reader comes back once that statement has ended. A
    # query cancelled while it waits for a reader takes none.
    async with readers_held(tmp_path / "a.db") as (db, released, held, tasks):
        gave_up = asyncio.create_task(db.fetchall("SELECT 'never'"))
        tasks.append(gave_up)
        await asyncio.sleep(0)  # waiting for a reader
        held["short"].cancel()
        gave_up.cancel()
        await asyncio.gather(held["short"], gave_up, return_exceptions=True)
        quick = asyncio.create_task(db.fetchall("SELECT 'answered'"))
        tasks.append(quick)
        await asyncio.sleep(0.05)
        assert not quick.done()  # the cancelled statement still runs; the other is held
        released["long"].set()
        done, _ = await asyncio.wait({quick}, timeout=5)
        assert quick in done, "the query was given the reader still running the cancelled one"
        released["short"].set()
        await asyncio.wait_for(asyncio.gather(*db._freeing), 5)
        assert db._idle.qsize() == 2  # both readers back, none twice
        both = [db.fetchall("SELECT 1"), db.fetchall("SELECT 2")]
        assert [list(map(tuple, rows)) for rows in await asyncio.gather(*both)] == [[(1,)], [(2,)]]


async def test_a_failing_migration_leaves_nothing_behind(tmp_path):
    db = await SqliteDatabase.open(tmp_path / "a.db", migrations=[])
    try:
        broken = [(1, "0001_x.sql", "CREATE TABLE t (a INTEGER);\nINSERT INTO nope VALUES (1);")]
        with pytest.raises(sqlite3.OperationalError):
            await db.migrate(broken)
        assert await db.user_version() == 0
        assert await db.fetchval("SELECT count(*) FROM sqlite_master WHERE name = 't'") == 0
    finally:
        await db.close()


async def test_a_database_newer_than_the_code_is_refused(tmp_path):
    db = await SqliteDatabase.open(tmp_path / "a.db")
    try:
        await db.migrate()
        async with db.transaction() as conn:
            await conn.execute("PRAGMA user_version = 99")
        with pytest.raises(DatabaseTooNew, match="version 99"):
            await db.migrate()
    finally:
        await db.close()


async def test_transaction_rolls_back_on_error(db):
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
            raise RuntimeError("boom")
    assert await db.get_meta("k") is None
    await db.set_meta("k", "v")
    await db.set_meta("k", "w")
    assert await db.get_meta("k") == "w"
    async with db.transaction() as tx:
        assert [await tx.next_number("n") for _ in range(3)] == [1, 2, 3]


@pytest.mark.parametrize("when", ["beginning", "writing"])
async def test_a_cancelled_transaction_leaves_the_database_usable(db, when):
    # A task cancelled while its transaction begins or writes (the essays' sync cancels the
    # lots it stores beside one that failed): what it wrote is there entirely or not at all,
    # and the next transaction starts as usual.
    wrote_one = asyncio.Event()

    async def write() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
            wrote_one.set()
            await tx.execute("INSERT INTO meta (key, value) VALUES ('l', 'w')")

    task = asyncio.ensure_future(write())
    if when == "beginning":
        await asyncio.sleep(0)  # the task waits for its BEGIN
    else:
        await wrote_one.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    written = (await db.get_meta("k"), await db.get_meta("l"))
    assert written in {(None, None), ("v", "w")}  # both or neither
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO meta (key, value) VALUES ('m', 'x')")
    assert await db.get_meta("m") == "x"


async def test_a_cancelled_script_that_fails_half_way_leaves_no_transaction_open(tmp_path):
    # A script runs on the writer's thread whether or not its caller still waits (the merge of
    # reaction events is such a script, and a bot stopping cancels it): one that fails after
    # its BEGIN must not leave the writer inside a transaction every later write would meet.
    db = await SqliteDatabase.open(tmp_path / "a.db")
    try:
        script = asyncio.ensure_future(
            db.script(
                "BEGIN; INSERT INTO meta (key, value) VALUES ('k', 'v'); "
                "INSERT INTO meta (key, value) VALUES ('k', 'w'); COMMIT;"
            )
        )
        await asyncio.sleep(0)  # the script is on its way to the writer's thread
        script.cancel()
        await asyncio.gather(script, return_exceptions=True)
        await db.set_meta("m", "x")
        assert (await db.get_meta("k"), await db.get_meta("m")) == (None, "x")
    finally:
        await db.close()


async def test_a_uniqueness_violation_is_a_conflict_and_rolls_back(db):
    with pytest.raises(Conflict):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
            await tx.execute("INSERT INTO meta (key, value) VALUES ('k', 'w')")
    assert await db.get_meta("k") is None


async def test_a_question_mark_in_a_quoted_name_or_a_comment_is_not_a_placeholder(db):
    sql = 'SELECT CAST(? AS INTEGER) AS "why?" /* not ? */, CAST(? AS INTEGER) AS b -- nor ?\n'
    assert dict(await db.fetchone(sql, (1, 2))) == {"why?": 1, "b": 2}
    async with db.transaction() as tx:
        assert dict(await tx.fetchone(sql, (3, 4))) == {"why?": 3, "b": 4}


async def test_numbered_and_bare_placeholders_in_one_statement_are_refused(db):
    # SQLite would bind the bare `?` to the third value, PostgreSQL could not: neither runs it.
    mixed = "SELECT CAST(?2 AS INTEGER), CAST(? AS INTEGER)"
    with pytest.raises(UnsupportedStatement, match="number every placeholder or none"):
        await db.fetchall(mixed, (1, 2, 3))
    with pytest.raises(UnsupportedStatement):
        async with db.transaction() as tx:
            await tx.execute(f"INSERT INTO meta (key, value) VALUES (?1, ?) -- {mixed}", ("k", "v"))
    assert await db.get_meta("k") is None
    numbered = "SELECT CAST(?2 AS INTEGER), CAST(?1 AS INTEGER), CAST(?2 AS INTEGER)"
    assert list(await db.fetchone(numbered, (1, 2))) == [2, 1, 2]


async def test_named_parameters_are_refused_on_both_backends(db):
    with pytest.raises(UnsupportedStatement, match="in order"):
        await db.fetchall("SELECT CAST(? AS INTEGER)", {"n": 1})
    with pytest.raises(UnsupportedStatement, match="Named placeholder :n"):
        await db.fetchall("SELECT CAST(:n AS INTEGER)", {"n": 1})
    with pytest.raises(UnsupportedStatement):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES (:k, :v)", {"k": "k", "v": "v"})
    with pytest.raises(UnsupportedStatement):
        async with db.transaction() as tx:
            await tx.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [{"k": "k"}])
    with pytest.raises(UnsupportedStatement):
        await db.write("INSERT INTO meta (key, value) VALUES (?, ?)", {"k": "k", "v": "v"})
    assert await db.get_meta("k") is None
    # A cast is not a named placeholder; a colon in a literal is text.
    assert await db.fetchval("SELECT CAST('12:30' AS TEXT) || ?", ("!",)) == "12:30!"


async def test_the_planners_statistics_are_made_by_a_chore_and_used_by_queries(
    tmp_path, essays_dir
):
    db = await SqliteDatabase.open(tmp_path / "a.db")
    try:
        async with db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO quotes (guild_id, number, text, saved_by, saved_at) "
                "VALUES (1, ?, 'A line.', ?, 0)",
                [(i, i % 7) for i in range(1, 301)],
            )
        by_id = "SELECT * FROM quotes WHERE guild_id = ? AND id IN ({})".format(", ".join("?" * 20))

        async def plan() -> str:
            rows = await db.fetchall(f"EXPLAIN QUERY PLAN {by_id}", (1, *range(20)))
            return " ".join(row[3] for row in rows)

        # Without statistics SQLite takes one of the server's indexes as selective: every quote
        # of the server read to find twenty by id.
        assert "USING INDEX quotes_save" in await plan()
        await db.refresh_statistics()
        stat = await db.fetchval(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = 'quotes' AND idx = 'quotes_saved'"
        )
        assert stat.split()[:2] == ["300", "300"]  # 300 quotes, all of one server
        assert "PRIMARY KEY" in await plan()  # the queries' connection reads them at once
    finally:
        await db.close()

    # The bot makes them once its timers start, and then every `statistics_seconds`: a
    # member's file is never analyzed otherwise.
    config = Config(database_path=tmp_path / "bot.db", essays_dir=essays_dir)
    services = await Services.start(config, clock=lambda: 1_767_225_600)
    try:
        made = "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
        assert await services.db.fetchval(made) == 0
        await services.scheduler.run_chores()
        tables = {row[0] for row in await services.db.fetchall("SELECT tbl FROM sqlite_stat1")}
        assert {"essays", "sections"} <= tables
    finally:
        await services.close()


async def test_writes_other_than_reactions_are_copied_into_the_file_by_a_chore(
    tmp_path, essays_dir
):
    """A write that is not a reaction (a setting here; an import, an essay) reaches the file
    without waiting for the log to fill up or for reactions: the timers' checkpoint, once they
    start and then every hour."""
    path = tmp_path / "bot.db"
    services = await Services.start(
        Config(database_path=path, essays_dir=essays_dir), clock=lambda: 1_767_225_600
    )
    try:
        await services.recorder.checkpointed()  # the start's own, after its first merge
        await services.db.set_meta("written", "after the start")

        def in_file_alone() -> list[str]:
            copy = tmp_path / "copy.db"
            copy.write_bytes(path.read_bytes())
            with closing(sqlite3.connect(copy)) as conn:
                return [r[0] for r in conn.execute("SELECT value FROM meta WHERE key = 'written'")]

        assert in_file_alone() == [], "in the write-ahead log only"
        await services.scheduler.run_chores()
        assert in_file_alone() == ["after the start"]
    finally:
        await services.close()
