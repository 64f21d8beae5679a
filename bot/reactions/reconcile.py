"""Reconciling reactions after downtime, in proportion to it. Nothing here talks to Discord: the
cog reads each post (bot/../cogs/reactions.py) and this module decides which posts, in which
order, at what pace, and keeps the progress in the database.

How it decides. Each server remembers when a process last followed its events live (`seen_at`:
the last heartbeat of the process that minded it, or the moment it stopped cleanly). A process
that starts claims its servers and plans the gap since then, of length D:

- A post's last sign of life is the later of when it was posted and its newest stored reaction.
  A post quiet for Q seconds before the gap would have to wake during it, which is about D / Q
  likely: it is queued when Q <= REACH_FACTOR * D (and always when Q <= MIN_REACH). So ten
  seconds down queues the posts alive in the last quarter of an hour; ten minutes, those of the
  last five hours; a day, those of the last month (all of the window). Posts with no sign of life
  for longer are not checked.
- The running weeks' kickoffs, prompts and takes matter most: they reach WEEK_FACTOR times as
  far and come first; the rest come most recently alive first.
- A server never seen (a database from before this release) is planned in full, in that order.

The queue is a table: what is done is deleted, so a process restarted mid-way goes on where it
was, and the posts of a new gap are added to what remains. A server is reconciled by the
process that claimed it; the claim lapses MISSED_BEATS heartbeats after its owner's last (or
at once when the owner left cleanly, or was a process of this host that no longer exists).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.cluster import MISSED_BEATS
from bot.config import Config
from bot.db import Database, Tx
from bot.metrics import DISCARD, Metrics
from bot.reactions.recorder import LoopTime, ReactionRecorder
from bot.shards import owned_sql

log = logging.getLogger(__name__)

MIN_REACH = 15 * 60  # a post alive this recently before the gap is always checked
REACH_FACTOR = 30  # ... and one quiet for up to this many times the gap's length
WEEK_FACTOR = 8  # the running weeks' posts reach this many times as far
WEEK_RANK = 10**11  # added to the rank of the running weeks' posts (epoch seconds are below)
RUNNING_KINDS = ("week", "prompt", "take")
YIELD_STEP = 0.05  # seconds between looks while the bot's own posts are under way
BATCH = 10  # posts compared between two saves of the progress


def reach(gap: float) -> int:
    """How long a post may have been quiet before a gap of `gap` seconds and still be checked."""
    return int(max(MIN_REACH, REACH_FACTOR * gap))


@dataclass(frozen=True)
class Post:
    message_id: int
    guild_id: int
    channel_id: int
    posted_at: int


def gone(owner: str, here: str | None = None) -> bool:
    """Whether a claim's owner, named host:pid, was a process of this host that has ended."""
    host, _, pid = owner.rpartition(":")
    if host != (here or socket.gethostname()) or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # another user's process: it exists
        return False
    return False


class Pace:
    """At most `rate` Discord calls a second, and none while the bot's own posts (owed jobs) are
    under way: reconciliation takes a set share of the request budget and gives way."""

    def __init__(
        self, rate: float, timing: LoopTime | None = None, busy: Callable[[], bool] = bool
    ) -> None:
        self.rate = rate
        self.timing = timing or LoopTime()
        self.busy = busy
        self.calls = 0
        self._next = 0.0

    async def take(self) -> None:
        """Wait for the turn of one call."""
        while self.busy():
            await self.timing.sleep(YIELD_STEP)
        now = self.timing.monotonic()
        if self._next > now:
            await self.timing.sleep(self._next - now)
            now = self.timing.monotonic()
        self._next = max(self._next, now) + 1 / self.rate
        self.calls += 1


class Reconciliation:
    """The servers this process reconciles, the queue of their posts and the progress."""

    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Callable[[], float],
        name: str,
        metrics: Metrics = DISCARD,
    ) -> None:
        self.db = db
        self.metrics = metrics  # posts and calls as they go (bot/metrics.py)
        self.config = config
        self.clock = clock  # the bot's clock (discord.utils.utcnow)
        self.name = name
        self.owned = owned_sql(config)
        self.planned_once = False  # after a plan, this process follows its servers live
        # ... except while a gateway connection is down (its shard, or None unsharded), and
        # after one came back with a new session (events in between are lost) until a new plan.
        self.down: set[int | None] = set()
        self._sessions = 0  # connections come back with a new session, counted
        self._sessions_planned = 0  # ... as many as there were when the last plan began
        self._done: list[int] = []
        self._posts = 0
        self._calls = 0

    def _now(self) -> int:
        return int(self.clock())

    @property
    def missed(self) -> bool:
        """Whether a connection came back with a new session since the last plan began."""
        return self._sessions != self._sessions_planned

    @property
    def following(self) -> bool:
        """Whether every event of this process's servers has reached it since the last plan:
        only then do heartbeats and a clean stop mark the servers as followed now."""
        return self.planned_once and not self.down and not self.missed

    def dropped(self, shard: int | None) -> None:
        """A gateway connection dropped: its events wait for a resume, or are lost."""
        self.down.add(shard)

    def resumed(self, shard: int | None) -> None:
        """The connection resumed its session: Discord replayed what it had missed."""
        self.down.discard(shard)

    def ready_again(self, shard: int | None) -> None:
        """The connection came back with a new session: what happened while it was down is
        for the next plan to read, measured from the last moment followed."""
        self.down.discard(shard)
        self._sessions += 1

    def _since(self) -> int:
        return self._now() - self.config.reconcile_days * 86400

    def _lease(self) -> int:
        return self._now() + MISSED_BEATS * self.config.heartbeat_seconds

    async def plan(self) -> int:
        """Claim this process's servers that nobody else reconciles, queue the posts that could
        have changed since each was last followed, and note that they are followed from now.
        Returns how many posts wait (of the claimed servers, older gaps' included)."""
        now, since, sessions = self._now(), self._since(), self._sessions
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO reconcile_servers (guild_id) SELECT DISTINCT guild_id "
                "FROM tracked_messages WHERE guild_id IS NOT NULL AND deleted_at IS NULL "
                f"AND created_at >= ?{self.owned} ON CONFLICT (guild_id) DO NOTHING",
                (since,),
            )
            rows = await tx.fetchall(
                "SELECT guild_id, seen_at, owner, owner_until FROM reconcile_servers "
                f"WHERE guild_id IS NOT NULL{self.owned}"
            )
            claims = []
            for row in rows:
                owner = row["owner"]
                free = (
                    owner is None
                    or owner == self.name
                    or (row["owner_until"] or 0) < now
                    or gone(owner)
                )
                if not free:
                    continue
                seen = row["seen_at"]
                if seen is None:
                    after = week_after = 0  # never seen: everything in the window
                else:
                    gap = max(0, now - seen)
                    after = seen - reach(gap)
                    week_after = seen - WEEK_FACTOR * reach(gap)
                claims.append((self.name, self._lease(), after, week_after, row["guild_id"], owner))
            if claims:
                # A claim holds only if the owner is still the one read: two processes planning
                # at once (no lock is shared between servers) never both take a server.
                await tx.executemany(
                    "UPDATE reconcile_servers SET owner = ?, owner_until = ?, plan_after = ?, "
                    "week_after = ? WHERE guild_id = ? AND owner IS NOT DISTINCT FROM ?",
                    claims,
                )
                await self._queue(tx, since)
            # From now on this process follows its servers live (a claim held elsewhere too),
            # unless a connection is down: the plan after it comes back measures from before.
            if not self.down:
                await self._followed(tx, now)
            waiting = await self._waiting(tx)
            await tx.execute(
                "INSERT INTO reconcile_runs (process, started_at, planned, posts, calls, "
                "updated_at) VALUES (?, ?, ?, 0, 0, ?) ON CONFLICT (process) DO UPDATE SET "
                "planned = reconcile_runs.posts + excluded.planned, updated_at = excluded.updated_at",
                (self.name, now, waiting, now),
            )
            # Progress rows of processes that hold no claim any more.
            await tx.execute(
                "DELETE FROM reconcile_runs WHERE process <> ? AND process NOT IN "
                "(SELECT owner FROM reconcile_servers WHERE owner IS NOT NULL)",
                (self.name,),
            )
        self.planned_once = True
        self._sessions_planned = sessions  # a session lost meanwhile waits for the next plan
        self.metrics.reconcile_left(waiting)
        run = await self.db.fetchone(
            "SELECT posts, calls FROM reconcile_runs WHERE process = ?", (self.name,)
        )
        self._posts, self._calls = (run["posts"], run["calls"]) if run else (0, 0)
        return waiting

    async def _queue(self, tx: Tx, since: int) -> None:
        """Queue the claimed servers' posts alive since their `plan_after` (the running weeks'
        since `week_after`), ranked by their last sign of life, running weeks' first. A post
        already queued keeps the higher rank."""
        kinds = ", ".join(f"'{kind}'" for kind in RUNNING_KINDS)
        await tx.execute(
            "INSERT INTO reconcile_queue (message_id, guild_id, channel_id, posted_at, rank) "
            "SELECT message_id, guild_id, channel_id, created_at, "
            "CASE WHEN running THEN life + ? ELSE life END FROM ("
            " SELECT p.*, CASE WHEN last_reaction > created_at THEN last_reaction "
            "  ELSE created_at END AS life FROM ("
            "  SELECT t.message_id, t.guild_id, t.channel_id, t.created_at, "
            "   s.plan_after, s.week_after, "
            f"   (t.kind IN ({kinds}) AND w.id IS NOT NULL) AS running, "
            "   COALESCE((SELECT max(r.created_at) FROM reactions r "
            "    WHERE r.message_id = t.message_id), 0) AS last_reaction "
            "  FROM tracked_messages t "
            "  JOIN reconcile_servers s ON s.guild_id = t.guild_id AND s.owner = ? "
            "   AND s.plan_after IS NOT NULL "
            "  LEFT JOIN weeks w ON w.id = t.week_id AND w.ended_at IS NULL "
            "  WHERE t.deleted_at IS NULL AND t.created_at >= ?"
            " ) p"
            ") q WHERE life >= plan_after OR (running AND life >= week_after) "
            "ON CONFLICT (message_id) DO UPDATE SET rank = CASE "
            "WHEN excluded.rank > reconcile_queue.rank THEN excluded.rank "
            "ELSE reconcile_queue.rank END",
            (WEEK_RANK, self.name, since),
        )
        await tx.execute(
            "UPDATE reconcile_servers SET plan_after = NULL, week_after = NULL WHERE owner = ?",
            (self.name,),
        )

    async def _waiting(self, tx: Tx) -> int:
        return int(
            await tx.fetchval(
                "SELECT count(*) FROM reconcile_queue q JOIN reconcile_servers s "
                "ON s.guild_id = q.guild_id WHERE s.owner = ? AND q.posted_at >= ?",
                (self.name, self._since()),
            )
            or 0
        )

    async def run(
        self,
        recorder: ReactionRecorder,
        observe: Callable[[int, int], Awaitable[set[tuple[int, str]] | None]],
        pace: Pace,
    ) -> tuple[int, int, int, int]:
        """Compare the planned posts with what `observe` reads from Discord (None: the post is
        gone or unreadable), most alive first, saving the progress after each batch; then
        release the claims. Live events that arrive while a post is compared win over what was
        read before them. Returns (posts, calls, added, removed), restarts' posts included."""
        added = removed = 0
        recorder.watch = {}
        try:
            await recorder.flush()  # the stored state read below includes every event
            while posts := await self.next_posts():
                forgotten = await recorder.forgotten()
                for post in posts:
                    calls = pace.calls
                    recorder.watch[post.message_id] = set()
                    try:
                        observed = await observe(post.message_id, post.channel_id)
                        if observed is not None:
                            stored = await recorder.state(post.message_id)
                            # A forgotten member's reaction on a post from before they were
                            # forgotten is still on Discord, and stays out of the database.
                            skip = {u for u, at in forgotten.items() if post.posted_at <= at}
                            a, r = recorder.apply_observed(post.message_id, observed, stored, skip)
                            added, removed = added + a, removed + r
                    finally:
                        recorder.watch.pop(post.message_id, None)
                    self.done(post.message_id, pace.calls - calls)
                await self.save()
            await recorder.flush()
            posts_done, calls_made, _ = await self.finish()
        finally:
            recorder.watch = None
        return posts_done, calls_made, added, removed

    async def next_posts(self, limit: int = BATCH) -> list[Post]:
        """The claimed servers' next posts to compare, most alive first (the caller saves
        what it did before asking again)."""
        rows = await self.db.fetchall(
            "SELECT q.message_id, q.guild_id, q.channel_id, q.posted_at FROM reconcile_queue q "
            "JOIN reconcile_servers s ON s.guild_id = q.guild_id "
            "WHERE s.owner = ? AND q.posted_at >= ? "
            "ORDER BY q.rank DESC, q.message_id DESC LIMIT ?",
            (self.name, self._since(), limit),
        )
        return [Post(r[0], r[1], r[2], r[3]) for r in rows]

    def done(self, message_id: int, calls: int) -> None:
        """A post compared (saved with the rest of its batch)."""
        self._done.append(message_id)
        self._posts += 1
        self._calls += calls
        self.metrics.reconciled(calls)

    async def save(self) -> None:
        """Take the posts done off the queue and record the progress, in one transaction."""
        done, self._done = self._done, []
        async with self.db.transaction() as tx:
            if done:
                marks = ", ".join("?" for _ in done)
                await tx.execute(
                    f"DELETE FROM reconcile_queue WHERE message_id IN ({marks})", tuple(done)
                )
            await tx.execute(
                "UPDATE reconcile_runs SET posts = ?, calls = ?, updated_at = ? WHERE process = ?",
                (self._posts, self._calls, self._now(), self.name),
            )

    async def finish(self) -> tuple[int, int, int]:
        """Everything compared: the claims released, what aged out of the window dropped.
        Returns (posts, calls, seconds) of the whole reconciliation, restarts included."""
        await self.save()
        async with self.db.transaction() as tx:
            run = await tx.fetchone(
                "SELECT started_at, posts, calls FROM reconcile_runs WHERE process = ?",
                (self.name,),
            )
            await tx.execute(
                "DELETE FROM reconcile_queue WHERE guild_id IN "
                "(SELECT guild_id FROM reconcile_servers WHERE owner = ?)",
                (self.name,),
            )
            await tx.execute(
                "UPDATE reconcile_servers SET owner = NULL, owner_until = NULL WHERE owner = ?",
                (self.name,),
            )
            await tx.execute("DELETE FROM reconcile_runs WHERE process = ?", (self.name,))
        self._posts = self._calls = 0
        self.metrics.reconcile_left(0)
        if run is None:
            return 0, 0, 0
        return run["posts"], run["calls"], max(0, self._now() - run["started_at"])

    async def _followed(self, tx: Tx, at: int) -> None:
        """This process's servers followed live up to `at`: the next plan measures from it."""
        await tx.execute(
            f"UPDATE reconcile_servers SET seen_at = ? WHERE guild_id IS NOT NULL{self.owned}",
            (at,),
        )

    async def beat(self, tx: Tx) -> None:
        """With each heartbeat (bot/cluster.py): this process's servers are followed live now,
        and its claims hold for MISSED_BEATS more heartbeats. A beat before this process's
        first plan leaves the moment they were last followed alone: the plan measures the gap
        from it (a start's first beat can land between the hook and the plan); so does a beat
        while a gateway connection is down or its lost session is not planned yet."""
        if self.following:
            await self._followed(tx, self._now())
        await tx.execute(
            "UPDATE reconcile_servers SET owner_until = ? WHERE owner = ?",
            (self._lease(), self.name),
        )

    async def stopped(self) -> None:
        """A clean stop: the moment is recorded (the next start's gap is exact) and the claims
        released; what is still queued waits for the next process."""
        if self._done or self._posts:
            await self.save()
        async with self.db.transaction() as tx:
            if self.following:
                await self._followed(tx, self._now())
            await tx.execute(
                "UPDATE reconcile_servers SET owner = NULL, owner_until = NULL WHERE owner = ?",
                (self.name,),
            )


async def progress(db: Database) -> dict[str, tuple[int, int, int, int]]:
    """Each process's reconciliation under way: (posts checked, planned, calls, started)."""
    if "reconcile_runs" not in await db.tables():
        return {}
    rows = await db.fetchall(
        "SELECT process, posts, planned, calls, started_at FROM reconcile_runs"
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


async def wait_for(coro: Awaitable[object], seconds: float) -> None:
    """Run a step of shutdown without letting a database that does not answer hold it up."""
    try:
        await asyncio.wait_for(coro, seconds)
    except Exception as error:
        log.warning("Could not record where reconciliation stopped: %s", error)
