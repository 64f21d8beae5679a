"""Operations on the database: a consistent backup while the bot runs, an integrity check,
JSON exports of a server's or a member's data (on either backend), and moving a club's SQLite
file to PostgreSQL (`port`)."""

from __future__ import annotations

import json
import shlex
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import dburl
from bot.config import Config
from bot.db import DatabaseUnavailable, bundled_migrations, migrations_in, open_database_to_read
from bot.dburl import redact_url
from bot.reactions.counts import COUNT_TABLES
from bot.sqlite import SqliteDatabase, explain_open_failure, no_database
from bot.text import plural

if TYPE_CHECKING:
    from bot.postgres import PostgresDatabase


def backup(database: Path, target: Path) -> int:
    """Copy the database with SQLite's online backup API (consistent while the bot writes)."""
    if not database.exists():
        raise FileNotFoundError(no_database(database))
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target.stat().st_size


def check(database: Path) -> tuple[bool, list[str]]:
    """(healthy, report lines): integrity check and schema version against this code. A file
    that cannot be read raises DatabaseUnavailable naming it and what to do."""
    if not database.exists():
        raise FileNotFoundError(no_database(database))
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as error:
        raise DatabaseUnavailable(explain_open_failure(database, error)) from None
    latest = bundled_migrations()[-1][0]
    lines = [f"integrity: {', '.join(integrity)}", *version_lines(version, latest)]
    return integrity == ["ok"] and version <= latest, lines


def version_lines(version: int, latest: int) -> list[str]:
    """The schema version against this release's, and what that means for the next start."""
    lines = [f"schema version: {version} (this release knows up to {latest})"]
    if version < latest:
        lines.append("the next start will apply the newer migrations")
    if version > latest:
        lines.append("written by a newer release: upgrade before starting the bot on it")
    return lines


def pg_dump_advice(config: Config, path: str) -> str:
    """What to run instead of `db backup` on PostgreSQL: commands that work as pasted, the
    password left to PGPASSWORD or ~/.pgpass (never printed)."""
    url = config.database_url or ""
    bare = shlex.quote(dburl.without_password(url))
    target = shlex.quote(path)
    lines = [
        "On PostgreSQL, back up with the server's own tool, safe while the bot runs:",
        f"  pg_dump --format=custom --file={target} {bare}",
        "and restore into an empty database (createdb it first) with:",
        f"  pg_restore --no-owner --dbname=<the empty database's URL> {target}",
    ]
    if dburl.password(url) is not None:
        lines.append(
            "Both read the password from PGPASSWORD or ~/.pgpass, not from this command: "
            "`read -rs PGPASSWORD && export PGPASSWORD` first, or a ~/.pgpass line "
            "host:port:database:user:password (mode 600)."
        )
    return "\n".join(lines)


async def check_postgres(config: Config) -> tuple[bool, list[str]]:
    """(healthy, report lines) for a PostgreSQL database: reachable, schema version, tables."""
    from bot.postgres import PostgresDatabase

    db = await PostgresDatabase.open_to_read(config.database_url or "")
    try:
        server = await db.fetchval("SHOW server_version")
        version = await db.user_version()
        tables = set(await db.tables())
    finally:
        await db.close()
    latest = migrations_in("postgresql")[-1][0]
    lines = [f"server: PostgreSQL {server} at {config.database_name}"]
    healthy = version <= latest
    if version and version <= latest:
        expected = set(schema_tables())
        missing = sorted(expected - tables)
        lines.append(f"tables: {len(tables & expected)} of {len(expected)}")
        if missing:
            lines.append(f"missing: {', '.join(missing)}")
            healthy = False
    versions = version_lines(version, latest)
    return healthy, [lines[0], versions[0], *lines[1:], *versions[1:]]


def schema_tables() -> list[str]:
    """PostgreSQL's tables in the order the migrations create them: each after the tables it
    refers to; a table a later migration drops is not among them."""
    names: list[str] = []
    for _, _, sql in migrations_in("postgresql"):
        for line in sql.splitlines():
            if line.startswith("CREATE TABLE "):
                names.append(line.split()[2])
            elif line.startswith("DROP TABLE "):
                names.remove(line.split()[2].rstrip(";"))
    return names


async def export(
    config: Config, *, guild_id: int | None = None, member_id: int | None = None
) -> dict[str, Any]:
    """A server's data or a member's, as plain JSON-ready dictionaries: every feature's part
    (bot/members.py), read without changing anything (the bot may be running)."""
    from bot.services import members_reading

    db = await open_database_to_read(config)
    try:
        members = members_reading(db, clock=time.time)
        if member_id is not None:
            return await members.export_member(member_id)
        if guild_id is None:
            raise ValueError("export needs a server id or a member id")
        return await members.export_guild(guild_id)
    finally:
        await db.close()


async def status(config: Config) -> tuple[bool, list[str]]:
    """The cluster as its heartbeats show it (bot/cluster.py)."""
    from bot.cluster import processes, status_lines
    from bot.reactions.reconcile import progress

    db = await open_database_to_read(config)
    try:
        if "processes" not in await db.tables():
            return False, [
                f"No process of the bot has run on {db.name} with this release (it records "
                "heartbeats from its first start)."
            ]
        found = await processes(db)
        running = await progress(db)
    finally:
        await db.close()
    return status_lines(found, int(time.time()), running)


def export_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


class PortRefused(RuntimeError):
    """The target cannot take the club: it holds data already, or is not PostgreSQL."""


# Not copied: SQLite's log of reaction batches and the notes of the reactions' counts (merged
# and folded before the copy), and the counter of rating changes, which the target's triggers
# start on their own.
NOT_PORTED = {"reaction_log", "reaction_day_changes", "rating_versions"}
# PostgreSQL's tables that hold one of SQLite's behind a view of its name (migration 0036):
# copied and counted through the view (its emoji numbers are made as the rows are written).
BEHIND_VIEWS = {"reaction_rows": "reactions"}
# Derived from other tables (migrations 0020, 0021, 0025, 0029, 0030, 0032, 0037): made on the
# target in one pass after the copy (`PostgresDatabase.loading`), then compared, not copied.
DERIVED = {
    "film_wants",
    "film_years",
    "member_years",
    "latest_ratings",
    "film_rating_counts",
    "film_ratings",
    *COUNT_TABLES,
    "quote_reactions",
}
# The rows compared of a derived table, where not all: a quote's row stays at zero once its
# reactions are gone (migration 0037), and is not made again from the days.
COMPARED = {"quote_reactions": " WHERE reactions <> 0"}


async def port(config: Config, target_url: str) -> tuple[bool, list[str]]:
    """Copy the SQLite database of `config` into an empty PostgreSQL database: every table in
    one transaction, then the row count of each compared. Returns (all equal, report lines)."""
    from bot.postgres import PostgresDatabase
    from bot.reactions.recorder import ReactionRecorder

    if not target_url.startswith(("postgresql://", "postgres://")):
        raise PortRefused(f"{redact_url(target_url)} is not a postgresql:// URL.")
    if wrong := dburl.problem(target_url):
        raise PortRefused(f"{redact_url(target_url)}: {wrong}.")
    if not config.database_path.exists():
        raise FileNotFoundError(no_database(config.database_path))
    # The target is looked at before anything is written, there or here.
    probe = await PostgresDatabase.open_to_read(target_url)
    try:
        await refuse_unless_empty(probe)
    finally:
        await probe.close()
    # The source is read from a copy brought to this release's schema: the file itself is left
    # byte for byte as it was, should the club go back to it.
    with tempfile.TemporaryDirectory(prefix="projectionist-port-") as folder:
        copy = Path(folder) / config.database_path.name
        backup(config.database_path, copy)
        source = await SqliteDatabase.open(copy)
        try:
            recorder = ReactionRecorder(source, clock=time.time)
            await recorder.load()  # reactions logged and not merged yet become rows first
            target = await PostgresDatabase.open(target_url)
            try:
                return await _copy(source, target)
            finally:
                await target.close()
        finally:
            await source.close()


async def refuse_unless_empty(target: PostgresDatabase) -> None:
    """PortRefused unless the target holds no rows and no tables but the bot's own."""
    tables = await target.tables()
    foreign = [t for t in tables if t not in set(schema_tables())]
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5:,} more" if len(foreign) > 5 else ""
        )
        raise PortRefused(
            f"{target.name} holds tables that are not Projectionist's ({shown}): port into a new, "
            "empty database (`createdb --owner <user> projectionist`)."
        )
    held = [t for t in tables if await target.fetchval(f"SELECT EXISTS (SELECT 1 FROM {t})")]
    if held:
        raise PortRefused(
            f"{target.name} already holds data (in {', '.join(held)}): port into an empty "
            "database (`createdb --owner <user> projectionist`)."
        )


async def refuse_unheld_times(source: SqliteDatabase) -> None:
    """PortRefused if a reaction's time is one PostgreSQL's rows cannot hold."""
    from bot.postgres import REACTION_TIMES

    outside = await source.fetchval(
        "SELECT count(*) FROM reactions WHERE created_at NOT BETWEEN ? AND ?", REACTION_TIMES
    )
    if outside:
        raise PortRefused(
            f"Reactions with a time PostgreSQL cannot keep: {outside:,} (created_at, seconds since "
            "1970, outside 1955-12-13 to 2092-01-19, which it keeps in 4 bytes). Correct or delete "
            "them in the SQLite file (SELECT * FROM reactions WHERE created_at NOT BETWEEN "
            f"{REACTION_TIMES[0]} AND {REACTION_TIMES[1]}), then port again."
        )


async def _copy(source: SqliteDatabase, target: PostgresDatabase) -> tuple[bool, list[str]]:
    await refuse_unless_empty(target)  # written meanwhile by someone else
    await refuse_unheld_times(source)
    target_tables = {BEHIND_VIEWS.get(t, t) for t in await target.tables()}
    present = set(await source.tables()) & target_tables
    ported = (BEHIND_VIEWS.get(t, t) for t in schema_tables())
    tables = [t for t in ported if t in present and t not in NOT_PORTED]
    async with target.loading() as load:
        for table in (t for t in tables if t not in DERIVED):
            columns = await target.columns(table)
            names = ", ".join(name for name, _ in columns)
            async for rows in source.chunks(f"SELECT {names} FROM {table}"):
                await load(table, columns, rows)
    lines, same = [], True
    for table in tables:
        compared = COMPARED.get(table, "")
        before = await source.fetchval(f"SELECT count(*) FROM {table}{compared}")
        after = await target.fetchval(f"SELECT count(*) FROM {table}{compared}")
        same &= before == after
        lines.append(
            f"{table}: {plural(before, 'row')}" + ("" if before == after else f", {after:,} copied")
        )
    lines.append(
        f"Copied {plural(len(tables), 'table')} to {target.name}; every row count matches."
        if same
        else "Row counts differ: do not switch DATABASE_URL to this database."
    )
    return same, lines
