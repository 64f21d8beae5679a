"""Moving a club from its SQLite file to PostgreSQL, and the database commands on PostgreSQL, as
a host runs them."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from bot.db import migrations_in
from bot.ops import schema_tables
from bot.postgres import PostgresDatabase
from bot.sqlite import SqliteDatabase
from tests.cogs.test_films import end_week, start_week
from tests.conftest import SERA
from tests.test_cli import cli, save_a_quote


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_club_moves_to_postgresql_with_every_row_and_carries_on(
    club, make_bot, postgres, config, tmp_path
):
    env = club.env
    thread = await start_week(club, title="Leaving Las Vegas", year=1995, essay=SERA)
    await club.alice.slash(club.general, "film rate", stars=5, take="Shue is devastating.")
    said = await club.bob.send(club.general, "The neon never sleeps.")
    await club.alice.context_menu(club.general, "Save as quote", said)
    card = (await club.alice.slash(club.general, "quote show", number=1)).response.message
    await club.bob.react(card, "🔥")
    # a second quote whose one reaction was taken back: its row stays at zero on SQLite
    said_again = await club.bob.send(club.general, "Nobody asks Sera why.")
    await club.alice.context_menu(club.general, "Save as quote", said_again)
    other = (await club.alice.slash(club.general, "quote show", number=2)).response.message
    await club.alice.react(other, "🔥")
    await env.bot.recorder.flush()
    await club.alice.unreact(other, "🔥")
    await club.mia.slash(club.general, "film prompt now")
    prompt = thread.history()[-1]
    await club.alice.react(prompt, "🎬")
    await club.bob.react(prompt, "🔥")
    await end_week(club)
    await club.bob.slash(club.general, "diary log", film="Heat (1995)", rating=4)
    await club.alice.slash(club.general, "diary log", film="Heat (1995)", rating=1)
    await club.alice.slash(club.general, "watchlist add", film="Rope", year=1948)
    await env.bot.recorder.flush()
    stored = "SELECT message_id, user_id, emoji, created_at FROM reactions ORDER BY 1, 2, 3"
    reactions = [tuple(row) for row in await env.bot.db.fetchall(stored)]
    kept = await env.bot.db.fetchall("SELECT reactions FROM quote_reactions ORDER BY quote_id")
    assert [row[0] for row in kept] == [1, 0]
    quoted = "SELECT * FROM quote_reactions WHERE reactions <> 0"
    quote_rows = [tuple(row) for row in await env.bot.db.fetchall(quoted)]
    await env.bot.close()

    target = postgres.create_database("club")
    moved = cli(
        "db",
        "port",
        "--to",
        target,
        cwd=tmp_path,
        env_extra={
            "DATABASE_PATH": str(config.database_path),
            "ESSAYS_DIR": str(config.essays_dir),
        },
    )
    assert moved.returncode == 0, moved.stderr
    lines = moved.stdout.splitlines()
    assert "reactions: 3 rows" in lines and "quotes: 2 rows" in lines and "weeks: 1 row" in lines
    # the week's rating and the two of Heat, made again from the viewings on the other side
    assert "latest_ratings: 3 rows" in lines and "film_ratings: 2 rows" in lines
    assert "film_wants: 1 row" in lines  # alice's Rope, counted there
    # the prompt's two reactions and the card's, counted again there: two posts on one day, two
    # members; the quote's row made again with them (the row at zero is not, nor compared)
    assert "reaction_days: 2 rows" in lines and "member_reaction_days: 2 rows" in lines
    assert "quote_reactions: 1 row" in lines
    assert lines[-1].startswith("Copied ") and lines[-1].endswith("every row count matches.")

    again = cli(
        "db",
        "port",
        "--to",
        target,
        cwd=tmp_path,
        env_extra={"DATABASE_PATH": str(config.database_path)},
    )
    assert again.returncode == 1 and "already holds data" in again.stderr

    on_postgres = dataclasses.replace(config, database_url=target)
    await env.restart_bot(make_bot(on_postgres))
    assert env.bot.db.backend == "postgresql"
    # each reaction as it was, its emoji and time read back through PostgreSQL's view
    assert [tuple(row) for row in await env.bot.db.fetchall(stored)] == reactions
    assert {r[2] for r in reactions} == {"🎬", "🔥"}
    assert [tuple(row) for row in await env.bot.db.fetchall("SELECT * FROM quote_reactions")] == (
        quote_rows
    )
    history = await club.alice.slash(club.general, "film history")
    assert "**Leaving Las Vegas (1995)**" in history.response.embeds[0].description
    quote = await club.alice.slash(club.general, "quote random")
    shown = quote.response.embeds[0].description
    assert "The neon never sleeps." in shown or "Nobody asks Sera why." in shown
    found = await club.alice.slash(club.general, "quote search", query="neon")
    assert "The neon never sleeps." in str(found.response.embeds[0].to_dict())
    started = await club.mia.slash(club.general, "film start", title="Heat")
    assert started.response.content.startswith("Started **Heat**")
    number = await env.bot.db.fetchval("SELECT max(id) FROM weeks")
    assert number == 2, "ids go on after the ones copied"
    heat = (
        "SELECT raters, total, differences FROM film_ratings r "
        "JOIN films f ON f.id = r.film_id WHERE f.title = 'Heat'"
    )
    assert tuple(await env.bot.db.fetchone(heat)) == (2, 10, 6)  # ★★★★ and ★, in half stars
    await club.alice.slash(club.general, "diary log", film="Heat (1995)", rating=2)
    assert tuple(await env.bot.db.fetchone(heat)) == (2, 12, 4), "the triggers run again"
    await club.bob.slash(club.general, "watchlist add", film="Rope", year=1948)
    wanted = await club.mia.slash(club.general, "watchlist club")
    assert wanted.response.embeds[0].description == (
        f"1. **Rope (1948)** — 2 members: <@{club.alice.id}>, <@{club.bob.id}>"
    )
    await club.mia.react(prompt, "👍")
    await club.mia.react(card, "👍")
    await env.bot.recorder.flush()
    assert await env.bot.db.fetchval("SELECT sum(reactions) FROM reaction_days") == 5
    top = await club.alice.slash(club.general, "quote top")
    assert "2 reactions" in top.response.embeds[0].description  # the quote's row followed


def test_database_commands_on_postgresql(postgres, tmp_path):
    url = postgres.create_database("commands").replace("postgres@", "postgres:s3cret@")
    env = {"DATABASE_URL": url}
    empty = cli("db", "check", cwd=tmp_path, env_extra=env)
    assert empty.returncode == 0, empty.stderr
    latest = migrations_in("postgresql")[-1][0]
    assert f"schema version: 0 (this release knows up to {latest})" in empty.stdout
    assert "the next start will apply the newer migrations" in empty.stdout
    save_a_quote(lambda: PostgresDatabase.open(url))
    checked = cli("db", "check", cwd=tmp_path, env_extra=env)
    assert checked.returncode == 0, checked.stderr
    tables = len(schema_tables())
    assert (
        f"version: {latest} (this release knows up to {latest})\ntables: {tables} of {tables}"
        in (checked.stdout)
    )
    assert "s3cret" not in checked.stdout and "postgres:***@" in checked.stdout
    exported = cli("export", "--member", "7", cwd=tmp_path, env_extra=env)
    assert exported.returncode == 0 and '"text": "Hello there"' in exported.stdout
    backup = cli("db", "backup", str(tmp_path / "x"), cwd=tmp_path, env_extra=env)
    assert backup.returncode == 1
    assert "pg_dump --format=custom" in backup.stderr and "s3cret" not in backup.stderr


def test_a_reaction_time_postgresql_cannot_keep_stops_the_move_saying_which(postgres, tmp_path):
    path = tmp_path / "club.db"

    async def react() -> None:
        db = await SqliteDatabase.open(path)
        async with db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO reactions VALUES (?, ?, '🎬', ?)",
                [(11, 7, 1_796_000_000), (12, 7, 1_796_000_000_000)],  # the second in ms
            )
        await db.close()

    asyncio.run(react())
    target = postgres.create_database("held_times")
    moved = cli("db", "port", "--to", target, cwd=tmp_path, env_extra={"DATABASE_PATH": str(path)})
    assert moved.returncode == 1
    assert "Reactions with a time PostgreSQL cannot keep: 1 (created_at" in moved.stderr
    assert "NOT BETWEEN -443416448 AND 3851550847" in moved.stderr

    async def copied() -> int:
        db = await PostgresDatabase.open(target)
        try:
            return await db.fetchval("SELECT count(*) FROM reactions")
        finally:
            await db.close()

    assert asyncio.run(copied()) == 0
