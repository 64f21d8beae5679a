"""The timer dispatcher through database faults, on both backends: it keeps trying, posts what
fell due once the database is back, never loses a decision made with a claim, and the bot always
closes. A write to a week that ended meanwhile is refused."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg
import pytest

from bot.db import open_database
from bot.films.service import PROMPT, PROMPT_EVENT
from bot.interactions import now_epoch
from tests.cogs.test_film_posts import kickoffs_in, takes_in
from tests.cogs.test_films import advance_to, prompts_in, start_week
from tests.conftest import SERA
from tests.helpers import refusal

OUTAGE = "cannot use the database"
RECOVERED = "reached the database again"


def numbers(thread) -> list[str]:
    return [m.embeds[0].author.name.split(" ·")[0] for m in prompts_in(thread)]


def lines(caplog, text: str) -> int:
    return sum(text in record.getMessage() for record in caplog.records)


class Locked:
    """The database refusing every write transaction while `on` (a SQLite file another program
    holds locked, a server that does not answer): what the dispatcher claims with fails."""

    def __init__(self, db) -> None:
        self.on = False
        for name in ("transaction", "unlocked"):
            setattr(db, name, self._refusing(getattr(db, name)))

    def _refusing(self, real):
        @asynccontextmanager
        async def transaction(*server):
            if self.on:
                raise sqlite3.OperationalError("database is locked")
            async with real(*server) as tx:
                yield tx

        return transaction


async def a_week_before_its_first_prompt(club):
    await advance_to(club.env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    return await start_week(club, essay=SERA)


async def test_a_dispatcher_that_cannot_write_keeps_trying_and_posts_once_it_can(club, caplog):
    env = club.env
    thread = await a_week_before_its_first_prompt(club)
    locked = Locked(env.bot.db)
    locked.on = True
    caplog.set_level(logging.INFO, logger="bot.timers")
    await advance_to(env, datetime(2026, 1, 5, 19, tzinfo=UTC))  # 18:00 fell due an hour ago
    assert prompts_in(thread) == []
    locked.on = False
    await env.advance_time(61)  # the longest wait between two tries
    assert numbers(thread) == ["Prompt 1"]
    assert lines(caplog, OUTAGE) == 1 and lines(caplog, RECOVERED) == 1  # not one per try
    await advance_to(env, datetime(2026, 1, 6, 18, 1, tzinfo=UTC))
    assert numbers(thread) == ["Prompt 1", "Prompt 2"]


async def test_a_claim_undone_before_its_prompt_was_owed_leaves_the_prompt_owed_once(club):
    """The process dies after claiming the prompt's timer and booking the next one, before the
    prompt is owed: nothing of it commits, so the timer fires again."""
    env = club.env
    thread = await a_week_before_its_first_prompt(club)
    jobs = env.bot.jobs
    real_owe = jobs.owe
    killed = []

    async def dies_before_owing_a_prompt(tx, **job):
        if job["kind"] == PROMPT and not killed:
            killed.append(job)
            raise ConnectionResetError("the connection to the database was lost")
        return await real_owe(tx, **job)

    jobs.owe = dies_before_owing_a_prompt
    await advance_to(env, datetime(2026, 1, 5, 18, 1, tzinfo=UTC))
    assert killed
    assert numbers(thread) == ["Prompt 1"]
    booked = await env.bot.scheduler.pending(PROMPT_EVENT)
    assert [t.due_at for t in booked] == [int(datetime(2026, 1, 6, 18, tzinfo=UTC).timestamp())]


async def test_a_post_made_but_not_recorded_is_recorded_once_the_database_is_back(club):
    """The prompt is posted, then the database fails before the job is marked done: once it
    answers, the job finds its post rather than posting again."""
    env = club.env
    thread = await a_week_before_its_first_prompt(club)
    jobs = env.bot.jobs
    locked = Locked(env.bot.db)
    prompt = jobs.kinds[PROMPT]
    failed = []

    async def post_then_lose_the_database(job):
        result = await prompt.run(job)  # posted in Discord
        if not failed:  # then the database refuses the write that records it, once
            failed.append(job.id)
            locked.on = True
            asyncio.get_running_loop().call_later(60, setattr, locked, "on", False)  # back
        return result

    jobs.register(PROMPT, replace(prompt, run=post_then_lose_the_database))
    await advance_to(env, datetime(2026, 1, 5, 18, 2, tzinfo=UTC))
    assert failed
    assert numbers(thread) == ["Prompt 1"]
    job = await jobs.get(failed[0])
    assert job.done and job.result["message_id"] == prompts_in(thread)[0].id


async def test_the_bot_closes_and_keeps_its_reactions_while_the_dispatcher_cannot_write(
    club, config
):
    env = club.env
    await a_week_before_its_first_prompt(club)
    kickoff = kickoffs_in(club.general)[0]
    Locked(env.bot.db).on = True
    await advance_to(env, datetime(2026, 1, 5, 18, 1, tzinfo=UTC))  # the dispatcher fails
    bot = env.bot
    bot.recorder.max_delay = 60  # the tests' bots commit within 2 ms (tests/conftest.py)
    await club.alice.react(kickoff, "🎬")  # queued, not yet written
    written = "SELECT user_id FROM reactions WHERE message_id = ?"
    assert await bot.db.fetchall(written, (kickoff.id,)) == []
    await bot.close()
    assert bot.is_closed()  # discord.py's own close ran
    db = await open_database(config)
    try:
        rows = await db.fetchall(written, (kickoff.id,))
    finally:
        await db.close()
    assert [row[0] for row in rows] == [club.alice.id]


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_claim_cancelled_by_statement_timeout_is_tried_again(club, config, caplog):
    env = club.env
    thread = await a_week_before_its_first_prompt(club)
    holder = await asyncpg.connect(config.database_url)
    try:
        await holder.execute(
            "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET statement_timeout = 300', "
            "current_database()); END $$"
        )
        await env.bot.db._pool.expire_connections()  # its connections come back with it
        lock = holder.transaction()
        await lock.start()
        await holder.execute("LOCK TABLE timers IN ACCESS EXCLUSIVE MODE")
        caplog.set_level(logging.INFO, logger="bot.timers")
        await advance_to(env, datetime(2026, 1, 5, 18, 1, tzinfo=UTC))
        assert prompts_in(thread) == []
        assert lines(caplog, "QueryCanceledError") == 1
        await lock.rollback()
    finally:
        await holder.close()
    await env.advance_time(61)
    assert numbers(thread) == ["Prompt 1"]
    assert lines(caplog, OUTAGE) == 1 and lines(caplog, RECOVERED) == 1


WRITES = {
    "rating": (
        "films",
        "rate",
        lambda club: club.alice.slash(club.general, "film rate", stars=2, take="Bleak."),
    ),
    "prompt": (
        "films",
        "add_prompt",
        lambda club: club.mia.slash(club.general, "film prompt add", text="Why?"),
    ),
    "screening": (
        "screenings",
        "schedule",
        lambda club: club.mia.slash(
            club.general, "film screening set", when="tomorrow 20:00", where="the cinema"
        ),
    ),
}


@pytest.mark.parametrize("write", sorted(WRITES))
async def test_a_write_that_lands_just_after_the_week_ended_is_refused(club, write):
    """`/film end` commits between the command reading the running week and its write."""
    env = club.env
    thread = await start_week(club, year=1995)
    service, name, action = WRITES[write]
    target = getattr(env.bot, service)
    real = getattr(target, name)

    async def ended_meanwhile(*args, **kwargs):
        week_id = kwargs["week_id"] if "week_id" in kwargs else args[0]
        await env.bot.films.end_week(week_id, club.guild.id, now_epoch())
        return await real(*args, **kwargs)

    setattr(target, name, ended_meanwhile)
    answer = await action(club)
    assert "This week has ended" in refusal(env, answer)
    for table in ("viewings", "prompts", "screenings"):
        assert await env.bot.db.fetchall(f"SELECT 1 FROM {table}") == []
    await env.advance_time(60)
    assert takes_in(thread) == []
