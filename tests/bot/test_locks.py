"""Writes wait only for writers of their own server, on PostgreSQL: a server whose writer is
stuck for seconds holds up no other server's writes and no reads; two processes writing to one
server at once still keep what each server allows (one running week, prompts numbered in turn,
three nominations a member)."""

from __future__ import annotations

import asyncio
import itertools
import time

import asyncpg
import pytest

from bot.config import Config
from bot.errors import UserError
from bot.locks import server_key
from bot.services import Services
from tests.conftest import MIGRATED, SERA

NOW = 1_767_225_600  # 2026-01-01T00:00Z
CLUB, OTHER = 1_456_074_443_980_800_008, 1_456_074_443_980_800_108  # two servers' ids
NUMBERS = itertools.count(1)


@pytest.fixture
async def cluster(postgres, essays_dir):
    """Two processes' services (each its own pool) on one fresh PostgreSQL database."""
    url = postgres.create_database(f"locks_{next(NUMBERS)}", template=MIGRATED)
    config = Config(database_url=url, essays_dir=essays_dir)
    started = [await Services.start(config, clock=lambda: NOW) for _ in range(2)]
    yield url, started
    for services in started:
        await services.close()


def test_server_keys_are_exact_and_in_range():
    ids = [CLUB, OTHER, 2**63 - 1, 2**32, 2**32 + 2**31, 175928847299117063]
    keys = [server_key(i) for i in ids]
    assert len(set(keys)) == len(ids)
    assert all(-(2**31) <= k < 2**31 for pair in keys for k in pair)
    assert [(hi << 32) | (lo & 0xFFFF_FFFF) for hi, lo in keys] == ids


async def test_a_stuck_writer_holds_up_no_other_server_and_no_reads(cluster):
    url, (bot, _) = cluster
    films = bot.films
    await films.set_moderator_role(CLUB, 1)
    # Another writer of the club (another process, a slow statement) holds its settings for
    # seconds: the club's own writes wait for it, as they must.
    other = await asyncpg.connect(url)
    stuck = other.transaction()
    await stuck.start()
    await other.execute("UPDATE guild_settings SET moderator_role_id = 2 WHERE guild_id = $1", CLUB)
    try:
        waiting = [asyncio.create_task(films.set_moderator_role(CLUB, 10 + n)) for n in range(12)]
        await asyncio.sleep(0.2)
        started = time.monotonic()

        async def read(n: int) -> float:
            await films.settings(OTHER)
            await bot.vote.open_nominations(CLUB)
            return time.monotonic() - started

        async def nominate(n: int) -> float:
            await bot.vote.nominate(OTHER, 100 + n, f"Film {n}", 1990 + n, NOW)
            return time.monotonic() - started

        reads = [asyncio.create_task(read(n)) for n in range(20)]
        writes = [asyncio.create_task(nominate(n)) for n in range(6)]
        done, _ = await asyncio.wait(reads + writes, timeout=3)
        assert all(task in done for task in reads), "20 reads answered within 3 seconds"
        assert all(task in done for task in writes), "another server's writes go through"
        assert not any(task.done() for task in waiting), "the club's writes wait their turn"
    finally:
        await stuck.rollback()
        await other.close()
    await asyncio.wait_for(asyncio.gather(*waiting), 10)
    assert len(await bot.vote.open_nominations(OTHER)) == 6


async def test_two_processes_writing_to_one_server_keep_its_rules(cluster):
    _, (first, second) = cluster
    starts = [
        services.films.start_week(
            guild_id=CLUB,
            title="Leaving Las Vegas",
            year=1995,
            essay_id=services.library.resolve_essay(CLUB, SERA).id,
            channel_id=7,
            started_by=1,
            started_at=NOW,
            ends_at=NOW + 7 * 86400,
        )
        for services in (first, second, first, second)
    ]
    results = await asyncio.gather(*starts, return_exceptions=True)
    started = [r for r in results if not isinstance(r, BaseException)]
    assert len(started) == 1 and all(isinstance(r, UserError) for r in results if r not in started)
    week, _ = started[0]

    owed = await asyncio.gather(
        *(s.films.owe_prompt(week.id, NOW + 60) for s in (first, second) * 3)
    )
    assert sorted(number for number, _ in owed) == [1, 2, 3, 4, 5, 6]

    nominations = await asyncio.gather(
        *(
            s.vote.nominate(CLUB, 42, f"Film {n}", 2000 + n, NOW)
            for n, s in enumerate((first, second) * 3)
        ),
        return_exceptions=True,
    )
    assert sum(not isinstance(n, BaseException) for n in nominations) == 3
    assert len(await first.vote.open_nominations(CLUB)) == 3
