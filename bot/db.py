"""One aiosqlite connection, its pragmas, whole-transaction locking and the migrations runner."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

MIGRATION_NAME = re.compile(r"^(\d{4})_[\w-]+\.sql$")


class DatabaseTooNew(RuntimeError):
    """The database was written by a newer Projectionist than this one."""


class Conflict(Exception):
    """A write broke a uniqueness rule: what the domain makes of it ("already running")."""


Params = Sequence[Any] | dict[str, Any]


def is_database_error(error: BaseException) -> bool:
    """Whether an error is the database failing (unreachable, locked, a statement cancelled),
    which passes with time, rather than a mistake in the code."""
    if isinstance(error, sqlite3.Error | OSError | TimeoutError):
        return not isinstance(error, sqlite3.IntegrityError | sqlite3.ProgrammingError)
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False
    return isinstance(error, asyncpg.PostgresError | asyncpg.InterfaceError) and not isinstance(
        error, asyncpg.IntegrityConstraintViolationError
    )


class Rows:
    """One row or one value of a query, for whatever runs `fetchall`; and the few pieces of SQL
    each backend spells its own way."""

    backend = "sqlite"
    # After a claim's SELECT: rows another transaction holds are left to it (PostgreSQL). On
    # SQLite one transaction writes at a time, so there is nothing to skip.
    skip_locked = ""

    @staticmethod
    def json_int(column: str, key: str) -> str:
        """SQL for the integer at `key` of the JSON object in `column`."""
        return f"json_extract({column}, '$.{key}')"

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        raise NotImplementedError

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def next_number(self, counter: str) -> int:
        """The next number of a counter kept in `meta` (1, 2, ...), in this transaction."""
        return int(
            await self.fetchval(
                "INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE "
                "SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT) RETURNING value",
                (counter,),
            )
        )


class Tx(Rows):
    """A write transaction as the domain sees it: statements and their rows, never the driver's
    connection or cursors. A uniqueness violation is raised as Conflict."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run one statement; how many rows it changed."""
        try:
            async with self._conn.execute(sql, params) as cursor:
                return cursor.rowcount
        except sqlite3.IntegrityError as error:
            raise Conflict(str(error)) from error

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            await self._conn.executemany(sql, rows)
        except sqlite3.IntegrityError as error:
            raise Conflict(str(error)) from error

    async def fetchall(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> list[aiosqlite.Row]:
        try:
            async with self._conn.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.IntegrityError as error:
            raise Conflict(str(error)) from error


def rows_as_dicts(rows: Iterable[aiosqlite.Row]) -> list[dict[str, Any]]:
    """Rows as plain dictionaries, for exports."""
    return [dict(row) for row in rows]


class DatabaseUnavailable(RuntimeError):
    """The database file cannot be opened or written; the message names it and what to do."""


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


def migrations_in(backend: str = "sqlite") -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every migration shipped for a backend, in order: SQLite's
    in `bot/migrations` from 0001; PostgreSQL's in `bot/migrations/postgresql`, whose first
    holds the whole schema as of its number."""
    package = "bot.migrations" if backend == "sqlite" else f"bot.migrations.{backend}"
    found = []
    for entry in resources.files(package).iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    first = 1 if backend == "sqlite" else (versions or [1])[0]
    if versions != list(range(first, first + len(found))):
        raise RuntimeError(
            f"Migrations must be numbered {first:04}, {first + 1:04}, ... without gaps; "
            f"found {versions}"
        )
    return found


def bundled_migrations() -> list[tuple[int, str, str]]:
    return migrations_in("sqlite")


async def open_database(config, migrations=None):
    """The configured database, opened and migrated: PostgreSQL for a `postgresql://` URL,
    else the SQLite file."""
    if config.database_url:
        from bot.postgres import PostgresDatabase

        return await PostgresDatabase.open(config.database_url, migrations)
    return await Database.open(config.database_path, migrations)


async def open_database_to_read(config):
    """The configured database opened to read, without migrations (an export, `status`)."""
    if config.database_url:
        from bot.postgres import PostgresDatabase

        return await PostgresDatabase.open_to_read(config.database_url)
    return await Database.open_to_read(config.database_path)


PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = NORMAL",
)
# Page cache of each connection, in KiB. The writer's is the larger: a batch of reactions lands
# all over a table of a million rows, and each page missing from the cache is read again
# (`make bench`: at 8 MB, ingestion fell by a tenth and its commit p99 rose by a fifth). Queries
# read the essays' search index and the hot pages of a few tables, which 8 MB holds.
WRITER_CACHE_KIB = 16_000
READER_CACHE_KIB = 8_000


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


class Meta(Rows):
    """A database of either backend: its transactions, and the `meta` table's key-value
    pairs."""

    def transaction(self, guild_id: int | None = None) -> AbstractAsyncContextManager[Any]:
        """A write transaction; on PostgreSQL, with a server, under that server's lock
        (bot/locks.py)."""
        raise NotImplementedError

    async def get_meta(self, key: str) -> str | None:
        return await self.fetchval("SELECT value FROM meta WHERE key = ?", (key,))

    async def set_meta(self, key: str, value: str) -> None:
        async with self.transaction() as tx:
            await tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


class Database(Meta):
    """One writer connection, used under a lock held across each whole transaction, and one
    reader connection for queries. In WAL mode the reader sees the last committed state and
    never waits for a write batch, so a burst of writes does not stall members' commands."""

    def __init__(
        self, conn: aiosqlite.Connection | None, reader: aiosqlite.Connection, path: Path
    ) -> None:
        # `conn` (the writer) is None for a database opened to read (`open_to_read`).
        self._conn = conn
        self._reader = reader
        self._lock = asyncio.Lock()
        self.path = path
        self.name = str(path)

    @classmethod
    async def open(
        cls, path: str | Path, migrations: Iterable[tuple[int, str, str]] | None = None
    ) -> Database:
        """Open the file and apply pending migrations (the bundled ones unless given). Raises DatabaseUnavailable (every
        connection closed again, so nothing keeps the process alive) or DatabaseTooNew."""
        path = Path(path)
        opened: list[aiosqlite.Connection] = []
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            opened.append(writer := await _connect(path, WRITER_CACHE_KIB))
            # Temporary tables in memory: a merge of reaction events sorts them in one (see
            # bot/reactions/recorder.py), at most a few megabytes; in a file, they spill to disk.
            for pragma in ("PRAGMA wal_autocheckpoint = 4000", "PRAGMA temp_store = MEMORY"):
                async with writer.execute(pragma) as cursor:
                    await cursor.fetchall()
            opened.append(reader := await _connect(path, READER_CACHE_KIB))
            db = cls(writer, reader, path)
            await db.migrate(migrations)
            return db
        except BaseException as error:
            for conn in opened:
                await conn.close()
            if isinstance(error, sqlite3.Error | OSError):
                raise DatabaseUnavailable(explain_open_failure(path, error)) from error
            raise

    @classmethod
    async def open_to_read(cls, path: str | Path) -> Database:
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
        return cls(None, reader, path)

    async def close(self) -> None:
        async with self._lock:
            await self._reader.close()
            if self._conn is not None:
                await self._conn.close()

    @asynccontextmanager
    async def transaction(self, guild_id: int | None = None) -> AsyncIterator[Tx]:
        """`BEGIN IMMEDIATE` ... `COMMIT`, rolled back on any error, with the lock held
        throughout: one writer at a time, whatever its server."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
            except BaseException:
                await self._conn.rollback()
                raise
            else:
                await self._conn.commit()

    def unlocked(self):
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
        """(name, "integer" / "real" / "text" / ...) of each column of a table, in order."""
        rows = await self.fetchall("SELECT name, type FROM pragma_table_info(?)", (table,))
        kinds = {"INTEGER": "integer", "REAL": "real", "TEXT": "text", "BLOB": "blob"}
        return [(row[0], kinds.get(row[1].upper(), row[1].lower() or "any")) for row in rows]

    async def write(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> None:
        """One statement, atomic on its own (triggers included), in one round trip to the
        writer's thread: for a hot path where BEGIN, the statement and COMMIT would be three."""
        async with self._lock:
            await self._conn.execute(sql, params)

    async def script(self, sql: str) -> None:
        """Several statements, their own BEGIN and COMMIT included, in one round trip to the
        writer's thread (no parameters: `sql` must hold only values the bot made, never text a
        member wrote). A transaction left open by a failing statement is rolled back."""
        async with self._lock:
            try:
                await self._conn.executescript(sql)
            except BaseException:
                if self._conn.in_transaction:
                    await self._conn.rollback()
                raise

    async def fetchall_writing(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> list[aiosqlite.Row]:
        """A query on the writer's connection, under its lock: for what only it sees, its
        temporary tables."""
        async with self._lock:
            return list(await self._conn.execute_fetchall(sql, params))

    async def fetchall(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> list[aiosqlite.Row]:
        # One call on the reader's thread runs the statement to completion, so each query reads
        # the latest commit and no half-read statement holds an old snapshot for the next one.
        return list(await self._reader.execute_fetchall(sql, params))

    async def chunks(self, sql: str, size: int = 10_000) -> AsyncIterator[list]:
        """A query's rows, `size` at a time, on a connection of its own (a copy of a large
        table without holding it all in memory)."""
        conn = await connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            async with conn.execute(sql) as cursor:
                while rows := await cursor.fetchmany(size):
                    yield rows
        finally:
            await conn.close()

    async def user_version(self) -> int:
        return int(await self.fetchval("PRAGMA user_version"))

    async def migrate(self, migrations: Iterable[tuple[int, str, str]] | None = None) -> list[str]:
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
                script = f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
                try:
                    await self._conn.executescript(script)
                except BaseException:
                    if self._conn.in_transaction:
                        await self._conn.rollback()
                    raise
            log.info("Applied database migration %s", name)
            applied.append(name)
        return applied
