"""Durable timers: rows in `timers`, one dispatcher task that sleeps until the earliest is due.

A timer is claimed (its `claimed_at` set) in a transaction before its handler runs, so however
often the bot restarts or reconnects, no timer runs twice. The scheduler knows only event names;
features register a handler per name.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.db import Database, Tx

log = logging.getLogger(__name__)

Clock = Callable[[], float]
MAX_SLEEP = 7 * 86400  # a new sooner timer cuts the sleep short; this only bounds it


@dataclass(frozen=True)
class Timer:
    id: int
    due_at: int
    event: str
    payload: dict[str, Any]

    def lateness(self, now: float) -> float:
        return now - self.due_at


Handler = Callable[[Timer], Awaitable[None]]


class Scheduler:
    def __init__(self, db: Database, clock: Clock, owned: str = "") -> None:
        self.db = db
        self.clock = clock
        # SQL that keeps the rows of this process's servers (bot/shards.py), or nothing.
        self.owned = owned
        self.handlers: dict[str, Handler] = {}
        self._sleeper: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def _rearm(self) -> None:
        if self._sleeper is not None and not self._sleeper.done():
            self._sleeper.cancel()

    def register(self, event: str, handler: Handler) -> None:
        self.handlers[event] = handler

    def wake(self) -> None:
        """Look for the earliest timer again (one was added by a transaction that committed)."""
        self._rearm()

    async def insert(
        self,
        tx: Tx,
        due_at: int,
        event: str,
        payload: dict[str, Any],
        guild_id: int | None = None,
    ) -> int:
        """A timer written in the caller's transaction; call `wake()` once it has committed.
        A timer of a server is claimed only by the process whose shards hold it."""
        return await tx.fetchval(
            "INSERT INTO timers (due_at, event, payload, created_at, guild_id) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            (int(due_at), event, json.dumps(payload, sort_keys=True), int(self.clock()), guild_id),
        )

    async def create(
        self, due_at: int, event: str, payload: dict[str, Any], guild_id: int | None = None
    ) -> int:
        async with self.db.transaction() as tx:
            timer_id = await self.insert(tx, due_at, event, payload, guild_id)
        self._rearm()  # the new timer may be sooner than the one being slept for
        return timer_id

    @staticmethod
    async def cancel_in(tx: Tx, event: str, **match: int) -> None:
        """Drop unclaimed timers of `event` whose payload has all of `match`, in the caller's
        transaction."""
        where = "".join(f" AND {tx.json_int('payload', key)} = ?" for key in match)
        await tx.execute(
            "DELETE FROM timers WHERE event = ? AND claimed_at IS NULL" + where,
            (event, *match.values()),
        )

    async def cancel(self, event: str, **match: int) -> None:
        """Drop unclaimed timers of `event` whose payload has all of `match`."""
        async with self.db.transaction() as tx:
            await self.cancel_in(tx, event, **match)

    async def pending(self, event: str, **match: Any) -> list[Timer]:
        rows = await self.db.fetchall(
            "SELECT id, due_at, event, payload FROM timers "
            "WHERE event = ? AND claimed_at IS NULL ORDER BY due_at",
            (event,),
        )
        timers = [Timer(r["id"], r["due_at"], r["event"], json.loads(r["payload"])) for r in rows]
        return [t for t in timers if all(t.payload.get(k) == v for k, v in match.items())]

    async def _next(self) -> Timer | None:
        row = await self.db.fetchone(
            f"SELECT id, due_at, event, payload FROM timers WHERE claimed_at IS NULL{self.owned} "
            "ORDER BY due_at, id LIMIT 1"
        )
        if row is None:
            return None
        return Timer(row["id"], row["due_at"], row["event"], json.loads(row["payload"]))

    async def _claim_next(self) -> Timer | None:
        """Claim the earliest timer that is due, if any: once, however many processes look
        (on PostgreSQL a timer another one is claiming is skipped, not waited for)."""
        async with self.db.unlocked() as tx:
            row = await tx.fetchone(
                "UPDATE timers SET claimed_at = ?1 WHERE claimed_at IS NULL AND id = ("
                f"SELECT id FROM timers WHERE claimed_at IS NULL AND due_at <= ?1{self.owned} "
                f"ORDER BY due_at, id LIMIT 1{tx.skip_locked}) "
                "RETURNING id, due_at, event, payload",
                (int(self.clock()),),
            )
        if row is None:
            return None
        return Timer(row["id"], row["due_at"], row["event"], json.loads(row["payload"]))

    async def run_due(self) -> int:
        """Claim and run every timer that is due now; returns how many ran."""
        ran = 0
        while (timer := await self._claim_next()) is not None:
            handler = self.handlers.get(timer.event)
            if handler is None:
                log.warning("No handler for timer %s (%s); dropped", timer.id, timer.event)
                continue
            try:
                await handler(timer)
            except Exception:
                log.exception("Timer %s (%s %s) failed", timer.id, timer.event, timer.payload)
            ran += 1
        return ran

    async def _loop(self) -> None:
        while True:
            await self.run_due()
            timer = await self._next()
            delay = (
                MAX_SLEEP if timer is None else min(max(timer.due_at - self.clock(), 0), MAX_SLEEP)
            )
            if delay <= 0:
                continue
            # Sleep in a task of its own, so that creating a sooner timer can cut the sleep
            # short without ever interrupting a handler. No transaction is held meanwhile.
            self._sleeper = asyncio.create_task(asyncio.sleep(delay), name="timer-sleep")
            try:
                await self._sleeper
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
            finally:
                self._sleeper = None

    def start(self, wait_until_ready: Callable[[], Awaitable[Any]]) -> None:
        async def run() -> None:
            await wait_until_ready()
            await self._loop()

        self._task = asyncio.create_task(run(), name="timer-dispatcher")
        self._task.add_done_callback(self._log_exit)

    @staticmethod
    def _log_exit(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("The timer dispatcher stopped", exc_info=task.exception())

    async def stop(self) -> None:
        self._rearm()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
