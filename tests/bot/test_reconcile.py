"""The reconciliation's claims and progress on the database, both backends: two processes never
reconcile the same server at once, and `status` shows a reconciliation under way."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from bot import ops
from bot.cluster import Cluster
from bot.reactions.reconcile import Reconciliation

DAY0 = 1_770_000_000
GUILD = 1 << 22


async def planned_and_read(work: Reconciliation) -> None:
    """A plan of one post, compared with Discord and finished."""
    assert await work.plan() == 1
    for post in await work.next_posts():
        work.done(post.message_id, 1)
    await work.save()
    await work.finish()


async def some_posts(db, count: int, at: int) -> None:
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO tracked_messages (message_id, guild_id, channel_id, kind, created_at) "
            "VALUES (?, ?, ?, 'section', ?)",
            [(1000 + n, GUILD, 5, at + n) for n in range(count)],
        )


async def test_two_processes_never_reconcile_one_server_at_once(db, config):
    config = replace(config, heartbeat_seconds=30)
    now = [DAY0]
    await some_posts(db, 3, DAY0 - 100)
    first = Reconciliation(db, config, clock=lambda: now[0], name="a")
    second = Reconciliation(db, config, clock=lambda: now[0], name="b")
    assert await first.plan() == 3
    assert await second.plan() == 0 and await second.next_posts() == []
    assert [p.message_id for p in await first.next_posts()] == [1002, 1001, 1000]
    # The claim holds while its owner beats; it lapses MISSED_BEATS heartbeats after the last.
    now[0] += 2 * config.heartbeat_seconds
    async with db.transaction() as tx:
        await first.beat(tx)
    now[0] += 2 * config.heartbeat_seconds
    assert await second.plan() == 0
    now[0] += 2 * config.heartbeat_seconds
    assert await second.plan() == 3, "the first stopped beating: its queue is the second's"
    assert await first.plan() == 0


async def test_a_heartbeat_before_the_first_plan_keeps_the_gap_it_measures(db, config):
    # A post last alive a day before the bot went away, three days ago: after a gap of three
    # days it is checked (a post quiet for up to 30 times the gap is).
    await some_posts(db, 1, DAY0 - 4 * 86400)
    now = [DAY0 - 3 * 86400]
    await planned_and_read(Reconciliation(db, config, clock=lambda: now[0], name="before"))
    now[0] = DAY0
    # The next start's first heartbeat lands between its hook and its plan.
    after = Reconciliation(db, config, clock=lambda: now[0], name="after")
    async with db.transaction() as tx:
        await after.beat(tx)
    assert await after.plan() == 1, "the gap is three days, not the moment of the beat"
    async with db.transaction() as tx:
        await after.beat(tx)
    assert await db.fetchval("SELECT seen_at FROM reconcile_servers") == DAY0


async def test_a_lost_gateway_session_is_planned_from_before_it_dropped(db, config):
    await some_posts(db, 1, DAY0 - 86400)  # alive a day before
    now = [DAY0]
    work = Reconciliation(db, config, clock=lambda: now[0], name="here")
    await planned_and_read(work)

    async def beat_at(at: int) -> int:
        now[0] = at
        async with db.transaction() as tx:
            await work.beat(tx)
        return await db.fetchval("SELECT seen_at FROM reconcile_servers")

    assert await beat_at(DAY0 + 30) == DAY0 + 30
    work.dropped(None)  # a resumed session lost nothing: beats go on
    work.resumed(None)
    assert await beat_at(DAY0 + 60) == DAY0 + 60
    work.dropped(None)  # two days without the gateway: beats leave the moment alone
    assert await beat_at(DAY0 + 86400) == DAY0 + 60
    work.ready_again(None)  # a new session: still, until it is planned
    assert await beat_at(DAY0 + 2 * 86400) == DAY0 + 60
    assert work.missed
    # Measured from before the drop, the gap is two days: the post quiet for a day before it
    # is read (after a gap of a minute it would not be).
    assert await work.plan() == 1
    assert not work.missed and work.following
    assert await beat_at(DAY0 + 2 * 86400 + 30) == DAY0 + 2 * 86400 + 30
    # A session lost while a plan runs is for the next plan.
    planning = asyncio.create_task(work.plan())
    await asyncio.sleep(0)
    work.dropped(None)
    work.ready_again(None)
    await planning
    assert work.missed and not work.following


async def test_a_clean_stop_releases_the_claim_and_status_shows_progress(db, config):
    now = [DAY0]
    await some_posts(db, 4, DAY0 - 2 * 86400)  # quiet for two days
    named = replace(config, process_name="north")
    work = Reconciliation(db, named, clock=lambda: now[0], name="north")
    cluster = Cluster(db, named, clock=time.time)
    await cluster.beat()
    assert await work.plan() == 4
    for post in (await work.next_posts())[:3]:
        work.done(post.message_id, 2)
    await work.save()
    _, lines = await ops.status(named)
    assert (
        "  reconciling reactions after downtime: 3 of 4 posts compared with Discord, 6 calls"
        in ("\n".join(lines))
    )
    await work.stopped()
    other = Reconciliation(db, config, clock=lambda: now[0], name="south")
    assert await other.plan() == 1, "what was left, and nothing of a gap of no length"


async def test_two_processes_planning_at_once_take_each_server_once(db, config):
    await some_posts(db, 3, DAY0 - 100)
    async with db.transaction() as tx:  # the server known from an earlier run, unclaimed
        await tx.execute("INSERT INTO reconcile_servers (guild_id) VALUES (?)", (GUILD,))
    for _ in range(5):
        works = [Reconciliation(db, config, clock=lambda: DAY0, name=name) for name in ("a", "b")]
        planned = await asyncio.gather(*(work.plan() for work in works))
        assert sorted(planned) == [0, 3], planned
        for work in works:
            await work.stopped()
        async with db.transaction() as tx:
            await tx.execute("UPDATE reconcile_servers SET seen_at = NULL")
