"""What an operator meets on a first day, run as they would run it: each fault one line naming the
place and the fix, a non-zero exit, no traceback, no password; PostgreSQL set up as its manual
recommends; `db port` and `db backup` as printed."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import shlex
import shutil
import socket
import sqlite3
import subprocess
import time

import asyncpg
import pytest

from bot.db import DatabaseUnavailable, bundled_migrations
from bot.dburl import password, redact_url, without_password
from bot.postgres import PostgresDatabase
from bot.sqlite import SqliteDatabase
from tests.test_cli import assert_one_line_failure, cli, save_a_quote

ROLES = itertools.count(1)
SECRET = "s3cret-Pw"


async def admin_async(url: str, *statements: str) -> None:
    """Statements run as the server's superuser in the database of `url`."""
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def admin(url: str, *statements: str) -> None:
    asyncio.run(admin_async(url, *statements))


def as_role(url: str, role: str, secret: str = SECRET) -> str:
    return url.replace("postgres@", f"{role}:{secret}@")


def run_against(url: str, tmp_path, **env):
    started = time.monotonic()
    result = cli(
        "run",
        cwd=tmp_path,
        env_extra={"DISCORD_TOKEN": "x.y.z", "DATABASE_URL": url, **env},
    )
    return result, time.monotonic() - started


def assert_secret_kept(result) -> None:
    assert SECRET not in result.stdout + result.stderr


# The URL's password, however written, is found and never shown.


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://bot:{SECRET}@db.example:5432/club",
        f"postgresql://bot@db.example:5432/club?password={SECRET}&sslmode=disable",
        "postgresql://bot:s3cret%2DPw@db.example/club",
        f"postgres://bot@db.example/club?sslmode=disable&PASSWORD={SECRET}",
    ],
    ids=["userinfo", "query", "percent-encoded", "query-uppercase"],
)
def test_every_spelling_of_the_password_is_masked(url):
    assert password(url) == SECRET
    shown = redact_url(url)
    assert SECRET not in shown and "s3cret" not in shown and "***" in shown
    assert "db.example" in shown and "/club" in shown
    bare = without_password(url)
    assert "s3cret" not in bare and "***" not in bare and bare.startswith(url.split(":")[0])


def test_a_short_password_is_masked_in_its_url_and_leaves_other_words_alone(monkeypatch):
    import logging

    from bot import logs
    from bot.__main__ import setup_logging
    from bot.config import Config

    monkeypatch.setattr(logs, "_secrets", set())
    monkeypatch.setattr(logs, "setup_logging", lambda *args: None)  # no handler for the test
    setup_logging(Config(database_url="postgresql://bot:an@db.example/club"))
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "Connecting to %s and planning the banner", None, None
    )
    record.args = ("postgresql://bot:an@db.example/club?password=an",)
    logs.RedactSecrets().filter(record)
    assert record.getMessage() == (
        "Connecting to postgresql://bot:***@db.example/club?password=*** and planning the banner"
    )


@pytest.mark.parametrize("spelling", ["userinfo", "query", "percent"])
def test_a_refusal_and_status_never_show_the_password(tmp_path, spelling):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = {
        "userinfo": f"postgresql://bot:{SECRET}@127.0.0.1:{port}/club",
        "query": f"postgresql://bot@127.0.0.1:{port}/club?password={SECRET}",
        "percent": f"postgresql://bot:s3cret%2DPw@127.0.0.1:{port}/club",
    }[spelling]
    result, took = run_against(url, tmp_path)
    assert_one_line_failure(result, "cannot be reached", took)
    assert "s3cret" not in result.stderr and f"127.0.0.1:{port}" in result.stderr
    status = cli("status", cwd=tmp_path, env_extra={"DATABASE_URL": url})
    assert status.returncode == 1 and "s3cret" not in status.stdout + status.stderr
    assert f"127.0.0.1:{port}" in status.stderr


# Configuration mistakes: one line, exit code 2.


def test_a_port_typo_and_an_impossible_shard_range_are_configuration_problems(tmp_path):
    result, _ = run_against(f"postgresql://bot:{SECRET}@db.example:54x2/club", tmp_path)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "db.example" in line and "'54x2'" in line and "db.example:5432" in line
    assert_secret_kept(result)
    for ids, says in (("0-99999999999", "from 0 to 3, not 99999999999"), ("2-1", "backwards")):
        started = time.monotonic()
        result = cli(
            "run",
            cwd=tmp_path,
            env_extra={"DISCORD_TOKEN": "x", "SHARD_COUNT": "4", "SHARD_IDS": ids},
        )
        assert result.returncode == 2 and time.monotonic() - started < 10
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("Configuration problem: SHARD_IDS") and says in line
    huge = cli("status", cwd=tmp_path, env_extra={"SHARD_COUNT": "99999999999"})
    assert huge.returncode == 2 and "SHARD_COUNT must be from 1 to 100,000" in huge.stderr


# PostgreSQL's faults at start.


def test_a_server_that_accepts_and_never_answers_is_reported_within_ten_seconds(tmp_path):
    with socket.socket() as silent:  # the kernel accepts the connection; nobody ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        result, took = run_against(f"postgresql://bot:{SECRET}@127.0.0.1:{port}/club", tmp_path)
    assert_one_line_failure(result, "did not answer within", took)
    assert f"127.0.0.1:{port}" in result.stderr
    assert_secret_kept(result)


def test_a_role_without_create_on_the_schema_is_told_how_to_get_it(postgres, tmp_path):
    role = f"nocreate_{next(ROLES)}"
    url = postgres.create_database(role)
    admin(url, f"CREATE ROLE {role} LOGIN")
    result, took = run_against(as_role(url, role), tmp_path)
    assert_one_line_failure(result, "refused to create the bot's tables", took)
    assert f"CREATE SCHEMA AUTHORIZATION {role}" in result.stderr
    assert f"127.0.0.1:{postgres.port}" in result.stderr
    assert_secret_kept(result)


async def test_a_server_without_the_extension_is_told_what_to_install(postgres):
    url = postgres.create_database(f"noext_{next(ROLES)}")
    # The server's own refusal for an extension whose files are not installed.
    missing = [(13, "0013_schema.sql", "CREATE EXTENSION IF NOT EXISTS unaccent_not_installed")]
    with pytest.raises(DatabaseUnavailable) as refused:
        await PostgresDatabase.open(url, missing)
    message = str(refused.value)
    assert "no unaccent extension" in message and "postgresql-contrib" in message
    assert "\n" not in message


async def test_a_role_with_a_schema_of_its_own_starts_and_searches(postgres):
    role = f"owner_{next(ROLES)}"
    url = postgres.create_database(role)
    # PostgreSQL's recommended setup: the role's own schema, first in its search path; the
    # extension, trusted, is created by the role where it creates everything: in that schema.
    await admin_async(
        url,
        f"CREATE ROLE {role} LOGIN",
        f"CREATE SCHEMA AUTHORIZATION {role}",
        f"GRANT CREATE ON DATABASE {role} TO {role}",
    )
    db = await PostgresDatabase.open(as_role(url, role))
    try:
        home = await db.fetchval(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'"
        )
        assert home == role
        from bot.fulltext import POSTGRESQL

        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO quotes (guild_id, number, text, author_id, saved_by, saved_at) "
                "VALUES (5, 1, 'Un café à Las Vegas', 7, 8, 0)"
            )
        found = await db.fetchall(POSTGRESQL.quotes_newest, (*POSTGRESQL.query("cafe"), 5, 10))
        assert [row["text"] for row in found] == ["Un café à Las Vegas"]
    finally:
        await db.close()


# status


async def test_status_sees_a_running_unsharded_bot(club, config, tmp_path):
    where = (
        {"DATABASE_URL": config.database_url}
        if config.database_url
        else {"DATABASE_PATH": str(config.database_path)}
    )
    shown = cli("status", cwd=tmp_path, env_extra=where)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    first, last = shown.stdout.strip().splitlines()
    assert ": unsharded, version " in first and "last heartbeat" in first
    assert last == "The bot runs in one process."


# A database whose logins need a password (the session's server trusts every other one).


@pytest.fixture
def guarded(postgres):
    """(URL without password, role, password) of a database that checks passwords."""
    number = next(ROLES)
    name, role = f"guarded_{number}", f"guard_{number}"
    url = postgres.create_database(name)
    admin(
        url,
        f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'",
        f"ALTER DATABASE {name} OWNER TO {role}",
    )
    hba = postgres.data / "pg_hba.conf"
    hba.write_text(f"host {name} all 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    postgres._run("pg_ctl", "-D", str(postgres.data), "reload")
    bare = url.replace("postgres@", f"{role}@")
    asyncio.run(_until_a_password_is_asked(bare))
    return bare, role


async def _until_a_password_is_asked(url: str) -> None:
    """The server rereads pg_hba.conf on its own time after a reload."""
    for _ in range(100):
        try:
            await (await asyncpg.connect(url)).close()
        except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the server never asked for a password")


def test_the_password_comes_from_the_password_file_the_unit_names(guarded, tmp_path):
    url, role = guarded
    port = url.split(":")[-1].split("/")[0]
    refused = cli("db", "check", cwd=tmp_path, env_extra={"DATABASE_URL": url})
    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert "refused the login" in line and "password file" in line
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{port}:*:{role}:{SECRET}\n")
    passfile.chmod(0o600)
    env = {"DATABASE_URL": url, "PGPASSFILE": str(passfile)}
    checked = cli("db", "check", cwd=tmp_path, env_extra=env)
    assert checked.returncode == 0, checked.stderr
    assert_secret_kept(checked)


# db port and db backup.


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def older_club(tmp_path):
    """A club's SQLite file one migration behind this release, with a quote in it."""
    path = tmp_path / "club.db"
    save_a_quote(lambda: SqliteDatabase.open(path, bundled_migrations()[:-1]))
    for leftover in tmp_path.glob("club.db-*"):  # a clean shutdown leaves the file alone
        leftover.unlink()
    return path


def tables_of(url: str) -> list[str]:
    async def read() -> list[str]:
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
            return [row[0] for row in rows]
        finally:
            await conn.close()

    return asyncio.run(read())


def test_db_port_refuses_a_non_empty_database_before_writing_anything(postgres, tmp_path):
    source = older_club(tmp_path)
    before = sha256(source)
    wrong = postgres.create_database(f"wrong_{next(ROLES)}")
    admin(wrong, "CREATE TABLE invoices (id INT)", "INSERT INTO invoices VALUES (1)")
    result = cli(
        "db", "port", "--to", wrong, cwd=tmp_path, env_extra={"DATABASE_PATH": str(source)}
    )
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert "not Projectionist's (invoices)" in line
    assert tables_of(wrong) == ["invoices"], "nothing created in the wrong database"
    assert sha256(source) == before


def test_db_port_leaves_the_sqlite_file_as_it_was_and_reads_only_its_option(postgres, tmp_path):
    source = older_club(tmp_path)
    before = sha256(source)
    target = postgres.create_database(f"port_{next(ROLES)}")
    # DATABASE_URL already names the new database (as in .env): the source is still the file.
    env = {"DATABASE_PATH": str(source), "DATABASE_URL": target}
    result = cli("db", "port", "--to", target, cwd=tmp_path, env_extra=env)
    assert result.returncode == 0, result.stderr
    assert "quotes: 1 row" in result.stdout.splitlines()
    assert sha256(source) == before, "the source file is byte for byte as it was"
    with sqlite3.connect(source) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == bundled_migrations()[-2][0]


def test_db_backup_on_postgresql_prints_a_pg_dump_that_works_as_pasted(postgres, guarded, tmp_path):
    bare, role = guarded
    url = bare.replace(f"{role}@", f"{role}:{SECRET}@")
    asyncio.run(_migrate(url))
    dump = tmp_path / "backups" / "club.dump"
    result = cli("db", "backup", str(dump), cwd=tmp_path, env_extra={"DATABASE_URL": url})
    assert result.returncode == 1
    assert_secret_kept(result)
    assert "***" not in result.stderr and "PGPASSWORD" in result.stderr
    [command] = [line for line in result.stderr.splitlines() if "pg_dump " in line]
    args = shlex.split(command)
    assert args[0] == "pg_dump" and f"--file={dump}" in args
    dump.parent.mkdir()
    pg_dump = shutil.which("pg_dump", path=str(postgres.bin)) or "pg_dump"
    done = subprocess.run(
        [pg_dump, *args[1:]],
        env={"PGPASSWORD": SECRET, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert dump.stat().st_size > 0


async def _migrate(url: str) -> None:
    await (await PostgresDatabase.open(url)).close()


def test_status_and_export_on_a_database_the_bot_never_ran_on_are_one_line(postgres, tmp_path):
    url = as_role(postgres.create_database(f"never_{next(ROLES)}"), "postgres")
    for command in (["status"], ["export", "--member", "7"]):
        result = cli(*command, cwd=tmp_path, env_extra={"DATABASE_URL": url})
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        [line] = (result.stdout + result.stderr).strip().splitlines()
        assert f"127.0.0.1:{postgres.port}" in line
        assert_secret_kept(result)
