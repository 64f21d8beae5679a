"""`make bench`'s reconciliation round: coming back from downtime at scale.

A process owning 1,000 servers with 50,000 tracked posts in the `RECONCILE_DAYS` window (scaled
by --scale), their reactions stored, and a captured Discord that answers each call after 50 ms
within a limit of 50 calls a second shared by everything the bot sends. Members reacted while the
bot was down (each post's reactions come at a rate that decays with its age, so the posts alive
near the stop are the likeliest to have changed). For 10 s, 10 min and 1 day of downtime: the
calls and the time the reconciliation takes (bot/reactions/reconcile.py with the real database,
recorder and pace; the cog's reading of a post is modelled call for call: one for the post, one
per page of 100 members of each emoji whose count differs), how many of the changes it found,
and how late a prompt that falls due 30 s into it is posted. Today's full pass (every post of the
window, one call for it and one per emoji page, one call after another) is counted beside it.

Time: the database work is real; waiting on Discord (latency, the rate limit, the pace) is on a
clock that jumps ahead when every actor waits on it, so a day-long reconciliation runs in minutes.

    python -m bench.reconcile [--scale 1.0] [--backend sqlite|postgresql] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import math
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.figures import no_postgresql, save
from bot import Config
from bot.db import open_database
from bot.reactions.reconcile import Pace, Reconciliation
from bot.reactions.recorder import LoopTime, ReactionRecorder

ROOT = Path(__file__).resolve().parent.parent
DAY = 86400
LATENCY = 0.05  # seconds for Discord to answer a call
LIMIT = 50  # calls a second, Discord's global limit
SERVERS = 1000
POSTS_PER_SERVER = 50
DECAY = 6 * 3600  # a post's reactions come at a rate that halves about every 4 hours
DOWNTIMES = {"10s": 10, "10min": 600, "1day": DAY}
PROMPT_AFTER = 30.0  # seconds into the reconciliation a prompt falls due
TARGETS = {"10s.calls_share_of_full_pass": ("<=", 0.01), "prompt_delay_s": ("<=", 5)}
EMOJIS = ("🔥", "🎬", "❤", "👍", "😢")
BASE = 1_770_000_000  # when the bot stopped (epoch seconds)


class Warp(LoopTime):
    """Real time, but when every actor waits on this clock it jumps to the earliest wake-up."""

    def __init__(self, actors: int) -> None:
        self.actors = actors
        self.offset = 0.0
        self._heap: list[tuple[float, int, asyncio.Future]] = []
        self._seq = itertools.count()
        self._changed = asyncio.Event()

    def monotonic(self) -> float:
        return time.perf_counter() + self.offset

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (self.monotonic() + max(0.0, seconds), next(self._seq), future))
        self._changed.set()
        await future

    def leave(self) -> None:
        self.actors -= 1
        self._changed.set()

    async def drive(self) -> None:
        while self.actors > 0:
            if self._heap:
                due, _, future = self._heap[0]
                now = self.monotonic()
                if due > now and len(self._heap) >= self.actors:
                    self.offset += due - now  # every actor waits: jump
                    now = due
                if due <= now:
                    heapq.heappop(self._heap)
                    future.set_result(None)
                    await asyncio.sleep(0)
                    continue
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), 0.0005)
            except TimeoutError:
                pass


class CapturedDiscord:
    """Answers after LATENCY, at most LIMIT calls a second for all callers together."""

    def __init__(self, clock: Warp) -> None:
        self.clock = clock
        self.next_slot = 0.0
        self.calls = 0

    async def call(self) -> None:
        now = self.clock.monotonic()
        slot = max(now, self.next_slot)
        self.next_slot = slot + 1 / LIMIT
        self.calls += 1
        await self.clock.sleep(slot - now + LATENCY)


def community(scale: float, seed: int = 1):
    """(tracked rows, stored reactions {post: {emoji: set(member)}}, per-post (posted, rate))."""
    rng = random.Random(seed)
    servers = max(2, int(SERVERS * scale))
    window = 14 * DAY
    tracked, stored, posts = [], {}, {}
    message = 10**15
    for server in range(servers):
        guild = (server + 1) << 22
        for _ in range(POSTS_PER_SERVER):
            message += 1
            posted = BASE - int(rng.random() * (window - 3600)) - 60
            kind = "prompt" if rng.random() < 0.05 else "section"
            tracked.append(
                (message, guild, guild + 1, kind, guild if kind == "prompt" else None, posted)
            )
            total = rng.choice((0, 2, 5, 10, 20, 40, 60))  # members who ever react to it
            reactions: dict[str, set[int]] = {}
            age = BASE - posted
            last = None
            # Reactions arrive at total/DECAY * exp(-t/DECAY) after posting: those before the stop.
            for n in range(total):
                t = -DECAY * math.log(1 - rng.random())
                if t < age:
                    last = max(last or 0, posted + int(t))
                    key = EMOJIS[min(int(rng.expovariate(1.2)), len(EMOJIS) - 1)]
                    reactions.setdefault(key, set()).add(n + 1)
            stored[message] = reactions
            posts[message] = (posted, total, last)
    return tracked, stored, posts


def changes_during(posts, stored, downtime: float, seed: int):
    """What Discord shows after the downtime: new reactions at each post's decaying rate."""
    rng = random.Random(seed)
    shown = {m: {k: set(v) for k, v in emojis.items()} for m, emojis in stored.items()}
    changed = set()
    for message, (posted, total, _) in posts.items():
        a, b = BASE - posted, BASE - posted + downtime
        expected = total * (math.exp(-a / DECAY) - math.exp(-b / DECAY))
        if expected <= 0 or rng.random() >= -math.expm1(-expected):
            continue
        user = 100_000 + rng.randrange(1000)
        shown[message].setdefault(rng.choice(EMOJIS), set()).add(user)
        changed.add(message)
    return shown, changed


# PostgreSQL's reactions written as rows, from four arrays, once their emoji are numbered.
ROWS_STORED = (
    "INSERT INTO reaction_rows (message_id, user_id, emoji, at) "
    "SELECT r.m, r.u, e.number, reaction_at(r.t) "
    "FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::bigint[]) AS r (m, u, k, t) "
    "JOIN emoji_numbers e ON e.key = r.k"
)


async def load(db, tracked, stored, posts) -> None:
    async with db.transaction() as tx:
        guilds = sorted({row[1] for row in tracked})
        await tx.executemany(
            "INSERT INTO weeks (id, guild_id, title, channel_id, started_at, ends_at) "
            "VALUES (?, ?, 'Film', ?, ?, ?)",
            [(g, g, g + 1, BASE - 3 * DAY, BASE + 4 * DAY) for g in guilds],
        )
        await tx.executemany(
            "INSERT INTO tracked_messages (message_id, guild_id, channel_id, kind, week_id, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            tracked,
        )
        rows = [
            (m, user, key, BASE - 60)
            for m, emojis in stored.items()
            for key, users in emojis.items()
            for user in users
        ]
        if db.backend == "postgresql":
            await tx.execute("SELECT emoji_numbered(?::text[])", (sorted(EMOJIS),))
        for start in range(0, len(rows), 50_000):
            part = rows[start : start + 50_000]
            if db.backend == "postgresql":
                # the rows behind the view (migration 0036): through it, a statement a row
                await tx.execute(ROWS_STORED, tuple(map(list, zip(*part, strict=True))))
                continue
            await tx.executemany(
                "INSERT INTO reactions (message_id, user_id, emoji, created_at) "
                "VALUES (?, ?, ?, ?)",
                part,
            )
        await tx.executemany(
            "INSERT INTO reconcile_servers (guild_id, seen_at) VALUES (?, ?)",
            [(g, BASE) for g in guilds],
        )
    await reaction_times(db, posts)


async def reaction_times(db, posts) -> None:
    """Each post's stored reactions carry the time of its last one (the sign of life read)."""
    updates = [(last, m) for m, (_, _, last) in posts.items() if last is not None]
    stored = "reactions SET created_at = ?"
    if db.backend == "postgresql":
        stored = "reaction_rows SET at = reaction_at(?)"  # not a row at a time through the view
    async with db.transaction() as tx:
        await tx.executemany(f"UPDATE {stored} WHERE message_id = ?", updates)


@dataclass
class OwedPost:
    """The prompt owed while reconciliation runs: whether it is under way, and how late it was."""

    busy: bool = False
    delay: float | None = None


async def scenario(config: Config, stored, posts, name: str, downtime: float) -> dict:
    shown, changed = changes_during(posts, stored, downtime, seed=len(name))
    db = await open_database(config)
    now = [BASE + downtime]
    clock = Warp(actors=2)
    discord_ = CapturedDiscord(clock)
    recorder = ReactionRecorder(db, lambda: now[0])
    work = Reconciliation(db, config, clock=lambda: now[0], name="bench")
    prompt = OwedPost()
    pace = Pace(config.reconcile_rate, clock, busy=lambda: prompt.busy)
    found: set[int] = set()

    async def observe(message_id: int, channel_id: int):
        await pace.take()
        await discord_.call()
        have = {k: set(v) for k, v in stored[message_id].items()}
        observed: set[tuple[int, str]] = set()
        for key, users in shown[message_id].items():
            if len(users) == len(have.get(key, ())):
                observed.update((u, key) for u in users)
                continue
            for _ in range(max(1, -(-len(users) // 100))):
                await pace.take()
                await discord_.call()
            observed.update((u, key) for u in users)
        if message_id in changed:
            found.add(message_id)
        return observed

    async def reconcile() -> tuple:
        try:
            started = clock.monotonic()
            planned = await work.plan()
            result = await work.run(recorder, observe, pace)
            return planned, result, clock.monotonic() - started
        finally:
            clock.leave()

    async def prompt_due() -> None:
        try:
            due = clock.monotonic() + PROMPT_AFTER
            await clock.sleep(PROMPT_AFTER)
            prompt.busy = True  # an owed post under way: reconciliation gives way
            await discord_.call()
            prompt.busy = False
            prompt.delay = clock.monotonic() - due - LATENCY
        finally:
            clock.leave()

    driver = asyncio.create_task(clock.drive())
    try:
        (_, (done, calls, added, _removed), took), _ = await asyncio.gather(
            reconcile(), prompt_due()
        )
    finally:
        await driver
        await recorder.close()
        await db.close()
    if prompt.delay is None:
        raise RuntimeError("the owed prompt was never posted")
    return {
        "posts": done,
        "calls": calls,
        "time_s": round(took, 1),
        "changed_posts": len(changed),
        "changes_found": len(found),
        "added": added,
        "prompt_delay_s": round(prompt.delay, 3),
    }


async def reset(config: Config) -> None:
    db = await open_database(config)
    try:
        async with db.transaction() as tx:
            await tx.execute("DELETE FROM reconcile_queue")
            await tx.execute("DELETE FROM reconcile_runs")
            await tx.execute("UPDATE reconcile_servers SET seen_at = ?, owner = NULL", (BASE,))
    finally:
        await db.close()


async def run(scale: float, backend: str) -> dict:
    tracked, stored, posts = community(scale)
    full_calls = sum(
        1 + sum(max(1, -(-len(u) // 100)) for u in emojis.values()) for emojis in stored.values()
    )
    results: dict = {
        "scale": scale,
        "backend": backend,
        "servers": len({row[1] for row in tracked}),
        "tracked_posts": len(tracked),
        "reactions": sum(len(u) for e in stored.values() for u in e.values()),
        "full_pass": {
            "calls": full_calls,
            "time_s": round(full_calls * LATENCY, 1),  # one call after another
        },
    }
    server = None
    with tempfile.TemporaryDirectory(prefix="projectionist-reconcile-") as tmp:
        config = Config(database_path=Path(tmp) / "bench.db", essays_dir=Path(tmp))
        if backend == "postgresql":
            from tests.postgres_server import PostgresServer, unavailable

            if reason := unavailable():
                raise SystemExit(f"Cannot run the benchmark on PostgreSQL: {reason}.")
            server = PostgresServer().start()
            config = Config(database_url=server.create_database("bench"), essays_dir=Path(tmp))
        try:
            db = await open_database(config)
            try:
                await load(db, tracked, stored, posts)
            finally:
                await db.close()
            for name, downtime in DOWNTIMES.items():
                await reset(config)
                figures = await scenario(config, stored, posts, name, downtime)
                figures["calls_share_of_full_pass"] = round(figures["calls"] / full_calls, 4)
                results[name] = figures
        finally:
            if server is not None:
                server.stop()
    results["prompt_delay_s"] = max(results[name]["prompt_delay_s"] for name in DOWNTIMES)
    return results


def table(results: dict) -> str:
    lines = [
        f"{results['servers']:,} servers, {results['tracked_posts']:,} tracked posts, "
        f"{results['reactions']:,} reactions ({results['backend']}); Discord answers in "
        f"{LATENCY * 1000:.0f} ms, {LIMIT} calls/s",
        f"{'downtime':<10} {'posts':>8} {'calls':>8} {'of full':>8} {'time':>10} "
        f"{'changes found':>15} {'prompt late':>12}",
    ]
    full = results["full_pass"]
    lines.append(
        f"{'today':<10} {results['tracked_posts']:>8,} {full['calls']:>8,} {'100%':>8} "
        f"{full['time_s']:>9,.0f}s {'all':>15} {'—':>12}"
    )
    for name in DOWNTIMES:
        r = results[name]
        lines.append(
            f"{name:<10} {r['posts']:>8,} {r['calls']:>8,} "
            f"{r['calls_share_of_full_pass']:>8.2%} {r['time_s']:>9,.0f}s "
            f"{r['changes_found']:>7,} of {r['changed_posts']:<5,} {r['prompt_delay_s']:>11.3f}s"
        )
    for key, (op, bound) in TARGETS.items():
        if "." in key:
            section, field = key.split(".")
            value = results[section][field]
        else:
            value = results[key]
        ok = value <= bound if op == "<=" else value >= bound
        lines.append(f"target {key} {op} {bound}: {value} {'ok' if ok else 'MISSED'}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--if-available", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="run for errors only (make test)")
    args = parser.parse_args()
    if (
        args.backend == "postgresql"
        and args.if_available
        and no_postgresql("PostgreSQL reconciliation benchmark")
    ):
        return 0
    results = asyncio.run(run(args.scale, args.backend))
    if args.smoke:
        print(f"Reconciliation benchmark on {args.backend}: ran without an error.")
        return 0
    name = (
        "results-reconcile.json"
        if args.backend == "sqlite"
        else "results-reconcile-postgresql.json"
    )
    save(results, ROOT / "bench" / name, table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
