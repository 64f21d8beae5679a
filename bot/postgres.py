"""PostgreSQL behind the database interface (bot/db.py), as SQLite is (bot/sqlite.py): a pool
of asyncpg connections, transactions as `Tx`, the migrations of `bot/migrations/postgresql`
applied under an advisory lock with the version in a table.

The domain's SQL is written once with `?` placeholders (SQLite's); they become `$1, $2, ...`
here (bot/db.py `numbered`). A write transaction of a server takes that server's advisory lock
for its length (bot/locks.py): every check-then-act of the domain (the next prompt's number, a
member's third nomination) is per server and reads what it writes without a race, in one process
or in many. Writes that check nothing take no lock."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress

import asyncpg

from bot import dburl
from bot.db import (
    Conflict,
    Database,
    DatabaseTooNew,
    DatabaseUnavailable,
    Migration,
    Params,
    Row,
    Tx,
    migrations_in,
    numbered,
    positional,
)
from bot.dburl import redact_url
from bot.locks import SERVER_LOCK, WriterGate, server_key
from bot.text import plural

log = logging.getLogger(__name__)

# Advisory lock keys: 'PJ' and what each serializes (a server's writes: bot/locks.py).
MIGRATION_LOCK = 0x504A_0002
ONCE_LOCKS = 0x504A_1000  # + a small number per one-off task (see `once`)
CLOSE_TIMEOUT = 10  # seconds
# (table, trigger) keeping derived tables (migrations 0020, 0021, 0029, 0030): `loading` turns
# them off while it copies and makes the derived tables once at the end. Each quote's row (0037)
# is made by its triggers as the daily counts are made again, in the one statement that does.
KEPT_BY_TRIGGERS = (
    ("viewings", "viewings_latest"),
    ("reaction_rows", "reactions_counted"),
    ("reaction_rows", "reactions_uncounted"),
    ("tracked_messages", "reactions_shown_again"),
    ("watchlist", "watchlist_wanted"),
    ("viewings", "viewings_year"),
)
# The reactions' times the rows hold (migration 0036: seconds from 2024 in 4 bytes), 1955-12-13
# to 2092-01-19 UTC.
REACTION_TIMES = (-443_416_448, 3_851_550_847)
# `reactions` is a view of `reaction_rows` (migration 0036): `loading` copies its rows into a
# table of its own and writes them behind the view at the end with one statement, in key order
# (through the view, a statement a reaction).
REACTIONS_PORTED = (
    "CREATE TEMP TABLE reactions_ported (message_id BIGINT, user_id BIGINT, emoji TEXT, "
    "created_at BIGINT) ON COMMIT DROP"
)
REACTIONS_STORED = (
    "SELECT emoji_numbered(ARRAY(SELECT DISTINCT emoji FROM reactions_ported))",
    "INSERT INTO reaction_rows (message_id, user_id, emoji, at) "
    "SELECT p.message_id, p.user_id, e.number, reaction_at(p.created_at) FROM reactions_ported p "
    "JOIN emoji_numbers e ON e.key = p.emoji ORDER BY 1, 2, 3",
)


def _count(status: str) -> int:
    """Rows changed, from a command tag like `UPDATE 3` or `INSERT 0 1`."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresSql:
    """The pieces of SQL PostgreSQL spells its own way."""

    backend = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    @staticmethod
    def json_int(column: str, key: str) -> str:
        return f"CAST(CAST({column} AS jsonb) ->> '{key}' AS BIGINT)"


class PostgresTx(PostgresSql, Tx):
    """A transaction on one connection of the pool."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        try:
            return _count(await self._conn.execute(numbered(sql), *positional(params)))
        except asyncpg.IntegrityConstraintViolationError as error:
            raise Conflict(str(error)) from error

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        rows = list(rows)
        if not rows:
            return
        try:
            await self._conn.executemany(numbered(sql), [positional(row) for row in rows])
        except asyncpg.IntegrityConstraintViolationError as error:
            raise Conflict(str(error)) from error

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            rows: list[Row] = await self._conn.fetch(numbered(sql), *positional(params))
            return rows
        except asyncpg.IntegrityConstraintViolationError as error:
            raise Conflict(str(error)) from error


# Seconds to wait for a server to accept a login: one that takes the connection and never
# answers is reported in one line well within ten seconds, not after the driver's minute.
CONNECT_TIMEOUT = 5.0
CONNECT_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError, ValueError)


def explain_connect_failure(url: str, error: BaseException) -> str:
    """One line for the operator: which server (never the password), what is wrong, the fix."""
    where = redact_url(url)
    if isinstance(
        error, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return (
            f"PostgreSQL at {where} refused the login ({error}): check the user and password "
            "in DATABASE_URL, or the server's line in the password file (PGPASSFILE or "
            "~/.pgpass, this user's own, mode 600)."
        )
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return (
            f"PostgreSQL at {where} has no such database ({error}): create it "
            "(`createdb projectionist`) or fix DATABASE_URL."
        )
    if isinstance(error, asyncpg.InsufficientPrivilegeError):
        return (
            f"PostgreSQL at {where} refused ({error}): the user in DATABASE_URL must own the "
            "database (it creates the tables and the unaccent extension)."
        )
    if isinstance(error, TimeoutError):
        return (
            f"PostgreSQL at {where} did not answer within {CONNECT_TIMEOUT:.0f} seconds: check "
            "that the host and port in DATABASE_URL are PostgreSQL's and the server is not "
            "overloaded."
        )
    if isinstance(error, ValueError):  # the driver could not read the URL
        return f"DATABASE_URL {where} cannot be read ({error}): fix it in .env."
    return (
        f"PostgreSQL at {where} cannot be reached ({type(error).__name__}: {error}): check that "
        "the server runs and DATABASE_URL names it."
    )


def explain_migration_failure(url: str, error: BaseException) -> str:
    """One line for a schema the server would not let the bot create."""
    where = redact_url(url)
    user = dburl.parse(url).user or "<user>"
    database = dburl.parse(url).path.lstrip("/") or "<database>"
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if isinstance(error, asyncpg.UndefinedFileError) or "not available" in text:
        return (
            f"PostgreSQL at {where} has no unaccent extension ({text}): install the server's "
            "contrib modules (Debian: apt-get install postgresql-contrib), then start again."
        )
    if isinstance(error, asyncpg.InsufficientPrivilegeError) and "extension" in text:
        return (
            f"PostgreSQL at {where} refused to create the unaccent extension ({text}): as a "
            f"superuser, run `CREATE EXTENSION unaccent;` in the database {database}, or "
            f"`GRANT CREATE ON DATABASE {database} TO {user};`, then start again."
        )
    if isinstance(error, asyncpg.InsufficientPrivilegeError):
        return (
            f"PostgreSQL at {where} refused to create the bot's tables ({text}): give the user "
            f"a schema of its own (`CREATE SCHEMA AUTHORIZATION {user};` in the database "
            f"{database}) or make it the database's owner (`ALTER DATABASE {database} OWNER "
            f"TO {user};`), then start again."
        )
    if isinstance(error, asyncpg.RaiseError):  # a migration's own check, which says what to do
        return f"PostgreSQL at {where} could not bring the database up to this release: {text}."
    if isinstance(error, asyncpg.DependentObjectsStillExistError):
        detail = " ".join((getattr(error, "detail", None) or "").split())
        return (
            f"PostgreSQL at {where} could not bring the database up to this release ({text}"
            f"{': ' + detail if detail else ''}): drop what was built on the bot's tables (it "
            "can be made again on what replaces them), then start again."
        )
    if isinstance(error, asyncpg.PostgresError):
        return (
            f"PostgreSQL at {where} refused the bot's schema ({type(error).__name__}: {text}): "
            "start on an empty database owned by the user in DATABASE_URL."
        )
    return explain_connect_failure(url, error)


# Settings of the bot's sessions. Its queries are a server's: tens of milliseconds, many at once.
# Parallel workers (a process started for each) cost more than they save there: `/stats
# server`'s five reads on the benchmark's community, 100 calls each way, 34-35 → 29 ms p50 and
# 46-52 → 36-38 ms p99 without them (its sections' ranking had two workers for 8,800 rows).
# Compiling a query (JIT) takes longer than running it: `/stats films`' ranking costs 86,000 on
# the benchmark's ratings, just under `jit_above_cost` (100,000); compiled, it took 50.5 ms
# p50 against 23.3, and 392 ms once it reaches the thresholds for inlining and optimizing.
SESSION_SETTINGS = {"max_parallel_workers_per_gather": "0", "jit": "off"}


async def connect_pool(url: str, *, min_size: int, max_size: int) -> asyncpg.Pool:
    """A pool, or DatabaseUnavailable with one line naming the server and the fix."""
    try:
        return await asyncpg.create_pool(
            url,
            min_size=min_size,
            max_size=max_size,
            command_timeout=60,
            timeout=CONNECT_TIMEOUT,
            server_settings=SESSION_SETTINGS,
            init=know_array_types,
            reset=keep_session,
        )
    except CONNECT_ERRORS as error:
        raise DatabaseUnavailable(explain_connect_failure(url, error)) from None


# asyncpg knows the codecs of `integer[]` and `bigint[]` only once it has looked them up in the
# server's catalogue, on each connection, the first time a statement of it takes or gives one: two
# queries, 9-12 ms on an idle server. The first batches of reactions on a connection paid it,
# 70 and 72 ms in a burst (the event loop busy with the events). A connection opened later (the
# pool opens one as it is asked for it, and closes one idle for five minutes) pays it as it opens.
ARRAY_TYPES = "SELECT $1::integer[], $2::bigint[]"


async def know_array_types(conn: asyncpg.Connection) -> None:
    await conn.prepare(ARRAY_TYPES, name="")  # unnamed: nothing to close on the server later


async def keep_session(conn: asyncpg.Connection) -> None:
    """What the pool does to a connection given back, once asyncpg has rolled back a
    transaction left open: nothing. asyncpg's own reset sends a query (advisory locks, cursors,
    LISTEN, settings) in a round trip of its own, which every call waited for: `SELECT 1` took
    0.50 → 0.27 ms, and a burst's batches, whose event loop is busy with the events, waited on
    it as well. The bot leaves none of that on a connection: its settings are the session's
    own (SESSION_SETTINGS), its server locks a transaction's, and its two session locks are
    taken by `PostgresDatabase._holding`, which closes a connection it could not unlock."""


class PostgresDatabase(PostgresSql, Database):
    """A pool of connections; a write transaction of a server holds that server's lock."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self.url = url
        self.name = redact_url(url)
        self._writers = WriterGate(pool.get_max_size())

    @classmethod
    async def open(
        cls,
        url: str,
        migrations: Iterable[Migration] | None = None,
        *,
        min_size: int = 2,
        max_size: int = 10,
    ) -> PostgresDatabase:
        """Connect a pool and apply pending migrations. Raises DatabaseUnavailable (with one line
        naming the server, never the password) or DatabaseTooNew."""
        pool = await connect_pool(url, min_size=min_size, max_size=max_size)
        db = cls(pool, url)
        try:
            await db.migrate(migrations)
        except CONNECT_ERRORS as error:
            pool.terminate()
            raise DatabaseUnavailable(explain_migration_failure(url, error)) from None
        except BaseException:
            pool.terminate()
            raise
        return db

    @classmethod
    async def open_to_read(cls, url: str) -> PostgresDatabase:
        """A small pool without migrations: for an export or a check while the bot may run."""
        return cls(await connect_pool(url, min_size=1, max_size=2), url)

    async def close(self) -> None:
        """Close the pool; connections still busy after a while (a server that stopped
        answering) are cut."""
        try:
            await asyncio.wait_for(self._pool.close(), CLOSE_TIMEOUT)
        except TimeoutError:
            self._pool.terminate()

    @asynccontextmanager
    async def _connection(self, use: str) -> AsyncIterator[asyncpg.Connection]:
        """A connection of the pool, the wait for it counted (bot/metrics.py)."""
        asked = time.perf_counter()
        async with self._pool.acquire() as conn:
            self.metrics.pool_wait(use, time.perf_counter() - asked)
            yield conn

    @asynccontextmanager
    async def transaction(self, guild_id: int | None = None) -> AsyncIterator[PostgresTx]:
        """A write transaction; with a server, holding that server's lock until it commits or
        rolls back (bot/locks.py), so what it checks holds until then."""
        async with (
            self._writers.enter(guild_id),
            self._connection("write") as conn,
            conn.transaction(),
        ):
            if guild_id is not None:
                await conn.execute(numbered(SERVER_LOCK), *server_key(guild_id))
            yield PostgresTx(conn)

    def unlocked(self) -> AbstractAsyncContextManager[PostgresTx]:
        """A transaction that takes no lock, for statements safe on their own."""
        return self.transaction()

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._connection("read") as conn:
            rows: list[Row] = await conn.fetch(numbered(sql), *positional(params))
            return rows

    async def write(self, sql: str, params: Params = ()) -> None:
        """One statement, atomic on its own, in one round trip (a batch of reactions)."""
        async with self._writers.enter(None), self._connection("write") as conn:
            await conn.execute(numbered(sql), *positional(params))

    @asynccontextmanager
    async def once(self, task: int) -> AsyncIterator[bool]:
        """Hold a cluster-wide lock for a one-off task at start (the essays sync, the command
        push): processes starting together do it one after another, never at once."""
        async with self._holding(ONCE_LOCKS + task):
            yield True

    @asynccontextmanager
    async def _holding(self, lock: int) -> AsyncIterator[asyncpg.Connection]:
        """A connection holding the session-level advisory lock `lock` throughout. A connection
        goes back to the pool as it is (`keep_session`): one whose block failed or was
        cancelled, or that could not be unlocked, is closed instead, which ends its session
        and the lock with it (a lock asked for and cancelled may still have been granted; one
        still queued behind another process's is taken, then let go, by the server's process
        once that process sees its client gone)."""
        async with self._pool.acquire() as conn:
            try:
                await conn.execute("SELECT pg_advisory_lock($1)", lock)
                yield conn
                await conn.execute("SELECT pg_advisory_unlock($1)", lock)
            except BaseException:
                # A connection the server dropped is already back in the pool, closed: the
                # error that says why is the one raised.
                with suppress(asyncpg.InterfaceError):
                    conn.terminate()
                raise

    async def user_version(self) -> int:
        exists = await self.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
        if not exists:
            return 0
        return int(await self.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    async def migrate(self, migrations: Iterable[Migration] | None = None) -> list[str]:
        """Apply pending migrations, each in a transaction with its version recorded, under an
        advisory lock: processes starting at once apply each once."""
        migrations = list(migrations_in("postgresql") if migrations is None else migrations)
        latest = migrations[-1][0] if migrations else 0
        applied = []
        async with self._holding(MIGRATION_LOCK) as conn:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            current = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
            if current > latest:
                raise DatabaseTooNew(
                    f"The database {self.name} is at schema version {current}, but this "
                    f"Projectionist knows versions up to {latest}. It was written by a newer "
                    "release: upgrade Projectionist, or point DATABASE_URL at another database."
                )
            if current < latest:
                await refuse_beside_running(conn, self.name, current, latest)
            for version, name, sql in migrations:
                if version <= current:
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        version,
                        name,
                    )
                log.info("Applied database migration %s", name)
                applied.append(name)
        return applied

    @asynccontextmanager
    async def loading(self) -> AsyncIterator[Callable[..., Awaitable[None]]]:
        """Copy rows into empty tables (`db port`), all in one transaction: yields
        `load(table, columns, rows)`, called once per chunk, each value converted to its
        column's type; at the end, identity columns continue after the highest id copied."""
        convert = {"integer": int, "real": float, "text": str}
        loaded: set[str] = set()
        async with self._pool.acquire() as conn, conn.transaction():

            async def load(table: str, columns: list[tuple[str, str]], rows: list[Row]) -> None:
                casts = [convert.get(kind) for _, kind in columns]
                records = [
                    tuple(
                        value if value is None or cast is None else cast(value)
                        for cast, value in zip(casts, row, strict=True)
                    )
                    for row in rows
                ]
                if records:
                    await conn.copy_records_to_table(
                        "reactions_ported" if table == "reactions" else table,
                        records=records,
                        columns=[name for name, _ in columns],
                    )
                if any(name == "id" for name, _ in columns):
                    loaded.add(table)

            # Tables kept by triggers: not followed row by row while the copy runs (in whatever
            # order the tables come), but made in one pass each at the end.
            for table, trigger in KEPT_BY_TRIGGERS:
                await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
            await conn.execute(REACTIONS_PORTED)
            yield load
            for statement in REACTIONS_STORED:
                await conn.execute(statement)
            await conn.execute("SELECT latest_ratings_rebuild()")
            await conn.execute("SELECT reaction_days_rebuild()")
            await conn.execute("SELECT film_wants_rebuild()")
            await conn.execute("SELECT viewing_years_rebuild()")
            for table, trigger in KEPT_BY_TRIGGERS:
                await conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
            for table in sorted(loaded):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                )

    async def columns(self, table: str) -> list[tuple[str, str]]:
        rows = await self.fetchall(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        kinds = {"bigint": "integer", "integer": "integer", "double precision": "real"}
        return [(row[0], kinds.get(row[1], row[1])) for row in rows]

    async def tables(self) -> list[str]:
        rows = await self.fetchall(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> 'schema_migrations' ORDER BY tablename"
        )
        return [row[0] for row in rows]


async def refuse_beside_running(
    conn: asyncpg.Connection, name: str, current: int, latest: int
) -> None:
    """DatabaseUnavailable while processes of the bot still beat on a database this start would
    migrate: they run an older release, whose statements a migration may change the ground
    under (an import of the old release's, beside a new trigger that counts imports apart,
    would leave the club's yearly counts short for good). A process killed without leaving
    the list is passed over once it has missed its heartbeats."""
    from bot.cluster import MISSED_BEATS, Process

    if await conn.fetchval("SELECT to_regclass('processes')") is None:
        return  # a database from before heartbeats (postgresql/0014), or a new one
    now = int(time.time())
    rows = await conn.fetch("SELECT * FROM processes ORDER BY name")
    running = [p for p in (Process(**dict(row)) for row in rows) if not p.stopped(now)]
    if not running:
        return
    named = "; ".join(
        f"{p.name} (version {p.version}, last heartbeat {max(0, now - p.beat_at)} s ago)"
        for p in running
    )
    raise DatabaseUnavailable(
        f"The database {name} is at schema version {current} and this release would migrate it "
        f"to {latest}, but {plural(len(running), 'process', 'processes')} of an older release still "
        f"{'runs' if len(running) == 1 else 'run'} on it: {named}. Stop every process of the bot "
        "before starting the new release (`python -m bot status` lists them); one that was "
        f"killed is passed over once it has been silent for {MISSED_BEATS} heartbeats."
    )
