import sqlite3

import pytest

from bot.db import Conflict, DatabaseTooNew, UnsupportedStatement, bundled_migrations
from bot.sqlite import SqliteDatabase


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
