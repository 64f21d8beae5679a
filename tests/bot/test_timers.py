"""The dispatcher's rounds against a real database, with a clock the test moves."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.timers import HANDLER_TRIES, Scheduler

NOW = 1_000_000


async def test_a_handler_that_always_fails_on_the_database_gives_way_to_the_timers_after(db):
    scheduler = Scheduler(db, clock=lambda: NOW)
    fired = []

    async def broken(tx, timer):
        await tx.execute("UPDATE timers SET due_at = due_at WHERE id = ?", (timer.id,))
        raise sqlite3.OperationalError("no such column: payload_v2")

    async def fine(tx, timer):
        fired.append(timer.payload["n"])

    scheduler.register("broken", broken)
    scheduler.register("fine", fine)
    await scheduler.create(NOW - 2, "broken", {"n": 0})
    await scheduler.create(NOW - 1, "fine", {"n": 1})
    for _ in range(HANDLER_TRIES - 1):  # each try is an outage to wait out: nothing is dropped
        with pytest.raises(sqlite3.OperationalError):
            await scheduler.run_one()
        assert fired == [] and len(await scheduler.pending("broken")) == 1
    assert await scheduler.run_due() == 2  # the last try drops it; the next timer runs
    assert fired == [1] and await scheduler.pending("broken") == []


async def test_the_wait_between_tries_doubles_to_a_minute_and_stays_there_however_long(db):
    scheduler = Scheduler(db, clock=lambda: NOW)
    error = sqlite3.OperationalError("unable to open database file")
    waits = [scheduler._failed(error) for _ in range(2000)]  # a day and more of an outage
    assert waits[:7] == [1, 2, 4, 8, 16, 32, 60] and set(waits[6:]) == {60}


async def test_servers_due_at_once_run_side_by_side_each_in_its_own_order(db):
    """Forty servers with three timers each, all due: their posts (each taking a tenth of a
    second, as Discord's answers do) run eight servers at a time, and each server's in the
    order its timers fell due."""
    scheduler = Scheduler(db, clock=lambda: NOW, concurrency=8)
    posted: list[tuple[int, int]] = []
    running = peak = 0

    async def post(tx, timer):
        async def after(committed: bool) -> None:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.1)
            posted.append((timer.payload["server"], timer.payload["n"]))
            running -= 1

        return after

    scheduler.register("post", post)
    servers = [(1 + s) << 32 for s in range(40)]
    for n in range(3):
        for server in servers:
            await scheduler.create(NOW - 10 + n, "post", {"server": server, "n": n}, server)
    assert await scheduler.run_due() == 120
    assert peak == 8, "eight servers at a time (one after another: one), never more"
    for server in servers:
        assert [n for s, n in posted if s == server] == [0, 1, 2]
