"""What the bot no longer needs, deleted on a schedule so that tables stay the size of what is
current: posts done a while ago, timers fired a while ago, processes that stopped beating long
ago. What moderators see stays: weeks (`/film history`), owed posts and the ones given up that
nothing made good since (`/film now`). Nothing here talks to Discord."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.cluster import MISSED_BEATS
from bot.db import Database

log = logging.getLogger(__name__)

PRUNE_EVERY = (
    7 * 86400
)  # seconds between two prunes of a process (the dispatcher wakes weekly anyway)
KEEP_DONE = 7 * 86400  # a done job or a fired timer is kept this long (for an operator to look)
KEEP_STOPPED = 7 * 86400  # a stopped process silent this long leaves `status`


async def prune(db: Database, now: int, owned: str = "") -> dict[str, int]:
    """Delete, among this process's servers' rows (`owned`, bot/shards.py): given-up jobs that a
    later one made good (never shown again), done jobs and fired timers older than KEEP_DONE;
    and processes silent for KEEP_STOPPED that have stopped (missed their beats, bot/cluster.py).
    Returns how many rows went, per table."""
    before = now - KEEP_DONE
    async with db.transaction() as tx:
        made_good = await tx.execute(
            "DELETE FROM jobs WHERE given_up_at IS NOT NULL" + owned + " AND EXISTS ("
            "SELECT 1 FROM jobs k WHERE k.guild_id = jobs.guild_id AND k.kind = jobs.kind "
            "AND k.week_id IS NOT DISTINCT FROM jobs.week_id "
            "AND k.key IS NOT DISTINCT FROM jobs.key AND k.done_at > jobs.given_up_at)"
        )
        done = await tx.execute(
            "DELETE FROM jobs WHERE done_at IS NOT NULL AND done_at < ?" + owned, (before,)
        )
        timers = await tx.execute(
            "DELETE FROM timers WHERE claimed_at IS NOT NULL AND claimed_at < ?" + owned,
            (before,),
        )
        processes = await tx.execute(
            "DELETE FROM processes WHERE beat_at < ? AND beat_at < ? - ? * beat_every",
            (now - KEEP_STOPPED, now, MISSED_BEATS),
        )
    counts = {"jobs": made_good + done, "timers": timers, "processes": processes}
    if any(counts.values()):
        log.info(
            "Pruned %d finished jobs, %d fired timers, %d stopped processes",
            counts["jobs"],
            counts["timers"],
            counts["processes"],
        )
    return counts


def pruning(db: Database, clock: Callable[[], float], owned: str) -> Callable[[], Awaitable[None]]:
    """The prune as a chore for the dispatcher (bot/timers.py `every`)."""

    async def chore() -> None:
        await prune(db, int(clock()), owned)

    return chore
