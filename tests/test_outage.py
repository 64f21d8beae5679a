"""A PostgreSQL server stopped and started again under a running bot: a server of the test's
own, since stopping the session's would stop every other test's."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot import Config
from bot.postgres import PostgresDatabase
from tests import postgres_server
from tests.cogs.test_dispatcher_faults import OUTAGE, RECOVERED, lines, numbers
from tests.cogs.test_film_posts import kickoffs_in
from tests.cogs.test_films import advance_to, prompts_in, start_week
from tests.conftest import SERA, TEST_HEARTBEAT


@pytest.fixture
def server():
    reason = postgres_server.unavailable()
    if reason:
        pytest.skip(f"PostgreSQL: {reason}")
    server = postgres_server.PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def config(tmp_path, essays_dir, server) -> Config:
    url = server.create_database("outage")
    return Config(
        database_url=url,
        database_path=tmp_path / "unused.db",
        essays_dir=essays_dir,
        heartbeat_seconds=TEST_HEARTBEAT,
    )


async def advance_through(env, when: datetime) -> None:
    """Move the clock in steps: while the server is down, each step waits for real connection
    attempts (the pool's and the dispatcher's), which the harness allows a few seconds each."""
    while env.now() < when:
        step = min(600.0, (when - env.now()).total_seconds() + 0.001)
        await env.advance_time(step)


async def stored_reactions(url: str, message_id: int) -> list[int]:
    db = await PostgresDatabase.open_to_read(url)
    try:
        rows = await db.fetchall(
            "SELECT user_id FROM reactions WHERE message_id = ?", (message_id,)
        )
    finally:
        await db.close()
    return [row[0] for row in rows]


@pytest.mark.simcord(settle_timeout=30)
async def test_a_prompt_due_while_the_server_is_down_is_posted_once_it_is_back(
    club, server, config, caplog
):
    env = club.env
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    thread = await start_week(club, essay=SERA)
    caplog.set_level(logging.INFO, logger="bot.timers")
    await advance_to(env, datetime(2026, 1, 5, 17, 55, tzinfo=UTC))
    server.pause()
    await advance_through(env, datetime(2026, 1, 5, 18, 30, tzinfo=UTC))  # 18:00 falls due
    assert prompts_in(thread) == []
    server.resume()
    await advance_through(env, datetime(2026, 1, 5, 18, 31, 1, tzinfo=UTC))  # the longest wait
    assert numbers(thread) == ["Prompt 1"]
    assert lines(caplog, OUTAGE) == 1 and lines(caplog, RECOVERED) == 1

    kickoff = kickoffs_in(club.general)[0]
    await club.alice.react(kickoff, "🎬")  # queued when the bot is told to stop
    bot = env.bot
    await bot.close()
    assert bot.is_closed()
    assert await stored_reactions(config.database_url, kickoff.id) == [club.alice.id]


@pytest.mark.simcord(settle_timeout=30)
async def test_the_bot_closes_while_the_server_is_down(club, server):
    env = club.env
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    await start_week(club, essay=SERA)
    await advance_to(env, datetime(2026, 1, 5, 17, 59, tzinfo=UTC))
    server.pause()
    await advance_through(env, datetime(2026, 1, 5, 18, 1, tzinfo=UTC))  # the dispatcher fails
    bot = env.bot
    await bot.close()
    assert bot.is_closed()
    server.resume()
