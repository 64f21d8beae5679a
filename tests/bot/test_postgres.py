"""PostgreSQL's own parts: migrations under a lock, refusals that never show the password, and
search that finds what SQLite's finds."""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import shutil

import asyncpg
import pytest

from bot.db import DatabaseTooNew, DatabaseUnavailable, UnsupportedStatement, migrations_in
from bot.essays.library import Library
from bot.postgres import ARRAY_TYPES, ONCE_LOCKS, PostgresDatabase, numbered
from bot.sqlite import SqliteDatabase
from tests.conftest import MIGRATED, SEED_ESSAY, long_essay

NAMES = itertools.count(1)


def fresh(postgres) -> str:
    return postgres.create_database(f"fresh_{next(NAMES)}")


def test_placeholders_are_numbered_outside_string_literals():
    assert numbered("SELECT ? , '?', 'it''s ?', ?") == "SELECT $1 , '?', 'it''s ?', $2"
    assert numbered("UPDATE t SET a = ?1 WHERE b <= ?1 AND c = ?2") == (
        "UPDATE t SET a = $1 WHERE b <= $1 AND c = $2"
    )


def test_both_backends_reach_the_same_schema_version():
    assert migrations_in("postgresql")[-1][0] == migrations_in("sqlite")[-1][0]


async def test_two_processes_starting_at_once_apply_each_migration_once(postgres):
    url = fresh(postgres)
    opened = await asyncio.gather(PostgresDatabase.open(url), PostgresDatabase.open(url))
    try:
        versions = await opened[0].fetchall("SELECT version FROM schema_migrations ORDER BY 1")
        assert [row[0] for row in versions] == [v for v, _, _ in migrations_in("postgresql")]
        assert await opened[1].user_version() == migrations_in("sqlite")[-1][0]
        again = await opened[0].migrate()
        assert again == []
    finally:
        for db in opened:
            await db.close()


async def test_a_database_from_a_newer_release_is_refused(postgres):
    url = fresh(postgres)
    db = await PostgresDatabase.open(url)
    await db.write("INSERT INTO schema_migrations (version, name) VALUES (99, '0099_x.sql')")
    await db.close()
    with pytest.raises(DatabaseTooNew, match="schema version 99"):
        await PostgresDatabase.open(url)


async def test_a_failing_migration_leaves_nothing_behind(postgres):
    db = await PostgresDatabase.open(fresh(postgres), migrations=[])
    try:
        broken = [(1, "0001_x.sql", "CREATE TABLE t (a INTEGER); INSERT INTO nope VALUES (1);")]
        with pytest.raises(Exception, match="nope"):
            await db.migrate(broken)
        assert await db.user_version() == 0
        assert await db.fetchval("SELECT to_regclass('t')") is None
    finally:
        await db.close()


async def test_a_server_that_refuses_is_one_line_without_the_password(postgres):
    url = postgres.url("no_such_database").replace("postgres@", "postgres:s3cret@")
    with pytest.raises(DatabaseUnavailable) as refused:
        await PostgresDatabase.open(url)
    message = str(refused.value)
    assert "s3cret" not in message and "postgres:***@" in message
    assert "has no such database" in message and "\n" not in message
    closed = f"postgresql://postgres:s3cret@127.0.0.1:{postgres.port + 1}/x"
    with pytest.raises(DatabaseUnavailable, match="cannot be reached") as unreachable:
        await PostgresDatabase.open(closed)
    assert "s3cret" not in str(unreachable.value)


QUERIES = (
    "love",
    "Sera",
    "camera neon",
    "redemption pact",
    'love" OR "',
    "Shue's",
    "creme",
    "crème",
    "the",
    "apartment trunk",
    "waiting",
    "ne",
)


async def test_search_finds_the_same_sections_on_both_backends(postgres, tmp_path):
    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copy(SEED_ESSAY, folder / SEED_ESSAY.name)
    (folder / "the-long-take.md").write_text(long_essay(), encoding="utf-8")
    (folder / "accents.md").write_text(
        "Title: Crème brûlée\nFilm: Amélie\nYear: 2001\n\nOpening.\n\n## Crème\n\nLa crème.\n",
        encoding="utf-8",
    )
    lite = await SqliteDatabase.open(tmp_path / "s.db")
    pg = await PostgresDatabase.open(fresh(postgres))
    try:
        found = {}
        for db in (lite, pg):
            library = Library(db)
            await library.sync_directory(folder, now=1)
            found[db.backend] = {
                query: {
                    (hit.essay.key, hit.section.slug)
                    for hit in await library.search(None, query, limit=50)
                }
                for query in QUERIES
            }
        assert found["sqlite"] == found["postgresql"]
        assert found["postgresql"]["creme"] == found["postgresql"]["crème"] != set()
        assert found["postgresql"]['love" OR "'] == found["postgresql"]["love"] != set()
    finally:
        await lite.close()
        await pg.close()


def test_placeholders_are_text_wherever_postgresql_reads_text():
    assert numbered('SELECT ? AS "a?" /* ? */, ? -- ?\n') == 'SELECT $1 AS "a?" /* ? */, $2 -- ?\n'
    assert numbered("SELECT $$ ? $$, $f$ $$ ? $f$, E'it\\'s ?', ?::integer[], x::text, ?") == (
        "SELECT $$ ? $$, $f$ $$ ? $f$, E'it\\'s ?', $1::integer[], x::text, $2"
    )


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("SELECT ?1, ?", "number every placeholder or none"),
        ("SELECT ?, ?2", "number every placeholder or none"),
        ("SELECT :name", "Named placeholder :name"),
        ("SELECT /* a /* nested */ ? */ 1", "comment inside a comment"),
    ],
)
def test_what_would_bind_differently_is_refused(sql, why):
    with pytest.raises(UnsupportedStatement, match=why):
        numbered(sql)


async def test_a_question_mark_in_a_dollar_quoted_body_is_text(postgres):
    db = await PostgresDatabase.open(fresh(postgres))
    try:
        sql = "SELECT $$why?$$ AS a, $q$ ?, $$ $q$ AS b, CAST(? AS INTEGER) AS c"
        assert dict(await db.fetchone(sql, (7,))) == {"a": "why?", "b": " ?, $$ ", "c": 7}
    finally:
        await db.close()


async def test_the_bots_queries_are_planned_without_workers_or_compilation(postgres):
    # Parallel workers made `/stats server` slower, and a compiled query took two to sixteen
    # times as long (see SESSION_SETTINGS). The settings hold on every connection of the pool,
    # after a connection was returned to it (asyncpg resets a session's own settings then),
    # and inside a transaction.
    db = await PostgresDatabase.open(fresh(postgres))
    try:
        shown = "SELECT current_setting('jit'), current_setting('max_parallel_workers_per_gather')"
        answers = await asyncio.gather(*(db.fetchone(shown) for _ in range(8)))
        answers.append(await db.fetchone(shown))
        async with db.transaction() as tx:
            answers.extend(await tx.fetchall(shown))
        assert {tuple(row) for row in answers} == {("off", "0")}
    finally:
        await db.close()


async def test_two_writers_of_weeks_at_once_never_deadlock_on_their_quarters(postgres):
    """A fold and a post edited in place both write weeks' rows whose quarters cross: the edit
    holds quarter (225, section 7) while the fold's upsert updates a week of section 8 and
    inserts one of section 7, and then the edit moves counts into section 8 (migration 0032).
    Each quarter's row waited for the other's before the quarters' lock: PostgreSQL killed one
    as a deadlock. Both commit now, and the quarters are their weeks' sums."""
    url = postgres.create_database(f"quarters_{next(NAMES)}", template=MIGRATED)
    db = await PostgresDatabase.open(url)
    edit, fold = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        week_row = "INSERT INTO reaction_weeks VALUES (1, $1, $2, 0, $3)"
        for week, section in ((2930, 8), (2931, 8), (2933, 7)):
            await edit.execute(week_row, week, section, 5)
        await edit.execute("SET deadlock_timeout = '100ms'")
        await fold.execute("SET deadlock_timeout = '100ms'")
        bump = "UPDATE reaction_weeks SET reactions = reactions + 1 WHERE week = $1"
        async with edit.transaction():
            await edit.execute(bump, 2933)  # quarter (225, 7)
            folding = asyncio.create_task(
                fold.execute(
                    "INSERT INTO reaction_weeks AS d VALUES (1, 2930, 8, 0, 1), (1, 2937, 7, 0, 1) "
                    "ON CONFLICT (guild_id, week, section_id, quote_id) "
                    "DO UPDATE SET reactions = d.reactions + excluded.reactions"
                )
            )
            await asyncio.sleep(0.5)  # the fold's statement waits for the edit
            assert not folding.done()
            await edit.execute(bump, 2931)  # quarter (225, 8)
        await folding
        quarters = await db.fetchall(
            "SELECT quarter, section_id, reactions FROM reaction_quarters ORDER BY 1, 2"
        )
        assert [tuple(row) for row in quarters] == [(225, 7, 7), (225, 8, 12)]
    finally:
        await edit.close()
        await fold.close()
        await db.close()


async def test_a_new_connection_knows_the_batches_array_types_before_a_batch(postgres, monkeypatch):
    # asyncpg looked `integer[]` and `bigint[]` up in the catalogue the first time a statement
    # used them on a connection: the first batches of reactions on each waited for two more
    # queries (see `know_array_types`). Each connection of the pool, those it opens later
    # included, now learns them once, as it opens.
    preparing: contextvars.ContextVar[str] = contextvars.ContextVar("preparing")
    looked_up = []
    get_statement, introspect = (
        asyncpg.Connection._get_statement,
        asyncpg.Connection._introspect_types,
    )

    async def noted(conn, query, *args, **kwargs):
        preparing.set(query)
        return await get_statement(conn, query, *args, **kwargs)

    async def counted(conn, typeoids, *args):
        looked_up.append((preparing.get(), sorted(typeoids)))
        return await introspect(conn, typeoids, *args)

    monkeypatch.setattr(asyncpg.Connection, "_get_statement", noted)
    monkeypatch.setattr(asyncpg.Connection, "_introspect_types", counted)
    db = await PostgresDatabase.open(fresh(postgres), min_size=1, max_size=3)
    try:
        arrays = "SELECT cardinality(?::integer[]) + cardinality(?::bigint[]), pg_sleep(0.05)"
        answers = await asyncio.gather(*(db.fetchone(arrays, ([1, 2], [3])) for _ in range(3)))
        assert [row[0] for row in answers] == [3, 3, 3]
        assert db._pool.get_size() == 3  # two of them opened for these statements
        assert looked_up == [(ARRAY_TYPES, [1007, 1016])] * 3
    finally:
        await db.close()


async def test_a_connection_given_back_to_the_pool_runs_nothing_more(postgres):
    # The pool used to reset each connection given back, a query in a round trip of its own
    # that every call waited for (see `keep_session`): the server's last statement on the
    # connection is now the caller's own.
    name = f"given_back_{next(NAMES)}"
    url = postgres.create_database(name, template=MIGRATED)
    db = await PostgresDatabase.open(url, min_size=1, max_size=1)
    watcher = await asyncpg.connect(url)

    async def last_statements() -> list[str]:
        rows = await watcher.fetch(
            "SELECT query FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'",
            name,
        )
        return [row["query"] for row in rows]

    try:
        await db.write("SELECT 'the caller''s statement'")
        await db.fetchval("SELECT 'a read'")
        async with db.transaction() as tx:
            await tx.execute("SELECT 'a transaction''s statement'")
        assert await last_statements() == ["COMMIT;"]
        await db.fetchval("SELECT 'a read'")
        assert await last_statements() == ["SELECT 'a read'"]
    finally:
        await watcher.close()
        await db.close()


async def lock_is_free(url: str, key: int, tries: int = 50) -> bool:
    """Whether another session can take the advisory lock `key` within `tries` tenths of a
    second (a closed session's locks go once the server has seen it close)."""
    other = await asyncpg.connect(url)
    try:
        for _ in range(tries):
            if await other.fetchval("SELECT pg_try_advisory_lock($1)", key):
                await other.execute("SELECT pg_advisory_unlock($1)", key)
                return True
            await asyncio.sleep(0.1)
        return False
    finally:
        await other.close()


async def test_a_session_lock_is_let_go_however_its_block_ends(postgres):
    # Nothing resets a connection given back, so the lock of `once` (and of the migrations)
    # must go with the block: unlocked after it, or its session closed when it fails or is
    # cancelled.
    url = postgres.create_database(f"session_lock_{next(NAMES)}", template=MIGRATED)
    db = await PostgresDatabase.open(url, min_size=1, max_size=1)
    key = ONCE_LOCKS + 7
    inside = asyncio.Event()

    async def stopped_inside() -> None:
        async with db.once(7):
            inside.set()
            await asyncio.sleep(60)

    try:
        async with db.once(7):
            assert not await lock_is_free(url, key, tries=1), "the lock is held in the block"
        assert await lock_is_free(url, key), "kept after a block that ended"

        session = await db.fetchval("SELECT pg_backend_pid()")
        with pytest.raises(RuntimeError, match="the sync failed"):
            async with db.once(7):
                raise RuntimeError("the sync failed")
        assert await lock_is_free(url, key), "kept after a block that failed"
        assert await db.fetchval("SELECT pg_backend_pid()") != session, (
            "the connection of a failed block is closed, not given back with what it holds"
        )

        # Cancelled while waiting for another process's hold of the lock.
        other = await asyncpg.connect(url)
        try:
            await other.execute("SELECT pg_advisory_lock($1)", key)
            queued = asyncio.create_task(stopped_inside())
            await asyncio.sleep(0.3)
            assert not inside.is_set()
            queued.cancel()
            with pytest.raises(asyncio.CancelledError):
                await queued
            await other.execute("SELECT pg_advisory_unlock($1)", key)
        finally:
            await other.close()
        assert await lock_is_free(url, key), "kept after a wait that was cancelled"

        task = asyncio.create_task(stopped_inside())
        await inside.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await lock_is_free(url, key), "kept after a block that was cancelled"
        assert await db.fetchval("SELECT 1") == 1, "the pool still gives connections"
    finally:
        await db.close()


async def reactions_before_0036(postgres, rows: list[tuple[int, int, str, int]]) -> str:
    """A database at migration 0035 holding `rows` of reactions on prompts of server 5, their
    daily counts folded."""
    url = fresh(postgres)
    db = await PostgresDatabase.open(url, [m for m in migrations_in("postgresql") if m[0] <= 35])
    try:
        async with db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO tracked_messages (message_id, guild_id, channel_id, kind, created_at) "
                "VALUES (?, 5, 3, 'prompt', 0)",
                [(m,) for m in sorted({row[0] for row in rows})],
            )
            await tx.executemany("INSERT INTO reactions VALUES (?, ?, ?, ?)", rows)
        await db.write("SELECT reaction_days_fold()")
    finally:
        await db.close()
    return url


async def test_reactions_stored_before_their_rows_were_narrowed_read_the_same_after(postgres):
    day = 86400
    stored = [
        (11, 7, "🎬", 20_787 * day + 60),
        (11, 7, "projector:1234567890123456789", 20_787 * day + 90),
        (11, 8, "🎬", 19_700 * day),  # before 2024, the rows' new epoch
        (12, 9, "❤", 999 * day),
    ]
    url = await reactions_before_0036(postgres, stored)
    db = await PostgresDatabase.open_to_read(url)
    try:
        sizes = await db.fetchall("SELECT pg_column_size(r) FROM reactions r ORDER BY 1")
        assert [r[0] for r in sizes] == [56, 56, 56, 80]  # the custom emoji's longer name
    finally:
        await db.close()
    db = await PostgresDatabase.open(url)
    try:
        rows = await db.fetchall("SELECT * FROM reactions ORDER BY 1, 2, 4")
        assert [tuple(r) for r in rows] == sorted(stored, key=lambda r: (r[0], r[1], r[3]))
        # 24 bytes of header and 24 of values, whatever the emoji
        sizes = await db.fetchall("SELECT pg_column_size(r) FROM reaction_rows r")
        assert [r[0] for r in sizes] == [48] * 4
        assert await db.fetchval("SELECT count(*) FROM emoji_numbers") == 3

        # A batch removes one reaction and adds one of an emoji never seen; the counts follow.
        await db.write(
            "SELECT apply_reaction_batch(?, 0, ?::integer[], ?::bigint[], ?::bigint[], ?::text[], "
            "'{}'::bigint[], '{}'::text[], '{}'::bigint[], '{}'::text[], '{}'::text[])",
            (20_790 * day, [0, 1], [11, 12], [7, 7], ["🎬", "reel:42"]),
        )
        # A tool writing through the view, a row at a time: a time moved, a reaction deleted.
        async with db.transaction() as tx:
            moved = await tx.execute(
                "UPDATE reactions SET created_at = ? WHERE message_id = 11 AND user_id = 8",
                (19_701 * day,),
            )
            gone = await tx.execute("DELETE FROM reactions WHERE emoji = '❤'")
            again = await tx.execute(
                "INSERT INTO reactions VALUES (11, 7, 'projector:1234567890123456789', 0) "
                "ON CONFLICT DO NOTHING"
            )
        assert (moved, gone, again) == (1, 1, 0)
        await db.write("SELECT reaction_days_fold()")
        rows = await db.fetchall("SELECT * FROM reactions ORDER BY 1, 2, 4")
        assert [tuple(r) for r in rows] == [
            (11, 7, "projector:1234567890123456789", 20_787 * day + 90),
            (11, 8, "🎬", 19_701 * day),
            (12, 7, "reel:42", 20_790 * day),
        ]
        # An update in place moves no count, on the view as on the table before it.
        counts = await db.fetchall(
            "SELECT day, user_id, reactions FROM member_reaction_days ORDER BY 1, 2"
        )
        assert [tuple(r) for r in counts] == [(19_700, 8, 1), (20_787, 7, 1), (20_790, 7, 1)]
        numbers = await db.fetchall("SELECT key FROM emoji_numbers ORDER BY number")
        assert [r[0] for r in numbers] == ["projector:1234567890123456789", "❤", "🎬", "reel:42"]
    finally:
        await db.close()


async def test_two_processes_storing_a_new_emoji_at_once_number_it_once(postgres):
    url = fresh(postgres)
    db = await PostgresDatabase.open(url)
    other, watcher = await asyncpg.connect(url), await asyncpg.connect(url)
    batch = (
        "SELECT apply_reaction_batch({}, 0, '{{1}}'::integer[], '{{11}}'::bigint[], "
        "'{{{}}}'::bigint[], '{{reel:7}}'::text[], '{{}}'::bigint[], '{{}}'::text[], "
        "'{{}}'::bigint[], '{{}}'::text[], '{{}}'::text[])"
    )
    waiting = (
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query LIKE 'SELECT apply_reaction_batch(1800000001%'"
    )
    try:
        async with other.transaction():
            await other.execute(batch.format(1_800_000_000, 7))
            # The second process's batch waits on the first's new number, then uses it.
            second = asyncio.create_task(db.write(batch.format(1_800_000_001, 8)))
            for _ in range(100):
                if await watcher.fetchval(waiting):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the second batch never waited on the first")
        await second
        rows = await db.fetchall("SELECT user_id, emoji FROM reactions ORDER BY 1")
        assert [tuple(r) for r in rows] == [(7, "reel:7"), (8, "reel:7")]
    finally:
        await other.close()
        await watcher.close()
        await db.close()


async def test_reaction_times_the_narrower_rows_cannot_hold_stop_the_upgrade_with_the_fix(
    postgres,
):
    # 2100, and a time written in milliseconds
    url = await reactions_before_0036(
        postgres, [(11, 7, "🎬", 4_102_444_800), (12, 7, "🎬", 1_700_000_000_000)]
    )
    with pytest.raises(DatabaseUnavailable) as refused:
        await PostgresDatabase.open(url)
    assert "could not bring the database up to this release: 2 reactions have a time" in str(
        refused.value
    )
    assert "NOT BETWEEN -443416448 AND 3851550847" in str(refused.value)
    db = await PostgresDatabase.open_to_read(url)
    try:
        assert await db.user_version() == 35
        assert await db.fetchval("SELECT count(*) FROM reactions") == 2
    finally:
        await db.close()


async def test_what_a_server_built_on_the_reactions_is_named_and_its_grants_kept(postgres):
    url = await reactions_before_0036(postgres, [(11, 7, "🎬", 1_796_000_000)])
    server = await asyncpg.connect(url)
    try:
        await server.execute("CREATE ROLE dashboard_reader")
        await server.execute("GRANT SELECT ON reactions TO dashboard_reader")
        await server.execute("CREATE VIEW dashboard AS SELECT count(*) FROM reactions")
        with pytest.raises(DatabaseUnavailable) as refused:
            await PostgresDatabase.open(url)
        assert "view dashboard depends on table reactions" in str(refused.value)
        assert "drop what was built on the bot's tables" in str(refused.value)
        await server.execute("DROP VIEW dashboard")
        db = await PostgresDatabase.open(url)
        await db.close()
        readable = "SELECT has_table_privilege('dashboard_reader', 'reactions', 'SELECT')"
        assert await server.fetchval(readable)
        assert await server.fetchval("SELECT count(*) FROM reactions") == 1
    finally:
        await server.execute("DROP OWNED BY dashboard_reader")
        await server.execute("DROP ROLE dashboard_reader")
        await server.close()


async def test_a_post_edited_in_place_beside_a_fold_of_the_same_week_both_commit(postgres):
    """A quote's card edited to show another quote (its days and weeks moved, migration 0037's
    `reactions_shown_again`) while a fold takes a note of the same sealed week's row: the edit
    holds the quotes' lock (25037) as the fold asks for it. Both commit, without a deadlock."""
    today = 20_100
    old = today - 30  # a sealed week's day
    url = fresh(postgres)
    await (await PostgresDatabase.open(url)).close()
    setup = await asyncpg.connect(url)
    await setup.execute(
        "INSERT INTO tracked_messages (message_id, guild_id, channel_id, kind, quote_id, "
        "created_at) VALUES (1, 5, 1, 'quote', 41, 0), (3, 5, 1, 'quote', 43, 0), "
        "(4, 5, 1, 'quote', 41, 0)"
    )
    rows = []
    for user in range(1, 4):
        rows += [(1, user, "🎬", old * 86400 + 10), (1, user, "🔥", today * 86400 + 10)]
        rows.append((4, user, "🎬", (old + 1) * 86400 + 10))  # another card, the same week
    await setup.executemany("INSERT INTO reactions VALUES ($1, $2, $3, $4)", rows)
    await setup.execute("SELECT reaction_days_fold()")
    await setup.execute("SELECT reaction_weeks_seal(5, $1)", today // 7)
    # the fold's notes: a reaction taken back from the other card, one added to quote 43
    await setup.execute("DELETE FROM reactions WHERE message_id = 4 AND user_id = 1")
    await setup.execute("INSERT INTO reactions VALUES (3, 9, '🎬', $1)", today * 86400 + 20)

    edit, fold = await asyncpg.connect(url), await asyncpg.connect(url)
    # The quotes' lock held apart, so that the edit has written its rows and waits for it
    # first, then the fold has locked its own and waits too.
    await setup.execute("BEGIN; SELECT pg_advisory_xact_lock(25037)")

    async def edited() -> None:
        async with edit.transaction():
            await edit.execute("UPDATE tracked_messages SET quote_id = 42 WHERE message_id = 1")

    async def folded() -> None:
        async with fold.transaction():
            await fold.execute("SELECT reaction_days_fold()")

    async def waits(conn: asyncpg.Connection) -> None:
        """Until the connection's transaction waits for a lock."""
        for _ in range(200):
            if await setup.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted)",
                conn.get_server_pid(),
            ):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("it never waited")

    try:
        editing = asyncio.create_task(edited())
        await waits(edit)  # for the quotes' lock, its days and weeks written
        folding = asyncio.create_task(folded())
        await waits(fold)  # for a week's row the edit holds
        await setup.execute("COMMIT")
        await asyncio.wait_for(asyncio.gather(editing, folding), 30)
        weeks = await setup.fetch(
            "SELECT quote_id, reactions FROM reaction_weeks WHERE guild_id = 5 ORDER BY 1"
        )
        # quote 41 keeps its other card's two reactions of that week, 42 has the edited card's
        # three (its three of today are in no sealed week)
        assert [tuple(row) for row in weeks] == [(41, 2), (42, 3)]
        quoted = await setup.fetch(
            "SELECT quote_id, reactions FROM quote_reactions WHERE guild_id = 5 ORDER BY 1"
        )
        assert [tuple(row) for row in quoted] == [(41, 2), (42, 6), (43, 1)]
    finally:
        for conn in (setup, edit, fold):
            await conn.close()
