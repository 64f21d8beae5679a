"""SQLite behind the database interface (bot/db.py): one writer connection with its pragmas,
whole-transaction locking, two reader connections, and the migrations with `user_version`."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.db import (
    Conflict,
    Database,
    DatabaseTooNew,
    DatabaseUnavailable,
    Migration,
    Params,
    Row,
    Tx,
    bundled_migrations,
    check,
    positional,
)

log = logging.getLogger(__name__)


class SqliteSql:
    """The pieces of SQL SQLite spells its own way."""

    backend = "sqlite"
    skip_locked = ""  # one transaction writes at a time: nothing to skip

    @staticmethod
    def json_int(column: str, key: str) -> str:
        return f"json_extract({column}, '$.{key}')"


class SqliteTx(SqliteSql, Tx):
    """A transaction on the writer's connection, which the database's lock is held for."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        check(sql, params)
        try:
            async with self._conn.execute(sql, params) as cursor:
                return cursor.rowcount
        except sqlite3.IntegrityError as error:
            raise Conflict(str(error)) from error

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        check(sql)
        try:
            await self._conn.executemany(sql, [positional(row) for row in rows])
        except sqlite3.IntegrityError as error:
            raise Conflict(str(error)) from error

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        check(sql, params)
        try:
            async with self._conn.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.IntegrityError as error:
            raise Conflict(str(error)) from error


def _read_only_file_system(path: Path) -> bool:
    try:
        existing = next((p for p in (path, *path.parents) if p.exists()), None)
        return existing is not None and bool(os.statvfs(existing).f_flag & os.ST_RDONLY)
    except OSError:  # a folder on the way this user may not enter
        return False


def explain_open_failure(path: Path, error: BaseException) -> str:
    """One line for the operator: which file, what is wrong, what to do."""
    text = str(error).lower()
    if isinstance(error, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text
    ):
        return (
            f"The database {path} is damaged ({error}). Restore it from a backup, or move it "
            "aside to start with a new one; `python -m bot db check` shows what is wrong."
        )
    if "full" in text or getattr(error, "errno", None) == errno.ENOSPC:
        return f"The disk holding {path} is full ({error}): free some space and start again."
    if _read_only_file_system(path):
        return (
            f"The database {path} is on a read-only file system ({error}): mount it writable, "
            "or point DATABASE_PATH somewhere writable."
        )
    try:
        writable = os.access(path if path.exists() else path.parent, os.W_OK)
    except OSError:  # a folder on the way this user may not enter
        writable = False
    if (
        not writable
        or "readonly" in text
        or "read-only" in text
        or isinstance(error, PermissionError)
        or getattr(error, "errno", None) in (errno.EROFS, errno.EACCES)
    ):
        return (
            f"The database {path} cannot be written ({error}): give this user write access to "
            "the file and its folder, or point DATABASE_PATH somewhere writable."
        )
    return (
        f"The database {path} cannot be opened ({error}): check that the path is right and its "
        "folder writable, or point DATABASE_PATH at another file."
    )


def no_database(path: Path) -> str:
    return (
        f"No database at {path}: check DATABASE_PATH (or DATABASE_URL); the bot creates the "
        "file at its first start."
    )


PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = NORMAL",
)
# Page cache of each connection, in KiB. The writer's is the larger: a batch of reactions lands
# all over a table of a million rows, and each page missing from the cache is read again
# (`make bench`: at 8 MB, ingestion fell by a tenth and its commit p99 rose by a fifth). Queries
# read the essays' search index and the hot pages of a few tables: two readers at 4 MB each
# answered `/taste me` and `/stats server` as fast as at 8 MB, with 9 MB less at the peak.
WRITER_CACHE_KIB = 16_000
READER_CACHE_KIB = 4_000
# How much lower the writer's thread runs than the rest of the process once start-up is done
# (`members_first`; a nice value, Linux only: there each thread has its own). Most of the
# writer's work is then the recorder's, in the background (a merge takes a core for a second at a
# time); what members wait for runs on the event loop and the readers, whose threads take the
# cores first when all want one. A member's own write (a quote saved, a rating, forget-me) runs
# on the writer too, and waits longer while the readers keep both cores busy. Under 2,000
# reactions a second, `/taste me` p99 went 74.7 → 61.8 ms (median of fifteen processes each way,
# alternating); a stream of 250,000 events went as fast (the two cores are then the event loop's
# and the writer's). At 19 a reader waited for the GIL held by a writer kept off its core (p99
# 63.6); at 5, 65.6. From the file's opening on, start-up took 0.378 s against 0.314 (median of
# six, a warm start), its writes waiting behind the thread that reads the essays.
WRITER_NICENESS = 10
# Connections that run queries, each in a thread of its own: SQLite runs a query without the GIL,
# so two run side by side on two cores (`/stats server` asks five at once).
READERS = 2
# The write-ahead log is copied into the file (checkpointed) by a connection of its own, once the
# recorder's merges pause (`SqliteDatabase.checkpoint`), beside the writer rather than inside its
# commits. The writer checkpoints only once the log passes this many pages (4 KB each), for a
# stream that never pauses. Checkpointing at each 4,000 pages inside the commits, a stream of
# 250,000 events copied the pages its merges rewrite again at each checkpoint: its writer was
# busy 4.19-4.24 s against 3.34-3.41 without, in runs alternating, and its log grew to 160-192 MB
# without them, copied afterwards in 0.31-0.39 s (README, Performance).
WAL_BACKSTOP_PAGES = 65_536
# Once the log starts over after a checkpoint, its file is cut back to this size.
WAL_KEPT_BYTES = 16 * 1024 * 1024
# The checkpointing connection's page cache, in KiB: a checkpoint copies the log's pages into
# the file without keeping them.
CHECKPOINTER_CACHE_KIB = 500


async def connect(target: str | Path, **kwargs: Any) -> aiosqlite.Connection:
    """aiosqlite.connect, except that a connection that fails to open has its worker thread
    finished before the error is raised: aiosqlite only asks it to stop, and a thread still
    running when the event loop closes answers into the closed loop (a traceback of
    `RuntimeError: Event loop is closed` after the one line that said what was wrong)."""
    pending = aiosqlite.connect(target, **kwargs)
    try:
        return await pending
    except BaseException:
        await asyncio.to_thread(pending._thread.join, 5)
        raise


def lower_priority(conn: aiosqlite.Connection, by: int) -> None:
    """Give the connection's thread a nice value `by` above the calling thread's (up to 19), on
    Linux, where a thread's nice value is its own (elsewhere the call would set the whole
    process's)."""
    thread = getattr(getattr(conn, "_thread", None), "native_id", None)
    if sys.platform != "linux" or thread is None:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, 0) + by))
    except OSError as error:  # refused: the writer runs as the rest of the process
        log.debug("A database thread's priority stays as it was: %s", error)


async def _connect(path: Path, cache_kib: int) -> aiosqlite.Connection:
    conn = await connect(path, isolation_level=None)
    try:
        conn.row_factory = aiosqlite.Row
        for pragma in (*PRAGMAS, f"PRAGMA cache_size = -{cache_kib}"):
            async with conn.execute(pragma) as cursor:
                await cursor.fetchall()
    except BaseException:
        await conn.close()  # its thread would keep the process alive
        raise
    return conn


class SqliteDatabase(SqliteSql, Database):
    """One writer connection, used under a lock held across each whole transaction, and
    reader connections for queries. In WAL mode a reader sees the last committed state and
    never waits for a write batch, so a burst of writes does not stall members' commands."""

    query_parts = READERS
    checkpoints = True

    def __init__(
        self,
        conn: aiosqlite.Connection | None,
        readers: Sequence[aiosqlite.Connection],
        path: Path,
        checkpointer: aiosqlite.Connection | None = None,
    ) -> None:
        # `conn` (the writer) is None for a database opened to read (`open_to_read`).
        self._conn = conn
        self._readers = tuple(readers)
        self._checkpointer = checkpointer
        self._checkpointing = asyncio.Lock()
        # The readers with no query running. A query takes one that is free, or waits for the
        # first to free: queued on a busy reader instead, it could wait behind a long query
        # while the other reader is idle. The one freed last is taken first, so that a lone
        # query finds the pages the last one read in its cache.
        self._idle: asyncio.LifoQueue[aiosqlite.Connection] = asyncio.LifoQueue()
        for reader in reversed(self._readers):
            self._idle.put_nowait(reader)
        self._freeing: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self.path = path
        self.name = str(path)

    @classmethod
    async def open(
        cls, path: str | Path, migrations: Iterable[Migration] | None = None
    ) -> SqliteDatabase:
        """Open the file and apply pending migrations (the bundled ones unless given). Raises DatabaseUnavailable (every
        connection closed again, so nothing keeps the process alive) or DatabaseTooNew."""
        path = Path(path)
        opened: list[aiosqlite.Connection] = []
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            opened.append(writer := await _connect(path, WRITER_CACHE_KIB))
            # Temporary tables in memory: a merge of reaction events sorts them in one (see
            # bot/reactions/recorder.py), at most a few megabytes; in a file, they spill to disk.
            for pragma in (
                f"PRAGMA wal_autocheckpoint = {WAL_BACKSTOP_PAGES}",
                f"PRAGMA journal_size_limit = {WAL_KEPT_BYTES}",
                "PRAGMA temp_store = MEMORY",
            ):
                async with writer.execute(pragma) as cursor:
                    await cursor.fetchall()
            for _ in range(READERS):
                opened.append(await _connect(path, READER_CACHE_KIB))
            opened.append(checkpointer := await _connect(path, CHECKPOINTER_CACHE_KIB))
            db = cls(writer, opened[1:-1], path, checkpointer)
            await db.migrate(migrations)
            return db
        except BaseException as error:
            for conn in opened:
                await conn.close()
            if isinstance(error, sqlite3.Error | OSError):
                raise DatabaseUnavailable(explain_open_failure(path, error)) from error
            raise

    @classmethod
    async def open_to_read(cls, path: str | Path) -> SqliteDatabase:
        """The file opened read-only, without migrations: for an export while the bot may run.
        Only the reading methods work."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(no_database(path))
        try:
            reader = await connect(f"file:{path}?mode=ro", uri=True)
        except sqlite3.Error as error:
            raise DatabaseUnavailable(explain_open_failure(path, error)) from None
        reader.row_factory = aiosqlite.Row
        return cls(None, [reader], path)

    @property
    def _writer(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError(f"The database {self.path} was opened to read only")
        return self._conn

    async def close(self) -> None:
        async with self._checkpointing:
            if self._checkpointer is not None:
                await self._checkpointer.close()
                self._checkpointer = None
        async with self._lock:
            for reader in self._readers:
                await reader.close()
            if self._conn is not None:
                await self._conn.close()

    async def checkpoint(self) -> None:
        """Copy the write-ahead log into the file, on a connection of its own while the writer
        goes on; then what the writer added meanwhile, by the writer between two of its writes.
        The whole log is then in the file, and the writer's next write starts it over (SQLite
        starts it over only after a checkpoint no write came during). `PASSIVE`: a page a reader
        may still need from the log waits for the next checkpoint."""
        async with self._checkpointing:
            if self._checkpointer is None or self._conn is None:
                return  # closed, or opened to read
            async with self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)") as cursor:
                await cursor.fetchall()
        async with self._lock:
            if self._checkpointer is None:
                return  # closed meanwhile (`close` lets go of the checkpointer first)
            async with self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)") as cursor:
                await cursor.fetchall()

    @asynccontextmanager
    async def transaction(self, guild_id: int | None = None) -> AsyncIterator[SqliteTx]:
        """`BEGIN IMMEDIATE` ... `COMMIT`, rolled back on any error, with the lock held throughout."""
        async with self._lock:
            conn = self._writer
            try:
                # Inside the `try`: a task cancelled while it waits for the BEGIN has it run on
                # the connection's thread all the same, and the rollback queued after it ends
                # the transaction (where none began, a rollback does nothing).
                await conn.execute("BEGIN IMMEDIATE")
                yield SqliteTx(conn)
            except BaseException:
                await conn.rollback()
                raise
            else:
                await conn.commit()

    def members_first(self) -> None:
        for conn in (self._conn, self._checkpointer):
            if conn is not None:
                lower_priority(conn, WRITER_NICENESS)

    def unlocked(self) -> AbstractAsyncContextManager[SqliteTx]:
        """A transaction for statements safe on their own (on SQLite, every write is locked)."""
        return self.transaction()

    @asynccontextmanager
    async def once(self, task: int) -> AsyncIterator[bool]:
        """A one-off task at start; one process owns a SQLite file, so nothing to wait for."""
        yield True

    async def tables(self) -> list[str]:
        rows = await self.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE '%fts%' ORDER BY name"
        )
        return [row[0] for row in rows]

    async def columns(self, table: str) -> list[tuple[str, str]]:
        rows = await self.fetchall("SELECT name, type FROM pragma_table_info(?)", (table,))
        kinds = {"INTEGER": "integer", "REAL": "real", "TEXT": "text", "BLOB": "blob"}
        return [(row[0], kinds.get(row[1].upper(), row[1].lower() or "any")) for row in rows]

    async def write(self, sql: str, params: Params = ()) -> None:
        """One statement, atomic on its own (triggers included), in one round trip to the
        writer's thread: for a hot path where BEGIN, the statement and COMMIT would be three."""
        check(sql, params)
        async with self._lock:
            await self._writer.execute(sql, params)

    async def refresh_statistics(self) -> None:
        """`ANALYZE`: every index counted, 0.5 s on the benchmark's 260 MB file, writes waiting
        meanwhile. Without statistics SQLite guesses every table's size and picks worse plans:
        a page of quotes by id was read through the server's 100,000 quotes (17 ms against
        0.05), and `make bench` on a file never analyzed gave `/quote top` p50 10.5 → 26.3 ms,
        `/taste me` 62 → 92, `/stats films` 23 → 37. Sampled statistics (`analysis_limit`, 14
        ms) took a server's index for selective, as its first thousand rows are all one
        server's: a member's year took 448 ms p50 (385 without statistics, 180 with full ones)."""
        async with self._lock:
            await self._writer.execute("ANALYZE")
        # A connection reads the statistics when it loads the schema: the readers, which run
        # every query, would go on planning as before without being told to read them again.
        for reader in self._readers:
            await reader.execute("ANALYZE sqlite_schema")

    async def script(self, sql: str) -> None:
        """Several statements, their own BEGIN and COMMIT included, in one round trip to the
        writer's thread (no parameters: `sql` must hold only values the bot made, never text a
        member wrote). A transaction left open by a failing statement is rolled back."""
        async with self._lock:
            await self._script_holding_lock(sql)

    async def _script_holding_lock(self, sql: str) -> None:
        conn = self._writer
        try:
            await conn.executescript(sql)
        except BaseException:
            # Queued after the script, which runs on the connection's thread even once its
            # caller is cancelled: whatever it left open is rolled back (and where it left
            # nothing, a rollback does nothing).
            await conn.rollback()
            raise

    async def fetchall_writing(self, sql: str, params: Params = ()) -> list[Row]:
        """A query on the writer's connection, under its lock: for what only it sees, its
        temporary tables."""
        check(sql, params)
        async with self._lock:
            return list(await self._writer.execute_fetchall(sql, params))

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        # One call on a reader's thread runs the statement to completion, so each query reads
        # the latest commit and no half-read statement holds an old snapshot for the next one.
        check(sql, params)
        reader = await self._idle.get()
        try:
            rows = await reader.execute_fetchall(sql, params)
        except asyncio.CancelledError:
            # The reader's thread goes on with the statement: the reader is free once it ends.
            freeing = asyncio.create_task(self._free_when_done(reader))
            self._freeing.add(freeing)
            freeing.add_done_callback(self._freeing.discard)
            raise
        except BaseException:
            self._idle.put_nowait(reader)
            raise
        self._idle.put_nowait(reader)
        return list(rows)

    async def _free_when_done(self, reader: aiosqlite.Connection) -> None:
        try:
            # Queued behind the cancelled statement on the reader's thread, and ends after it
            # (a reader has no transaction to commit).
            await reader.commit()
        except Exception:
            pass  # closed meanwhile: a closed reader raises for the next query too
        finally:
            self._idle.put_nowait(reader)

    async def chunks(self, sql: str, size: int = 10_000) -> AsyncIterator[list[Row]]:
        """A query's rows, `size` at a time, on a connection of its own (a copy of a large
        table without holding it all in memory)."""
        conn = await connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            async with conn.execute(sql) as cursor:
                while rows := await cursor.fetchmany(size):
                    yield list(rows)
        finally:
            await conn.close()

    async def user_version(self) -> int:
        return int(await self.fetchval("PRAGMA user_version"))

    async def migrate(self, migrations: Iterable[Migration] | None = None) -> list[str]:
        """Apply pending migrations, each in one transaction with its `user_version` bump."""
        migrations = list(bundled_migrations() if migrations is None else migrations)
        latest = migrations[-1][0] if migrations else 0
        current = await self.user_version()
        if current > latest:
            raise DatabaseTooNew(
                f"The database {self.path} is at schema version {current}, but this Projectionist "
                f"knows versions up to {latest}. It was written by a newer release: upgrade "
                "Projectionist, or point DATABASE_PATH at another file."
            )
        applied = []
        for version, name, sql in migrations:
            if version <= current:
                continue
            async with self._lock:
                await self._script_holding_lock(
                    f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
                )
            log.info("Applied database migration %s", name)
            applied.append(name)
        return applied
