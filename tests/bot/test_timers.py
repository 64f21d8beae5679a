"""The dispatcher's rounds against a real database, with a clock the test moves."""

from __future__ import annotations

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
