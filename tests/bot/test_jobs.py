"""Owed posts as durable jobs, against a real database with a clock the test moves."""

from __future__ import annotations

import asyncio

import pytest

from bot.jobs import BACKOFF, GiveUp, Jobs, Kind, Retry
from bot.timers import Scheduler


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
async def jobs(db, clock):
    return Jobs(db, Scheduler(db, clock), clock)


async def owe(jobs: Jobs, **fields) -> int:
    async with jobs.transaction() as conn:
        return await jobs.owe(conn, guild_id=1, kind=fields.pop("kind", "post"), **fields)


async def test_a_job_runs_once_and_keeps_its_result(jobs):
    runs = []

    async def post(job):
        runs.append(job.id)
        await asyncio.sleep(0.01)
        return {"message_id": 42}

    jobs.register("post", Kind(post))
    job_id = await owe(jobs)
    first, second = await asyncio.gather(jobs.run(job_id), jobs.run(job_id))
    assert runs == [job_id]
    assert first.done and second.done and first.result == {"message_id": 42}
    assert (await jobs.run(job_id)).attempts == 1


async def test_discord_failing_is_retried_with_backoff_then_given_up(jobs, clock):

    async def post(job):
        raise Retry("Discord is not answering (HTTP 503)", uncertain=True)

    jobs.register("post", Kind(post, max_age=3600))
    job_id = await owe(jobs)
    job = await jobs.run(job_id)
    assert job.pending and job.attempts == 1 and job.uncertain
    assert job.due_at == clock.now + BACKOFF[0]
    assert job.last_error == "Discord is not answering (HTTP 503)"
    assert (await jobs.run(job_id)).attempts == 1  # not due yet: not claimed
    for _ in range(4):  # 15 s, 1 min, 5 min, 15 min; the next try would pass the hour
        clock.now = (await jobs.get(job_id)).due_at
        job = await jobs.run(job_id)
    assert job.given_up and job.attempts == 5
    assert job.last_error == "gave up after 5 tries: Discord is not answering (HTTP 503)"
    assert await jobs.outstanding(1) == [job]


async def test_a_refusal_is_given_up_at_once_and_releases_what_it_held(jobs):
    released = []

    async def post(job):
        raise GiveUp("I am not allowed to post there.")

    async def release(conn, job):
        released.append(job.id)

    jobs.register("post", Kind(post, given_up=release))
    job = await jobs.run(await owe(jobs))
    assert job.given_up and job.last_error == "I am not allowed to post there."
    assert released == [job.id]


async def test_owing_again_while_it_runs_runs_it_again_with_the_latest(jobs):
    seen = []
    started = asyncio.Event()
    proceed = asyncio.Event()

    async def post(job):
        seen.append(job.payload["take"])
        if len(seen) == 1:
            started.set()
            await proceed.wait()
        return {}

    jobs.register("post", Kind(post))
    job_id = await owe(jobs, key="take:1:2", payload={"take": "first"})
    running = asyncio.create_task(jobs.run(job_id))
    await started.wait()
    assert await owe(jobs, key="take:1:2", payload={"take": "second"}) == job_id
    proceed.set()
    await running
    assert not (await jobs.get(job_id)).done  # owed again: not finished by the first run
    assert (await jobs.run(job_id)).done
    assert seen == ["first", "second"]


async def test_a_job_claimed_when_the_process_died_is_released_as_uncertain(jobs, db, clock):
    posting, never = asyncio.Event(), asyncio.Event()

    async def post(job):
        posting.set()
        await never.wait()  # the process dies here, mid-post

    jobs.register("post", Kind(post))
    job_id = await owe(jobs)
    running = asyncio.create_task(jobs.run(job_id))
    await posting.wait()
    assert (await jobs.get(job_id)).claimed_at is not None
    restarted = Jobs(db, Scheduler(db, clock), clock)  # the process that starts in its place
    assert await restarted.recover() == 1
    job = await restarted.get(job_id)
    assert job.pending and job.claimed_at is None and job.uncertain
    running.cancel()
