"""The database as the domain sees it, whichever backend holds it: the contract (`Rows`, `Tx`,
`Database`), its errors, the migrations shipped for each backend, and `open_database`.

Two classes implement it: `SqliteDatabase` (bot/sqlite.py), the embedded default, and
`PostgresDatabase` (bot/postgres.py), for a bot in many servers or processes. The domain's SQL
is written once, with `?` placeholders (the rules are `numbered`'s), and runs unchanged on
either."""

from __future__ import annotations

import abc
import asyncio
import itertools
import re
import sqlite3
from collections.abc import (
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, overload

from bot.metrics import DISCARD, Metrics

if TYPE_CHECKING:
    from bot.config import Config

MIGRATION_NAME = re.compile(r"^(\d{4})_[\w-]+\.sql$")


class DatabaseTooNew(RuntimeError):
    """The database was written by a newer Projectionist than this one."""


class DatabaseUnavailable(RuntimeError):
    """The database cannot be opened or written; the message names it and what to do."""


class Conflict(Exception):
    """A write broke a uniqueness rule: what the domain makes of it ("already running")."""


class Row(Protocol):
    """One row of a result, as both drivers give it: a value by position or by column name,
    its values in order, its column names."""

    @overload
    def __getitem__(self, key: int | str, /) -> Any: ...

    @overload
    def __getitem__(self, key: slice, /) -> tuple[Any, ...]: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...

    def keys(self) -> Iterable[str]: ...


# A statement's parameters: one value per `?`, in order. Named parameters (a dict) are refused
# on both backends: SQLite would bind them and PostgreSQL's driver has none.
Params = Sequence[Any]


class UnsupportedStatement(ValueError):
    """A statement, or its parameters, that would not run the same on both backends: a mistake
    in the code, refused on either before it reaches the database."""


# What both servers skip when they look for placeholders (string literals, quoted identifiers,
# comments; PostgreSQL's dollar-quoted bodies and E'' strings, which SQLite refuses anyway) and
# what a placeholder is: `?`, `?N`, and a named `:name` (refused).
_TOKENS = re.compile(
    r"""
    (?P<skip>
        '(?:[^']|'')*(?:'|\Z)
      | (?<![\w$])[Ee]'(?:[^'\\]|\\.|'')*(?:'|\Z)
      | "(?:[^"]|"")*(?:"|\Z)
      | --[^\n]*
      | /\*.*?(?:\*/|\Z)
      | (?<![\w$])\$(?P<tag>(?:[A-Za-z_]\w*)?)\$.*?(?:\$(?P=tag)\$|\Z)
    )
    | \?(?P<number>\d*)
    | (?<![:\w]):(?P<name>[A-Za-z_]\w*)
    """,
    re.VERBOSE | re.DOTALL,
)


@lru_cache(maxsize=2048)
def numbered(sql: str) -> str:
    """The statement with its placeholders as PostgreSQL's: `?` as `$1, $2, ...` in order and
    `?N` as `$N`. A `?` in a string literal, a quoted identifier, a comment or a dollar-quoted
    body is text, as both servers read it.

    Refused (UnsupportedStatement), on SQLite too (see `check`): `?N` and a bare `?` in one
    statement (SQLite numbers such a `?` after the largest `?N` before it, PostgreSQL could
    not), a named `:name` placeholder, and a block comment inside another (PostgreSQL nests
    them, SQLite does not)."""
    counter = 0
    bare = numbers = False

    def replace(match: re.Match[str]) -> str:
        nonlocal counter, bare, numbers
        text = match.group(0)
        if match.group("skip") is not None:
            if text.startswith("/*") and "/*" in text[2:]:
                raise UnsupportedStatement(f"A comment inside a comment in: {sql}")
            return text
        if match.group("name") is not None:
            raise UnsupportedStatement(
                f"Named placeholder {text} in: {sql}; write `?` and pass the values in order"
            )
        if match.group("number"):
            numbers = True
            return f"${int(match.group('number'))}"
        bare = True
        counter += 1
        return f"${counter}"

    result = _TOKENS.sub(replace, sql)
    if bare and numbers:
        raise UnsupportedStatement(
            f"`?N` and a bare `?` in one statement: {sql}; number every placeholder or none"
        )
    return result


def positional(params: Params) -> Params:
    """The parameters, refused (UnsupportedStatement) if they are named (a dict)."""
    if isinstance(params, Mapping):
        raise UnsupportedStatement(
            "Statements take their parameters in order (a list or a tuple), not by name"
        )
    return params


def check(sql: str, params: Params = ()) -> None:
    """Refuse a statement PostgreSQL would not run as SQLite does (see `numbered`), on SQLite,
    so that a mistake shows on a machine without PostgreSQL."""
    numbered(sql)
    positional(params)


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


class Rows(abc.ABC):
    """What reads rows: a database or a transaction. One row or one value of a query, for
    whatever runs `fetchall`; and the few pieces of SQL each backend spells its own way."""

    backend: ClassVar[str]  # "sqlite" or "postgresql"
    # After a claim's SELECT: rows another transaction holds are left to it (PostgreSQL's
    # " FOR UPDATE SKIP LOCKED"). On SQLite one transaction writes at a time: "".
    skip_locked: ClassVar[str]

    @staticmethod
    @abc.abstractmethod
    def json_int(column: str, key: str) -> str:
        """SQL for the integer at `key` of the JSON object in `column`."""

    @abc.abstractmethod
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def one(self, sql: str, params: Params = ()) -> Row:
        """The row a statement always returns (an aggregate; an INSERT ... RETURNING); a
        LookupError if it returned none."""
        row = await self.fetchone(sql, params)
        if row is None:
            raise LookupError(f"No row from: {sql}")
        return row

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

    @abc.abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; how many rows it changed."""

    @abc.abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement once for each set of parameters."""


class Database(Rows):
    """A database of either backend: its transactions, one-off statements, the start-up work
    it serializes, its schema, and the `meta` table's key-value pairs. Queries on it read the
    last committed state."""

    name: str  # what messages call it (a file's path; a server, never its password)
    metrics: Metrics = DISCARD  # where it counts its waits for a connection (bot/metrics.py)
    # Parts a large ranking is split into, run at once on connections of their own (the
    # machine's two cores; SQLite's readers).
    query_parts: int = 2
    checkpoints = False  # whether `checkpoint` has anything to do (SQLite's write-ahead log)

    @abc.abstractmethod
    def transaction(self, guild_id: int | None = None) -> AbstractAsyncContextManager[Tx]:
        """A write transaction, committed at the end of the block and rolled back on any error.
        With a server, what it checks holds until it ends: on PostgreSQL it holds that server's
        lock (bot/locks.py); SQLite runs one write transaction at a time, whatever its server."""

    @abc.abstractmethod
    def unlocked(self) -> AbstractAsyncContextManager[Tx]:
        """A transaction for statements safe on their own: on PostgreSQL it does not wait for
        other write transactions (on SQLite every write does)."""

    @abc.abstractmethod
    def once(self, task: int) -> AbstractAsyncContextManager[bool]:
        """Held for a one-off task at start (the essays sync, the command push): processes
        starting together do it one after another."""

    @abc.abstractmethod
    async def write(self, sql: str, params: Params = ()) -> None:
        """One statement, atomic on its own, in one round trip (a hot path)."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    def members_first(self) -> None:
        """From now on, the writes the bot runs in the background (the recorder's merges and
        folds) leave the machine's cores to what members wait for: on SQLite its writer's thread
        runs below the others (members' own writes with it). Called once start-up, which waits
        for its own writes, is done. PostgreSQL's writes are the server's, which the bot does not
        rank."""

    @abc.abstractmethod
    async def migrate(self, migrations: Iterable[Migration] | None = None) -> list[str]:
        """Apply pending migrations (this backend's shipped ones unless given), each in one
        transaction with its version; the names applied. DatabaseTooNew if the database is at
        a version beyond the last one."""

    @abc.abstractmethod
    async def user_version(self) -> int:
        """The schema version: the number of the last migration applied (0 for none)."""

    @abc.abstractmethod
    async def tables(self) -> list[str]:
        """The bot's tables (search indexes and bookkeeping aside), by name."""

    @abc.abstractmethod
    async def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, "integer" / "real" / "text" / ...) of each column of a table, in order."""

    async def refresh_statistics(self) -> None:
        """Bring the query planner's statistics up to date with the data (a chore of the timers:
        once they start, then every `statistics_seconds`). PostgreSQL keeps its own (autovacuum's
        analyze)."""

    async def checkpoint(self) -> None:
        """SQLite: its write-ahead log copied into the file, after the reaction recorder's merges
        and as a chore of the timers (`checkpoint_seconds`) for other writes. PostgreSQL's
        server makes its own."""

    async def get_meta(self, key: str) -> str | None:
        value = await self.fetchval("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    async def set_meta(self, key: str, value: str) -> None:
        async with self.transaction() as tx:
            await tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def rows_as_dicts(rows: Iterable[Row]) -> list[dict[str, Any]]:
    """Rows as plain dictionaries, for exports."""
    return [dict(row) for row in rows]


IdRange = tuple[int | None, int | None]  # from, up to (excluded); None: unbounded
T = TypeVar("T")


def in_turn(parts: int) -> Callable[[Callable[[], Awaitable[T]]], Coroutine[Any, Any, T]]:
    """A wrapper for reads asked at once (`asyncio.gather`), each given as a function that
    starts it: of those it wraps, at most `parts` run at a time, the others starting in the
    order they were asked as those end, as SQLite's readers take them. A PostgreSQL server on
    the bot's two cores ran `/stats server`'s five reads at once slower than two at a time
    (bot/stats/service.py). A read is only made when its turn comes: one cancelled before then
    never exists, so none is left never awaited."""
    gate = asyncio.Semaphore(parts)

    async def turn(read: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await read()

    return turn


async def split_ids(db: Database, ordered: str, params: Params, count: int) -> list[IdRange]:
    """Ranges of the ids `ordered` reads (one column, in its order, `count` rows), one for each
    part the database runs at once (`query_parts`), of about as many rows each: split at the
    middle row, or the thirds, ..."""
    parts = db.query_parts
    bounds = await asyncio.gather(
        *(
            db.fetchval(f"{ordered} LIMIT 1 OFFSET ?", (*params, count * part // parts))
            for part in range(1, parts)
        )
    )
    # A row removed since they were counted leaves a bound of None.
    edges = [None, *sorted({int(b) for b in bounds if b is not None}), None]
    return list(itertools.pairwise(edges))


Migration = tuple[int, str, str]  # (version, file name, SQL)


def migrations_in(backend: str = "sqlite") -> list[Migration]:
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


def bundled_migrations() -> list[Migration]:
    return migrations_in("sqlite")


async def open_database(config: Config, migrations: Iterable[Migration] | None = None) -> Database:
    """The configured database, opened and migrated: PostgreSQL for a `postgresql://` URL,
    else the SQLite file."""
    if config.database_url:
        from bot.postgres import PostgresDatabase

        return await PostgresDatabase.open(config.database_url, migrations)
    from bot.sqlite import SqliteDatabase

    return await SqliteDatabase.open(config.database_path, migrations)


async def open_database_to_read(config: Config) -> Database:
    """The configured database opened to read, without migrations (an export, `status`)."""
    if config.database_url:
        from bot.postgres import PostgresDatabase

        return await PostgresDatabase.open_to_read(config.database_url)
    from bot.sqlite import SqliteDatabase

    return await SqliteDatabase.open_to_read(config.database_path)
