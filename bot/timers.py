"""Durable timers: rows in `timers`, one dispatcher task that sleeps until the earliest is due.

A timer is claimed (its `claimed_at` set) in a transaction, and its handler decides in that same
transaction (owes a post, books the next timer): a process killed between the claim and the
decision leaves the timer unclaimed, so it fires again; once committed, it never runs twice.
What must happen outside the transaction (a job posting to Discord) the handler returns, to run
after the commit. The scheduler knows only event names; features register a handler per name.

A database error (the server down, a statement cancelled) never stops the dispatcher: it tries
again with backoff, logs one line when an outage starts and one when it ends, and then runs
what the features left to repair (`on_recovery`) before what fell due meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.db import Database, Tx, is_database_error
from bot.metrics import DISCARD, Metrics

log = logging.getLogger(__name__)

Clock = Callable[[], float]
MAX_SLEEP = 7 * 86400  # a new sooner timer cuts the sleep short; this only bounds it
# Seconds between tries while the database fails: doubling from the first to the last.
RETRY_FIRST, RETRY_LAST = 1.0, 60.0
# A handler that meets a database error this many times in a row, while its timer's claim goes
# through each time, is failing on something no wait will mend: its timer is dropped, so that the
# timers after it still run.
HANDLER_TRIES = 10
# Servers whose due timers run at once (Config.dispatch_concurrency): each server's one after
# another, so its posts keep their order; discord.py keeps all of them within Discord's limits.
CONCURRENCY = 16


@dataclass(frozen=True)
class Timer:
    id: int
    due_at: int
    event: str
    payload: dict[str, Any]

    def lateness(self, now: float) -> float:
        return now - self.due_at


# What a handler leaves for after its transaction: called with whether it committed.
AfterCommit = Callable[[bool], Awaitable[Any]]
# Runs in the transaction that claims the timer; may return what to do once it has ended.
Handler = Callable[[Tx, Timer], Awaitable[AfterCommit | None]]


class Scheduler:
    metrics: Metrics = DISCARD

    def __init__(
        self, db: Database, clock: Clock, owned: str = "", concurrency: int = CONCURRENCY
    ) -> None:
        self.db = db
        self.clock = clock
        self.concurrency = concurrency
        # SQL that keeps the rows of this process's servers (bot/shards.py), or nothing.
        self.owned = owned
        self.handlers: dict[str, Handler] = {}
        self._sleeper: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._repairs: list[Callable[[], Awaitable[Any]]] = []
        self._repair_due = False
        self._handler_failures: dict[int, int] = {}
        self.failing_since: float | None = None  # when the current outage began (the clock's)
        self._tries = 0
        # Chores run every so often by the dispatcher: [chore, seconds between, next run].
        self._chores: list[list[Any]] = []

    def _rearm(self) -> None:
        if self._sleeper is not None and not self._sleeper.done():
            self._sleeper.cancel()

    def register(self, event: str, handler: Handler) -> None:
        self.handlers[event] = handler

    def on_recovery(self, repair: Callable[[], Awaitable[Any]]) -> None:
        """Run `repair` once the database answers again after an error (before timers run)."""
        self._repairs.append(repair)

    def every(self, seconds: float, chore: Callable[[], Awaitable[Any]]) -> None:
        """Run `chore` once the dispatcher starts, then every `seconds` (a database error in it
        is an outage like any other: tried again with backoff)."""
        self._chores.append([chore, seconds, self.clock()])

    async def run_chores(self) -> float:
        """Run the chores that are due; the seconds until the next one."""
        now = self.clock()
        for entry in self._chores:
            chore, seconds, next_at = entry
            if next_at <= now:
                await chore()
                entry[2] = now + seconds
        return min((entry[2] - now for entry in self._chores), default=MAX_SLEEP)

    def report_fault(self) -> None:
        """A database error met elsewhere (a job run by a command): repair once it passes."""
        self._repair_due = True
        self._rearm()

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
        timer_id: int = await tx.fetchval(
            "INSERT INTO timers (due_at, event, payload, created_at, guild_id) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            (int(due_at), event, json.dumps(payload, sort_keys=True), int(self.clock()), guild_id),
        )
        return timer_id

    async def create(
        self, due_at: int, event: str, payload: dict[str, Any], guild_id: int | None = None
    ) -> int:
        async with self.db.transaction(guild_id) as tx:
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

    async def due_servers(self) -> list[int | None]:
        """The servers with timers due now (None: timers of no server), the most overdue
        first."""
        rows = await self.db.fetchall(
            "SELECT guild_id, min(due_at) AS first FROM timers WHERE claimed_at IS NULL "
            f"AND due_at <= ?{self.owned} GROUP BY guild_id ORDER BY first, guild_id",
            (int(self.clock()),),
        )
        return [row[0] for row in rows]

    async def _claim(self, tx: Tx, guild_id: int | None) -> Timer | None:
        """Claim the server's earliest timer that is due, if any, in the caller's transaction:
        once, however many processes look (on PostgreSQL a timer another one is claiming is
        skipped, not waited for)."""
        row = await tx.fetchone(
            "UPDATE timers SET claimed_at = ?1 WHERE claimed_at IS NULL AND id = ("
            "SELECT id FROM timers WHERE claimed_at IS NULL AND due_at <= ?1 "
            f"AND guild_id IS NOT DISTINCT FROM ?2{self.owned} "
            f"ORDER BY due_at, id LIMIT 1{tx.skip_locked}) "
            "RETURNING id, due_at, event, payload",
            (int(self.clock()), guild_id),
        )
        if row is None:
            return None
        return Timer(row["id"], row["due_at"], row["event"], json.loads(row["payload"]))

    async def run_one(self, guild_id: int | None = None) -> bool:
        """Claim the server's earliest due timer and run its handler in the claiming
        transaction, under the server's lock (taken before the claim, as every write of the
        server takes it first), then what it left for after the commit. False when nothing is
        due. A database error is raised (nothing of the timer committed, so it fires again); a
        handler's own failure is logged and its timer dropped."""
        timer: Timer | None = None
        after: AfterCommit | None = None
        try:
            async with self.db.transaction(guild_id) as tx:
                timer = await self._claim(tx, guild_id)
                if timer is None:
                    return False
                self.metrics.timer_lateness(timer.event, timer.lateness(self.clock()))
                handler = self.handlers.get(timer.event)
                if handler is None:
                    log.warning("No handler for timer %s (%s); dropped", timer.id, timer.event)
                    return True
                after = await handler(tx, timer)
        except BaseException as error:
            if after is not None:
                await after(False)
            if timer is None or not isinstance(error, Exception):
                raise
            if is_database_error(error):
                tries = self._handler_failures[timer.id] = (
                    self._handler_failures.get(timer.id, 0) + 1
                )
                if tries < HANDLER_TRIES:
                    raise
            self._handler_failures.pop(timer.id, None)
            log.exception("Timer %s (%s %s) failed; dropped", timer.id, timer.event, timer.payload)
            async with self.db.transaction() as tx:
                await tx.execute(
                    "UPDATE timers SET claimed_at = ? WHERE id = ? AND claimed_at IS NULL",
                    (int(self.clock()), timer.id),
                )
            return True
        self._handler_failures.pop(timer.id, None)
        if after is not None:
            try:
                await after(True)
            except Exception as error:
                if is_database_error(error):
                    raise
                log.exception("Timer %s (%s) failed after its commit", timer.id, timer.event)
        return True

    async def run_server(self, guild_id: int | None) -> int:
        """Claim and run the server's timers that are due now, in order; how many ran."""
        ran = 0
        while await self.run_one(guild_id):
            ran += 1
        return ran

    async def run_due(self) -> int:
        """Claim and run every timer that is due now, `concurrency` servers at a time, each
        server's in order; returns how many ran. A server that fails does not hold up the
        others: the first error is raised once they are done."""
        servers = deque(await self.due_servers())
        failed: list[Exception] = []

        async def worker() -> int:  # takes the next server until none is left
            ran = 0
            while servers:
                try:
                    ran += await self.run_server(servers.popleft())
                except Exception as error:
                    failed.append(error)
            return ran

        workers = min(self.concurrency, len(servers))
        if workers <= 1:
            ran = await worker()
        else:
            ran = sum(await asyncio.gather(*(worker() for _ in range(workers))))
        if failed:
            raise failed[0]
        return ran

    async def _repair(self) -> None:
        if not self._repair_due:
            return
        self._repair_due = False  # a fault reported meanwhile asks again; a failure sets it too
        for repair in self._repairs:
            await repair()

    def _failed(self, error: Exception) -> float:
        """Note a failed round; the seconds to wait before the next."""
        self._tries += 1
        self._repair_due = True
        if self.failing_since is None:
            self.failing_since = self.clock()
            log.warning(
                "The timer dispatcher cannot use the database (%s: %s); trying again with backoff",
                type(error).__name__,
                error,
                exc_info=not is_database_error(error),
            )
        wait: float = min(RETRY_FIRST * 2 ** min(self._tries - 1, 16), RETRY_LAST)
        return wait

    def _recovered(self) -> None:
        if self.failing_since is not None:
            log.info(
                "The timer dispatcher reached the database again after %ds and %d tries",
                int(self.clock() - self.failing_since),
                self._tries,
            )
        self.failing_since = None
        self._tries = 0

    async def _round(self) -> float:
        """Repair, run what is due; the seconds until the next timer or chore."""
        await self._repair()
        await self.run_due()
        chores = await self.run_chores()
        timer = await self._next()
        if timer is None:
            return min(chores, MAX_SLEEP)
        return min(max(timer.due_at - self.clock(), 0), chores, MAX_SLEEP)

    async def _loop(self) -> None:
        while True:
            try:
                delay = await self._round()
            except Exception as error:
                await asyncio.sleep(self._failed(error))
                continue
            self._recovered()
            if delay <= 0 or self._repair_due:
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
        """Stop the dispatcher, whatever state it is in (an error it died of was logged)."""
        self._rearm()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task})
