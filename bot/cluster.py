"""The processes of one bot: each records a heartbeat with its shards and version, and `python
-m bot status` reads them all, naming shards nobody runs and processes that stopped beating.
Nothing here talks to Discord."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from bot.config import Config
from bot.db import Database

MISSED_BEATS = 3  # a process silent for this many of its heartbeats has stopped


def release() -> str:
    try:
        return version("projectionist")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class Process:
    name: str
    shard_count: int | None
    shards: str
    version: str
    started_at: int
    beat_at: int
    beat_every: int

    def stopped(self, now: int) -> bool:
        return now - self.beat_at > MISSED_BEATS * self.beat_every

    def runs(self) -> set[int]:
        if self.shards == "all":
            return set(range(self.shard_count or 1))
        return {int(shard) for shard in self.shards.split(",")}


class Cluster:
    def __init__(self, db: Database, config: Config, clock: Callable[[], float]) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.name = config.process_name or f"{socket.gethostname()}:{os.getpid()}"
        self.started_at = int(clock())
        # What else each heartbeat records, in its transaction (reconciliation's servers).
        self.beat_hooks: list[Callable[[Any], Awaitable[None]]] = []

    async def beat(self) -> None:
        async with self.db.transaction() as tx:
            for hook in self.beat_hooks:
                await hook(tx)
            await tx.execute(
                "INSERT INTO processes (name, shard_count, shards, version, started_at, beat_at, "
                "beat_every) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "shard_count = excluded.shard_count, shards = excluded.shards, "
                "version = excluded.version, started_at = excluded.started_at, "
                "beat_at = excluded.beat_at, beat_every = excluded.beat_every",
                (
                    self.name,
                    self.config.shard_count,
                    self.config.shards_line,
                    release(),
                    self.started_at,
                    int(self.clock()),
                    self.config.heartbeat_seconds,
                ),
            )

    async def leave(self) -> None:
        """A process that stops cleanly leaves the list (one that dies stops beating)."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM processes WHERE name = ?", (self.name,))


async def processes(db: Database) -> list[Process]:
    rows = await db.fetchall("SELECT * FROM processes ORDER BY name")
    return [Process(**dict(row)) for row in rows]


def status_lines(
    found: list[Process], now: int, reconciling: dict[str, tuple[int, int, int, int]] | None = None
) -> tuple[bool, list[str]]:
    """(healthy, report): every process, its shards and last heartbeat (and its reconciliation
    of reactions while one runs: posts checked, planned, calls, started); shards nobody runs,
    shards run twice, and processes that stopped beating."""
    reconciling = reconciling or {}
    if not found:
        return False, ["No process of the bot is running (none has recorded a heartbeat)."]
    lines, healthy = [], True
    live = [p for p in found if not p.stopped(now)]
    for process in found:
        ago = now - process.beat_at
        of = f" of {process.shard_count}" if process.shard_count else ""
        shards = f"shards {process.shards}{of}" if process.shard_count else "unsharded"
        state = "" if process in live else ": stopped beating"
        lines.append(
            f"{process.name}: {shards}, version {process.version}, last heartbeat {ago} s ago{state}"
        )
        if process.name in reconciling:
            posts, planned, calls, started = reconciling[process.name]
            lines.append(
                f"  reconciling reactions after downtime: {posts:,} of {planned:,} posts "
                f"compared with Discord, {calls:,} calls, for {max(0, now - started)} s"
            )
    healthy &= len(live) == len(found)
    count = max((p.shard_count or 1 for p in found), default=1)
    runs: dict[int, int] = {}
    for process in live:
        for shard in process.runs():
            runs[shard] = runs.get(shard, 0) + 1
    nobody = sorted(set(range(count)) - set(runs))
    twice = sorted(shard for shard, n in runs.items() if n > 1)
    if nobody:
        lines.append(f"Shards nobody runs: {', '.join(map(str, nobody))}")
        healthy = False
    unsharded = all(p.shard_count is None for p in found)
    if twice:
        lines.append(
            "More than one process runs the bot on this database: stop all but one."
            if unsharded
            else f"Shards run by more than one process: {', '.join(map(str, twice))}"
        )
        healthy = False
    if healthy:
        if unsharded:
            lines.append("The bot runs in one process.")
        elif count > 1:
            lines.append(f"All {count} shards run, each by one process.")
        else:
            lines.append("Its one shard runs, in one process.")
    return healthy, lines


IDENTIFY_SPACING = 5.0  # seconds between logins of one concurrency bucket (Discord's rule)


async def take_identify_turn(db: Database, bucket: int, spacing: float | None = None) -> float:
    """Wait until the bucket's last login, by any process, is `spacing` seconds old (Discord's
    five by default), and record this one; returns how long it waited. Real time: the limit is
    Discord's."""
    spacing = IDENTIFY_SPACING if spacing is None else spacing
    waited = 0.0
    while True:
        async with db.transaction() as tx:
            # One statement takes the turn only if the last is old enough: of processes asking at
            # once, one gets it (the others' statements wait for its row, then see it taken).
            now = time.time()
            taken = await tx.fetchval(
                "INSERT INTO identify_slots (bucket, last_at) VALUES (?1, ?2) "
                "ON CONFLICT (bucket) DO UPDATE SET last_at = excluded.last_at "
                "WHERE identify_slots.last_at <= ?2 - ?3 RETURNING last_at",
                (bucket, now, spacing),
            )
            if taken is not None:
                return waited
            last = await tx.fetchval(
                "SELECT last_at FROM identify_slots WHERE bucket = ?", (bucket,)
            )
        pause = max(spacing - (now - last), 0.01)
        await asyncio.sleep(pause)
        waited += pause
