"""Reactions on the bot's posts: what each post shows (tracked messages) and a recorder that
turns a stream of reaction events into rows, committed in batches.

The recorder queues events and commits each batch with one statement within `max_delay` seconds,
or at once when `max_batch` events wait; events that arrive while a batch is being written join
the next, which PostgreSQL's store sends while the one before is still being written (each
batch waits at the server for the one it follows: migration postgresql/0038). Where a batch
goes is the backend's (bot/reactions/store.py): on SQLite it is appended to `reaction_log`
(migration 0007), and the log is merged into `reactions` in runs sorted by post once it has
been quiet for a moment (see `merge_idle`); on PostgreSQL it is applied to `reactions` at once.
So on SQLite `reactions` trails the events by a fraction of a second, by up to a few seconds
under a storm; `flush()` commits and merges everything received so far, for reads that must see
every event (a digest, /quote top, a member's deletion, reconciliation). Clears go with the
events: every batch has one write path. A burst of thousands never stalls the bot; `close()`
flushes the rest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from bot.db import Database, Tx, rows_as_dicts
from bot.metrics import DISCARD, Metrics
from bot.reactions.counts import (
    COUNT_TABLES,
    OPEN,
    WEEK,
    Period,
    counted_period,
    counted_rows,
    counted_sums,
    quote_sums,
)
from bot.reactions.store import (
    ADD,
    CLEAR,
    CLEAR_EMOJI,
    DELETED,
    EMOJI,
    MERGE_CHUNK,
    REMOVE,
    Op,
    OutOfTurn,
    Turn,
    store_for,
)

if TYPE_CHECKING:
    from bot.members import Forgotten

T = TypeVar("T")

log = logging.getLogger(__name__)


@lru_cache(maxsize=4096)
def emoji_key(name: str | None, emoji_id: int | None = None) -> str:
    """A stable key: custom emoji by id, Unicode emoji without variation selectors."""
    if emoji_id:
        return f"c:{emoji_id}"
    return (name or "").replace("\ufe0f", "").replace("\ufe0e", "")


@dataclass(frozen=True)
class Tracked:
    message_id: int
    guild_id: int | None
    channel_id: int
    kind: str
    essay_id: int | None = None
    section_id: int | None = None
    prompt_id: int | None = None
    quote_id: int | None = None
    week_id: int | None = None


DAY = 86400  # the reactions are counted per UTC day (migration 0021)
SHOWN_COLUMNS = {"section": "section_id", "quote": "quote_id"}  # of the counts, 0 for none


def counted_since(now: int, days: int) -> int:
    """The start of a period of `days` days back as the daily counts answer it: midnight UTC of
    the day `days` days ago (so the period is the last `days` days and today so far)."""
    return (now // DAY - days) * DAY


RETRY_DELAY = 1.0  # seconds before a failed batch write or merge is tried again


def _future() -> asyncio.Future[None]:
    return asyncio.get_running_loop().create_future()


@dataclass(eq=False)
class Flight:
    """A batch taken from the queue and sent, until it is settled: written, or its events queued
    again. `returned` once the store's call has returned or raised (`error`)."""

    turn: Turn
    ops: list[Op]
    stamps: list[float]
    since: int | None
    follows: Flight | None  # the batch sent before it, while that one was being written
    returned: asyncio.Future[None] = field(default_factory=_future)
    settled: asyncio.Future[None] = field(default_factory=_future)
    error: BaseException | None = None
    written: bool = False

    @property
    def done(self) -> bool:
        return self.returned.done()


class LoopTime:
    """The recorder's sense of elapsed time: the event loop's clock and sleep, and its waits for
    its own batches. Tests give it a clock they move by hand."""

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def settled(self, batches: list[asyncio.Future[None]]) -> None:
        """Wait until every one of `batches` is settled (see `Flight`)."""
        await asyncio.wait(batches)


class ReactionRecorder:
    metrics: Metrics = DISCARD

    def __init__(
        self,
        db: Database,
        clock: Callable[[], float],
        *,
        timing: LoopTime | None = None,
        max_delay: float = 0.05,
        max_batch: int = 2000,
        max_statement: int = 10_000,
        merge_idle: float = 0.1,
        merge_max_age: float | None = None,
        merge_rows: int | None = None,
        merge_chunk: int = MERGE_CHUNK,
    ) -> None:
        self.db = db
        self.clock = clock  # wall time, stamped on what is stored
        self.timing = timing or LoopTime()  # when to commit and merge
        self.max_delay = max_delay
        self.max_batch = max_batch
        # Events one statement writes at most: events that came while a merge held the writer
        # are written in several, so that the copies a statement makes of them (the last event
        # of each reaction, the batch's JSON) stay small beside the queue.
        self.max_statement = max_statement
        # The log is merged (PostgreSQL: the daily counts' notes folded) once no batch has come
        # for `merge_idle` seconds, or when its oldest unmerged batch is `merge_max_age` seconds
        # old, or when `merge_rows` events wait (the store's own unless given). So a burst is
        # merged after it (the merge's work would slow the event loop, which shares the machine
        # with it), and a larger merge writes each page it touches for more rows.
        # A merge runs in ranges of about `merge_chunk` events so that appends never wait long.
        self.store = store_for(db, merge_chunk)
        self.merge_idle = merge_idle
        self.merge_max_age = self.store.merge_max_age if merge_max_age is None else merge_max_age
        self.merge_rows = self.store.merge_rows if merge_rows is None else merge_rows
        self.tracked: set[int] = set()
        self.known_emoji: set[str] = set()
        self._queue: list[Op] = []
        # When the oldest queued event came (wall time): a member forgotten since then, by any
        # process, keeps none of the queued additions (PostgreSQL's batch leaves them out).
        self._queued_since: int | None = None
        self._enqueued_at: list[float] = []
        self._timer: asyncio.Task[None] | None = None
        self._next_flush: asyncio.Task[int] | None = None
        self._writing = asyncio.Lock()  # one commit takes events from the queue at a time
        self._flights: deque[Flight] = deque()  # sent and not settled, in the order sent
        self._batches = 0  # batches sent, ever: the next one's number
        self._taken = 0  # events taken from the queue to be written, ever (see `_arrived`)
        self._logged = 0  # appended to the log since the last merge (at most)
        # Until a merge succeeds, the log may hold what an earlier run left (see `load`).
        self._log_clean = False
        self._sealed_upto = -1  # every server's weeks before this one summed (migration 0025)
        self._sealing: asyncio.Task[None] | None = None
        self._checkpointing: asyncio.Task[None] | None = None
        self._last_commit_at = 0.0
        self._unmerged_since: float | None = None  # the first batch after the last merge
        self._merge_timer: asyncio.Task[None] | None = None
        self._next_merge: asyncio.Task[None] | None = None
        self._merging = asyncio.Lock()
        self._closed = False
        self._tasks: set[asyncio.Task[Any]] = set()
        # During a reconciliation: the posts being compared, and the keys live events touched.
        self.watch: dict[int, set[tuple[int, str]]] | None = None
        self.commit_latencies: list[float] | None = None  # set to a list to measure

    async def load(self, owned: str = "") -> None:
        """The posts to record reactions on (of this process's servers, `owned`: see
        bot/shards.py), the custom emoji known, and what the log holds merged."""
        rows = await self.db.fetchall(
            f"SELECT message_id FROM tracked_messages WHERE deleted_at IS NULL{owned}"
        )
        self.tracked = {row[0] for row in rows}
        self.known_emoji = {row[0] for row in await self.db.fetchall("SELECT key FROM emojis")}
        # Events logged before a stop or a crash and not merged yet.
        await self.merge()

    # --- tracking ---------------------------------------------------------------------

    async def track(self, item: Tracked, now: int) -> None:
        """Record what a bot post shows (again, for a post edited in place)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO tracked_messages (message_id, guild_id, channel_id, kind, essay_id, "
                "section_id, prompt_id, quote_id, week_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO UPDATE SET "
                "kind = excluded.kind, essay_id = excluded.essay_id, "
                "section_id = excluded.section_id, prompt_id = excluded.prompt_id, "
                "quote_id = excluded.quote_id, week_id = excluded.week_id",
                (
                    item.message_id,
                    item.guild_id,
                    item.channel_id,
                    item.kind,
                    item.essay_id,
                    item.section_id,
                    item.prompt_id,
                    item.quote_id,
                    item.week_id,
                    now,
                ),
            )
            if item.guild_id is not None:  # the server is followed live from now on
                await conn.execute(
                    "INSERT INTO reconcile_servers (guild_id, seen_at) VALUES (?, ?) "
                    "ON CONFLICT (guild_id) DO NOTHING",
                    (item.guild_id, now),
                )
        self.tracked.add(item.message_id)

    # --- events -----------------------------------------------------------------------

    def _push(self, op: Op) -> None:
        """Queue a live event; an add or remove on a post being reconciled (a key of `watch`)
        marks its (member, emoji) as touched, so what was read from Discord before it does not
        undo it."""
        # Every event of a burst passes here: `_enqueue` is written out again rather than
        # called (see cogs/reactions.py).
        if self._closed:
            log.warning("Reaction event after shutdown dropped: %s", op)
            return
        watch = self.watch
        if watch is not None and op[0] in (ADD, REMOVE) and op[1] in watch:
            watch[op[1]].add(op[2:])
        queue = self._queue
        if not queue:
            self._queued_since = int(self.clock())
        queue.append(op)
        if self.commit_latencies is not None:
            self._enqueued_at.append(time.perf_counter())
        if len(queue) >= self.max_batch:
            self._spawn_flush()
        elif self._timer is None:
            self._timer = self._start(self._flush_later(), name="reaction-flush")

    def _enqueue(self, op: Op) -> None:
        if not self._queue:
            self._queued_since = int(self.clock())
        self._queue.append(op)
        if self.commit_latencies is not None:
            self._enqueued_at.append(time.perf_counter())

    def remember_emoji(self, key: str, display: str | None) -> None:
        """Keep how to show a custom emoji (written with the next batch)."""
        if display and key.startswith("c:") and key not in self.known_emoji:
            self.known_emoji.add(key)
            self._queue_silent((EMOJI, key, display))

    def add(self, message_id: int, user_id: int, key: str, display: str | None = None) -> None:
        if display is not None:
            self.remember_emoji(key, display)
        self._push((ADD, message_id, user_id, key))

    def remove(self, message_id: int, user_id: int, key: str) -> None:
        self._push((REMOVE, message_id, user_id, key))

    def clear(self, message_id: int) -> None:
        self._push((CLEAR, message_id))

    def clear_emoji(self, message_id: int, key: str) -> None:
        self._push((CLEAR_EMOJI, message_id, key))

    def deleted(self, message_ids: Iterable[int]) -> None:
        """Mark deleted posts (stamped with their batch's time)."""
        for message_id in message_ids:
            if message_id in self.tracked:
                self.tracked.discard(message_id)
                self._push((DELETED, message_id))

    # --- committing -------------------------------------------------------------------

    async def _flush_later(self, delay: float | None = None) -> None:
        try:
            await self.timing.sleep(self.max_delay if delay is None else delay)
        finally:
            self._timer = None
        await self._flush_in_background()

    def _spawn_flush(self) -> None:
        # One full-batch flush waiting at a time: while a batch is being written, later events
        # gather in the queue and the waiting flush takes them all (group commit).
        if self._next_flush is None:
            self._next_flush = self._start(self._flush_in_background(), name="reaction-flush-now")

    async def _flush_in_background(self) -> int:
        """A commit nobody awaits: when the write fails (already logged, the events queued
        again), it is tried again after RETRY_DELAY even if no new event arrives."""
        try:
            return await self.commit()
        except Exception:
            if self._timer is None and not self._closed:
                self._timer = self._start(self._flush_later(RETRY_DELAY), name="reaction-flush")
            return 0

    async def commit(self) -> int:
        """Commit everything queued so far, in statements of at most `max_statement` events;
        returns how many events. Where the store allows it (PostgreSQL), a statement is sent
        while the one before is still being written, and the next commit may send its own as soon
        as this one has sent: only the settling is waited for outside `_writing`."""
        sent: list[Flight] = []
        target: int | None = None
        while True:
            async with self._writing:
                self._next_flush = None
                target = self._arrived() if target is None else target
                while self._taken < target:
                    await self._room()
                    if self._failed(sent):
                        break
                    # Events that came meanwhile go too: the statement is being built anyway.
                    flight = self._send(min(len(self._queue), self.max_statement))
                    sent.append(flight)
                    if self.store.batches_in_flight == 1:
                        await self._write(flight)  # SQLite: written before the next, and a merge
                    else:
                        self._start(self._write(flight), name="reaction-flush-batch")
            await self._batches_settled()
            # Batches sent before this commit's own, by another, that were not written: their
            # events are back in the queue, and this commit sends them again.
            if self._failed(sent) or self._taken >= target:
                break
        for flight in sent:
            if flight.error is not None and not flight.written:
                raise flight.error
        return sum(len(flight.ops) for flight in sent)

    @staticmethod
    def _failed(flights: list[Flight]) -> bool:
        return any(flight.settled.done() and not flight.written for flight in flights)

    async def _room(self) -> None:
        """Wait until another batch may be sent."""
        while len(self._flights) >= self.store.batches_in_flight:
            await self.timing.settled([self._flights[0].settled])

    async def _batches_settled(self) -> None:
        """Wait until every batch sent so far is settled."""
        if self._flights:
            await self.timing.settled([flight.settled for flight in self._flights])

    def _send(self, count: int) -> Flight:
        """The first `count` queued events, sent as a batch (with `_writing` held)."""
        ops, stamps, since = self._queue[:count], self._enqueued_at[:count], self._queued_since
        del self._queue[:count], self._enqueued_at[:count]
        self._taken += count
        if not self._queue:
            self._queued_since = None  # else the rest keep the oldest one's time
        self._batches += 1
        follows = self._flights[-1] if self._flights else None
        turn = Turn(self._batches, follows.turn.number if follows else None)
        flight = Flight(turn, ops, stamps, since, follows)
        self._flights.append(flight)
        return flight

    async def _write(self, flight: Flight) -> None:
        """The store's call for a batch sent (a task of its own, named as the flushes are, where
        batches are written side by side), then the batches settled that can be."""
        now = int(self.clock())
        try:
            since = now if flight.since is None else flight.since
            try:
                await self.store.append(now, flight.ops, since, flight.turn)
            except OutOfTurn:
                # Sent after the batch it follows, it may still have reached the server first
                # (that one waited for a connection, or prepared its statement on a new one):
                # once that one is written, it goes again, now in turn.
                before = flight.follows
                if before is None:
                    raise
                await self.timing.settled([before.returned])
                if before.error is not None:
                    raise
                await self.store.append(now, flight.ops, since, flight.turn)
        except Exception as error:
            flight.error = error
        except BaseException:
            flight.error = RuntimeError("the batch's write was cancelled")
            raise
        finally:
            flight.returned.set_result(None)
            self._settle()

    def _settle(self) -> None:
        """Settle the batches whose fate is known, in the order sent. A batch is written once
        its store call returned, or once a batch sent after it was written (each waits for the
        one it follows and fails without it: a call can fail after the server committed, say
        when the connection drops). When the oldest failed and no later one was written, all
        those sent are settled together once each has returned: their events go back to the
        front of the queue in their order, before anything queued since."""
        flights = self._flights
        while flights and flights[0].done:
            head = flights[0]
            if head.error is not None and not any(f.done and f.error is None for f in flights):
                if not all(flight.done for flight in flights):
                    return  # the later ones fail with it, or tell it was written
                self._requeue(list(flights))
                flights.clear()
                return
            flights.popleft()
            self._written(head)

    def _written(self, flight: Flight) -> None:
        flight.written, flight.follows = True, None  # no chain of batches kept in memory
        if self.commit_latencies is not None and flight.stamps:
            done = time.perf_counter()
            self.commit_latencies.extend(done - stamp for stamp in flight.stamps)
        self._logged += len(flight.ops)
        self.metrics.reactions_ingested(sum(op[0] in (ADD, REMOVE) for op in flight.ops))
        self._schedule_merge()
        flight.settled.set_result(None)

    def _requeue(self, failed: list[Flight]) -> None:
        ops = [op for flight in failed for op in flight.ops]
        log.error(
            "Could not commit %d reaction events; they are queued again",
            len(ops),
            exc_info=failed[0].error,
        )
        self._queue[:0] = ops
        self._enqueued_at[:0] = [stamp for flight in failed for stamp in flight.stamps]
        self._taken -= len(ops)
        for since in (flight.since for flight in failed):
            if since is not None:
                self._queued_since = min(since, self._queued_since or since)
        for flight in failed:
            flight.follows = None
            flight.settled.set_result(None)

    async def flush(self) -> int:
        """Commit everything queued and merge everything logged: afterwards `reactions` holds
        every event received so far. Returns how many events were committed. With nothing
        logged since the last merge there is nothing to merge: on PostgreSQL a fold is a write
        transaction, which a command asking for the latest counts need not pay at every call."""
        committed = await self.commit()
        if self._logged or not self._log_clean:  # a commit counts its events in `_logged`
            await self.merge()
        return committed

    def _start(self, work: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        """A task of the recorder's own: kept until it ends (tests wait for them)."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def background(self) -> list[asyncio.Task[Any]]:
        """The recorder's tasks still to finish."""
        return [task for task in self._tasks if not task.done()]

    # --- merging the log ----------------------------------------------------------------

    @property
    def merge_chunk(self) -> int:
        return self.store.merge_chunk

    @merge_chunk.setter
    def merge_chunk(self, events: int) -> None:
        self.store.merge_chunk = events

    def _schedule_merge(self) -> None:
        if self._closed or not self.store.merges:
            return
        now = self.timing.monotonic()
        self._last_commit_at = now
        if self._unmerged_since is None:
            self._unmerged_since = now
        if self._logged >= self.merge_rows or now - self._unmerged_since >= self.merge_max_age:
            if self._next_merge is None:
                self._next_merge = self._start(
                    self._merge_in_background(), name="reaction-merge-now"
                )
        elif self._merge_timer is None:
            self._merge_timer = self._start(self._merge_when_idle(), name="reaction-merge")

    async def _merge_when_idle(self) -> None:
        try:
            wait = self.merge_idle
            while wait > 0:  # each batch committed meanwhile puts the merge off
                await self.timing.sleep(wait)
                wait = self._last_commit_at + self.merge_idle - self.timing.monotonic()
                if wait <= 0 and (self._queue or self._writing.locked() or self._flights):
                    # A statement writing longer than `merge_idle` (a large one on a busy
                    # server) is no pause: the burst goes on.
                    wait = self.merge_idle
        finally:
            self._merge_timer = None
        await self._merge_in_background()

    async def _merge_later(self, delay: float) -> None:
        try:
            await self.timing.sleep(delay)
        finally:
            self._merge_timer = None
        await self._merge_in_background()

    async def _merge_in_background(self) -> None:
        try:
            await self.merge()
        except Exception:
            log.exception("Could not merge logged reaction events; they stay in the log")
            if self._merge_timer is None and not self._closed:
                self._merge_timer = self._start(
                    self._merge_later(RETRY_DELAY), name="reaction-merge"
                )

    async def merge(self) -> None:
        """Merge every committed batch of the log into `reactions`."""
        async with self._merging:
            self._next_merge = None
            self._unmerged_since = None
            logged = self._logged
            turn = self.store.merges_between_batches and await self._turn_between_batches()
            try:
                merged = await self.store.merge()
            finally:
                if turn:
                    self._writing.release()
            self._logged = max(0, self._logged - logged) if merged else 0
            self._log_clean = True
        self._seal_weeks()
        self._checkpoint_if_paused()

    def _arrived(self) -> int:
        """How many events have come so far (give or take a write that failed)."""
        return self._taken + len(self._queue)

    async def _turn_between_batches(self) -> bool:
        """Wait for the merge's turn between the batches: True once `_writing` is held and the
        batches sent are written (the caller releases it). False when no event came for
        `merge_idle / 2` while a batch was still being written: a stream that is over leaves
        the backlog of its last batches to write, and the merge goes beside them on the server's
        other core rather than after them (with events coming, it takes turns with the batches,
        whose core the bot's events share)."""
        if not self._writing.locked() and not self._flights:
            await self._writing.acquire()
            return True
        # A task of its own keeps the merge's place among those waiting for the lock, and
        # wakes it as soon as the lock is handed over and the batches are written.
        waiting = asyncio.create_task(self._after_batches(), name="reaction-merge-turn")
        held = False
        try:
            while True:
                arrived = self._arrived()
                await asyncio.wait((waiting,), timeout=self.merge_idle / 2)
                if waiting.done():
                    held = waiting.result()
                    return held
                if self._arrived() == arrived:
                    return False
        finally:
            if not waiting.done():
                waiting.cancel()  # a lock handed to it meanwhile goes on to the next in line
            elif not held and not waiting.cancelled() and waiting.exception() is None:
                self._writing.release()  # taken just as the merge was cancelled

    async def _after_batches(self) -> bool:
        await self._writing.acquire()
        try:
            await self._batches_settled()
        except BaseException:
            self._writing.release()
            raise
        return True

    def _seal_weeks(self) -> None:
        """Once a week is over, every server's counts of it summed into a row a week (migration
        0025), after the first merge after it, beside the bot's work: the first start after an
        upgrade sums all the weeks so far. Sealing only saves reading days later: one that
        fails is tried again after the next merge, and a period read meanwhile reads days."""
        week = int(self.clock()) // DAY // WEEK
        busy = self._sealing is not None and not self._sealing.done()
        if week > self._sealed_upto and not busy and not self._closed:
            self._sealing = self._start(self._seal(week), name="reaction-weeks")

    def _checkpoint_if_paused(self) -> None:
        """Once the merges pause, the database's checkpoint (SQLite: its log copied into the file),
        beside the bot's work. A stream's merges follow each other and leave it to the pause
        after them, so that a page each merge rewrites is copied once (see `WAL_BACKSTOP_PAGES`
        in bot/sqlite.py): no pause while a merge is due, nor while a tenth of `merge_rows`
        came during the merge just over (one of a stream's, whose next may not be due yet)."""
        busy = self._checkpointing is not None and not self._checkpointing.done()
        paused = self._next_merge is None and self._logged * 10 < self.merge_rows
        if self.db.checkpoints and paused and not busy and not self._closed:
            self._checkpointing = self._start(self._checkpoint(), name="reaction-checkpoint")

    async def checkpointed(self) -> None:
        """Wait for the checkpoint being made, if any."""
        if self._checkpointing is not None:
            await asyncio.gather(self._checkpointing, return_exceptions=True)

    async def _checkpoint(self) -> None:
        try:
            await self.db.checkpoint()
        except Exception:
            # Nothing is lost: the log holds every committed write, and the writer copies it
            # itself at its limit.
            log.warning("Could not copy the database's log into its file", exc_info=True)

    async def sealed(self) -> None:
        """Wait for the weeks being summed, if any."""
        if self._sealing is not None:
            await asyncio.gather(self._sealing, return_exceptions=True)

    async def _seal(self, week: int) -> None:
        try:
            for guild_id in await self.store.unsealed(week):
                await self.store.seal(guild_id, week)
        except Exception:
            log.warning("Could not sum the reactions' weeks; tried again later", exc_info=True)
            return
        self._sealed_upto = week

    async def close(self) -> None:
        """Commit and merge everything still queued; later events are dropped with a warning."""
        self._closed = True
        for timer in (self._timer, self._merge_timer):
            if timer is not None:
                timer.cancel()
        self._timer = self._merge_timer = None
        pending = [
            task for task in (self._next_flush, self._next_merge, self._sealing) if task is not None
        ]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        await self.flush()
        # A merge whose idle timer had run out before the stop waited for the flush's merge; it
        # finds nothing left, and ends before the database closes.
        await asyncio.gather(*self.background(), return_exceptions=True)

    # --- members' data (see bot/members.py) -------------------------------------------

    # The reconciliation's tables (bot/reactions/reconcile.py) hold servers' posts, no member,
    # and `reaction_weeks_sealed` servers' weeks; the daily, weekly and quarterly counts follow
    # the reactions through notes folded before the forgetting commits (migrations 0026,
    # postgresql/0023; the quarters follow the weeks, 0032; each quote's row its days, 0037).
    # PostgreSQL keeps the reactions in `reaction_rows`, behind a view (postgresql/0036).
    MEMBER_TABLES = frozenset(
        {
            "reactions",
            "reaction_rows",
            "tracked_messages",
            "reconcile_servers",
            "reconcile_queue",
            *COUNT_TABLES,
            "quote_reactions",
            "reaction_weeks_sealed",
            "reaction_day_changes",
        }
    )

    async def forget_member(self, tx: Tx, user_id: int, forgotten: Forgotten) -> None:
        """Every stored reaction of the member (the coordinator flushed the recorder first)."""
        forgotten.counts["reactions"] = await tx.execute(self.store.forget, (user_id,))
        await self.store.counts_settled(tx)

    async def export_member(self, user_id: int) -> dict[str, Any]:
        rows = await self.store.member_reactions(user_id)
        return {"reactions": rows_as_dicts(rows)}

    async def export_guild(self, guild_id: int) -> dict[str, Any]:
        return {}

    # --- reading ----------------------------------------------------------------------
    # `reactions` is read here only. It trails the events by a fraction of a second; a caller
    # whose answer must include every event received so far passes `latest=True`.

    async def _settled(self, latest: bool) -> None:
        if latest:
            await self.flush()

    async def counts(self, message_ids: list[int], *, latest: bool = False) -> dict[int, int]:
        """Members' reactions per post."""
        await self._settled(latest)
        if not message_ids:
            return {}
        marks = ", ".join("?" for _ in message_ids)
        rows = await self.db.fetchall(
            f"SELECT message_id, count(*) FROM reactions WHERE message_id IN ({marks}) "
            "GROUP BY message_id",
            message_ids,
        )
        return {row[0]: row[1] for row in rows}

    async def by_section(self, essay_id: int, guild_id: int) -> list[tuple[int, str, str, int]]:
        """(section, kind of post, emoji, count) for the posts that show an essay's sections."""
        rows = await self.db.fetchall(
            "SELECT t.section_id, t.kind, r.emoji, count(*) FROM reactions r "
            "JOIN tracked_messages t ON t.message_id = r.message_id "
            "WHERE t.essay_id = ? AND t.guild_id = ? AND t.section_id IS NOT NULL "
            "GROUP BY t.section_id, t.kind, r.emoji",
            (essay_id, guild_id),
        )
        return [tuple(row) for row in rows]

    async def given(self, guild_id: int, user_id: int) -> int:
        """How many reactions a member gave on the bot's posts in a server, from the member's
        counts per week and day (a row a week), not their reactions: with no index of reactions
        by member, those were found by looking each of the server's posts up (24 ms on
        SQLite at the benchmark's scale)."""
        rows, params = counted_rows(
            "member_reaction",
            "user_id",
            guild_id,
            await self.period(guild_id, 0),
            f" AND user_id = {int(user_id)}",
        )
        total = await self.db.fetchval(f"SELECT sum(n) FROM ({rows}) given", params)
        return int(total or 0)

    async def period(self, guild_id: int, since: int, until: int | None = None) -> Period:
        """The counts' period from the UTC day of `since` (to that of `until`, excluded; to now
        without it), as the server's sealed weeks let it be read (bot/reactions/counts.py)."""
        end = OPEN if until is None else until // DAY
        sealed = await self.db.fetchval(
            "SELECT week FROM reaction_weeks_sealed WHERE guild_id = ?", (guild_id,)
        )
        running = until is None or until > self.clock()
        return counted_period(since // DAY, end, int(sealed or 0), running=running)

    async def leading(
        self,
        guild_id: int,
        since: int,
        shown: str,
        limit: int,
        offset: int = 0,
        *,
        period: Period | None = None,
    ) -> list[tuple[int, int]]:
        """(id, reactions) of the sections or quotes (`shown`) whose posts got the most
        reactions since the UTC day of `since` began, the lower id first among equals: ranked
        by the database, so that a period's thousands of them never reach Python. The
        sections' from `period` when given (that of `since`, see `period`)."""
        column = SHOWN_COLUMNS[shown]
        if shown == "quote":
            # A row a quote (migration 0037): a month's ranking read 15,600 daily rows and
            # sorted them to sum them by quote.
            sums, params = quote_sums(guild_id, since // DAY)
        else:
            period = period or await self.period(guild_id, since)
            sums, params = counted_sums("reaction", column, guild_id, period, f" AND {column} <> 0")
        ranked = await self.db.fetchall(
            f"{sums} ORDER BY total DESC, {column} LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [(row[0], row[1]) for row in ranked]

    async def leading_quotes(
        self, guild_id: int, since: int, limit: int, offset: int = 0, *, latest: bool = False
    ) -> list[tuple[int, int]]:
        """`leading` for quotes, the events still in the log written first with `latest`."""
        await self._settled(latest)
        return await self.leading(guild_id, since, "quote", limit, offset)

    async def state(self, message_id: int) -> set[tuple[int, str]]:
        rows = await self.db.fetchall(
            "SELECT user_id, emoji FROM reactions WHERE message_id = ?", (message_id,)
        )
        return {(row[0], row[1]) for row in rows}

    async def reconcile_targets(self, since: int, owned: str = "") -> list[tuple[int, int, int]]:
        """(message, channel, when it was posted) of the tracked posts to compare with Discord,
        of this process's servers (`owned`, bot/shards.py)."""
        rows = await self.db.fetchall(
            "SELECT message_id, channel_id, created_at FROM tracked_messages "
            f"WHERE deleted_at IS NULL AND created_at >= ?{owned} ORDER BY created_at",
            (since,),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def forgotten(self) -> dict[int, int]:
        """Members who asked to be forgotten, and when."""
        rows = await self.db.fetchall("SELECT user_id, forgotten_at FROM forgotten_members")
        return {row[0]: row[1] for row in rows}

    def apply_observed(
        self,
        message_id: int,
        observed: set[tuple[int, str]],
        stored: set[tuple[int, str]],
        skip: AbstractSet[int] = frozenset(),
    ) -> tuple[int, int]:
        """Queue what makes the stored reactions of a message match what Discord shows, except
        for keys a live event touched meanwhile (the live event is newer) and reactions of the
        members in `skip` that are not stored (forgotten members' past reactions). Returns
        (added, removed)."""
        touched = self.watch.get(message_id, set()) if self.watch is not None else set()
        added = removed = 0
        for user_id, key in observed - stored - touched:
            if user_id in skip:
                continue
            self._queue_silent((ADD, message_id, user_id, key))
            added += 1
        for user_id, key in stored - observed - touched:
            self._queue_silent((REMOVE, message_id, user_id, key))
            removed += 1
        return added, removed

    def _queue_silent(self, op: Op) -> None:
        """Queue without marking the key as touched by a live event."""
        self._enqueue(op)
        if self._timer is None and not self._closed:
            self._timer = self._start(self._flush_later(), name="reaction-flush")
