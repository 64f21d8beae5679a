"""What the bot owes Discord, as durable jobs.

A state change that obliges a post (a week started owes its kickoff, an ended week its digest)
writes the job in its own transaction with `owe()`. A timer wakes the dispatcher when the job is
due; the job is claimed (`claimed_at`) before it runs, so it runs once at a time however many
timers or callers reach it. Its handler posts and records what it posted, or raises `Retry`
(Discord failed: tried again with backoff) or `GiveUp` (Discord refused: nothing to retry; the
reason is kept for moderators). A job that was claimed when the process died is released at the
next start and marked `uncertain`: its handler looks for its own post before posting again; so
is one whose run could not be recorded because the database failed, once it answers again.
Nothing here talks to Discord.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.db import Database, Tx, is_database_error
from bot.metrics import DISCARD, Metrics
from bot.text import plural
from bot.timers import AfterCommit, Scheduler, Timer

if TYPE_CHECKING:
    from bot.members import Forgotten

log = logging.getLogger(__name__)

JOB_EVENT = "job"
# Seconds before the next try after the n-th failed one; the last repeats.
BACKOFF = (15, 60, 300, 900, 3600)
DEFAULT_MAX_AGE = 7 * 86400  # a job still failing this long after it was owed is given up


class Retry(Exception):
    """Discord failed (429, 5xx, the network): try again later. `uncertain` when the post may
    have gone through all the same."""

    def __init__(self, reason: str, *, uncertain: bool = False, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.uncertain = uncertain
        self.after = after


class GiveUp(Exception):
    """Nothing to retry (the channel is gone, a permission is missing): the reason is kept."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Job:
    id: int
    guild_id: int
    kind: str
    week_id: int | None
    poll_id: int | None
    key: str | None
    payload: dict[str, Any]
    revision: int
    created_at: int
    due_at: int
    attempts: int
    claimed_at: int | None
    uncertain: bool
    done_at: int | None
    given_up_at: int | None
    last_error: str | None
    result: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: Any) -> Job:
        values = dict(row)
        values["payload"] = json.loads(values["payload"] or "{}")
        values["result"] = json.loads(values["result"]) if values["result"] else None
        values["uncertain"] = bool(values["uncertain"])
        return cls(**values)

    @property
    def done(self) -> bool:
        return self.done_at is not None

    @property
    def given_up(self) -> bool:
        return self.given_up_at is not None

    @property
    def pending(self) -> bool:
        return not self.done and not self.given_up


@dataclass(frozen=True)
class Label:
    """The post a kind of job owes, as moderators read of it when it is late or given up: what
    it is ("A prompt", or built from the job: "<@1>'s take"), what is owed of it ("posted",
    "removed"), and whether it is more than one thing ("The kickoff and its thread were")."""

    what: str | Callable[[Job], str]
    done: str = "posted"
    plural: bool = False

    def subject(self, job: Job) -> str:
        return self.what(job) if callable(self.what) else self.what


@dataclass(frozen=True)
class Kind:
    run: Callable[[Job], Awaitable[dict[str, Any] | None]]
    # Called in the transaction that gives the job up (to release what it held).
    given_up: Callable[[Tx, Job], Awaitable[None]] | None = None
    max_age: int = DEFAULT_MAX_AGE
    label: Label | None = None  # None: moderators read the kind's own name


class Jobs:
    metrics: Metrics = DISCARD

    def __init__(self, db: Database, scheduler: Scheduler, clock: Callable[[], float]) -> None:
        self.db = db
        self.scheduler = scheduler
        self.clock = clock
        self.kinds: dict[str, Kind] = {}
        # Jobs this process is running: a second caller (the dispatcher and a command, or two
        # commands) waits for the run in progress, then runs it again only if it was owed again.
        self._running: dict[int, asyncio.Future[None]] = {}
        scheduler.register(JOB_EVENT, self._on_timer)
        scheduler.on_recovery(self._release_stranded)

    def register(self, kind: str, handler: Kind) -> None:
        self.kinds[kind] = handler

    def busy(self) -> bool:
        """Whether this process is posting what it owes right now (background work waits)."""
        return bool(self._running)

    def _now(self) -> int:
        return int(self.clock())

    @asynccontextmanager
    async def transaction(self, guild_id: int | None = None) -> AsyncIterator[Tx]:
        """A write transaction that may owe jobs (under the lock of `guild_id`'s server, see
        bot/locks.py); the dispatcher looks again once it commits."""
        async with self.db.transaction(guild_id) as tx:
            yield tx
        self.scheduler.wake()

    async def owe(
        self,
        tx: Tx,
        *,
        guild_id: int,
        kind: str,
        payload: dict[str, Any] | None = None,
        week_id: int | None = None,
        poll_id: int | None = None,
        key: str | None = None,
        due_at: int | None = None,
    ) -> int:
        """Record a post the bot owes, inside the caller's transaction (see `transaction`).
        A pending job with the same `key` takes the new payload instead (and is run again if
        it is running now)."""
        now = self._now()
        due = now if due_at is None else int(due_at)
        job_id: int
        job_id, revision = await tx.one(
            "INSERT INTO jobs (guild_id, kind, week_id, poll_id, key, payload, created_at, due_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (key) WHERE done_at IS NULL AND given_up_at IS NULL DO UPDATE SET "
            "payload = excluded.payload, revision = jobs.revision + 1, "
            "due_at = CASE WHEN excluded.due_at < jobs.due_at THEN excluded.due_at "
            "ELSE jobs.due_at END RETURNING id, revision",
            (guild_id, kind, week_id, poll_id, key, json.dumps(payload or {}), now, due),
        )
        if revision == 0 or due < now + 1:
            await self.scheduler.insert(tx, due, JOB_EVENT, {"job_id": job_id}, guild_id)
        self.metrics.job(kind, "owed")
        return job_id

    @staticmethod
    async def drop(tx: Tx, *, week_id: int | None = None, poll_id: int | None = None) -> None:
        """Forget the jobs of a week or a poll that is being undone (never posted)."""
        if week_id is not None:
            await tx.execute("DELETE FROM jobs WHERE week_id = ?", (week_id,))
        if poll_id is not None:
            await tx.execute("DELETE FROM jobs WHERE poll_id = ?", (poll_id,))

    async def get(self, job_id: int) -> Job | None:
        row = await self.db.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return Job.from_row(row) if row else None

    async def owed(self, key: str) -> bool:
        """Whether a job with this key is still owed (neither done nor given up)."""
        return bool(
            await self.db.fetchval(
                "SELECT 1 FROM jobs WHERE key = ? AND done_at IS NULL AND given_up_at IS NULL",
                (key,),
            )
        )

    async def _claim_in(self, tx: Tx, job_id: int) -> Job | None:
        """The job, claimed for this run in the caller's transaction; None if it is not due,
        done, given up, or being claimed or run elsewhere (on PostgreSQL, skipped rather than
        waited for)."""
        row = await tx.fetchone(
            "UPDATE jobs SET claimed_at = ?1, attempts = attempts + 1 WHERE claimed_at IS NULL "
            "AND id = (SELECT id FROM jobs WHERE id = ?2 AND due_at <= ?1 "
            "AND claimed_at IS NULL AND done_at IS NULL AND given_up_at IS NULL"
            f"{tx.skip_locked}) RETURNING *",
            (self._now(), job_id),
        )
        return Job.from_row(row) if row else None

    async def _claim(self, job_id: int) -> Job | None:
        async with self.db.unlocked() as tx:
            return await self._claim_in(tx, job_id)

    async def run(self, job_id: int) -> Job | None:
        """Claim the job and run it once: posted, re-armed with backoff, or given up. Returns
        the job as it stands afterwards (None if it does not exist)."""
        while (running := self._running.get(job_id)) is not None:
            await asyncio.shield(running)
        self._running[job_id] = asyncio.get_running_loop().create_future()
        try:
            job = await self._claim(job_id)
        except BaseException:
            self._finished(job_id)
            raise
        return await self._run_claimed(job_id, job)

    def _finished(self, job_id: int) -> None:
        self._running.pop(job_id).set_result(None)

    async def _run_claimed(self, job_id: int, job: Job | None) -> Job | None:
        """Run the job this process has claimed (None: it was not claimed), then let the next
        caller in."""
        try:
            if job is None:
                return await self.get(job_id)  # done, given up, or running elsewhere
            return await self._execute(job)
        except Exception as error:
            # Claimed, perhaps posted, but not recorded: released once the database is back.
            if is_database_error(error):
                self.scheduler.report_fault()
            raise
        finally:
            self._finished(job_id)

    async def _execute(self, job: Job) -> Job | None:
        kind = self.kinds.get(job.kind)
        if kind is None:
            await self._give_up(job, f"no handler for {job.kind}", None)
            return await self.get(job.id)
        try:
            result = await kind.run(job)
        except Retry as retry:
            await self._retry(job, kind, retry)
        except GiveUp as refusal:
            await self._give_up(job, refusal.reason, kind)
        except Exception as error:
            log.exception("Job %s (%s) failed", job.id, job.kind)
            # The post may have been made before the error: the next try looks for it first.
            await self._retry(
                job, kind, Retry(f"an internal error ({type(error).__name__})", uncertain=True)
            )
        else:
            await self._done(job, result)
        return await self.get(job.id)

    async def _on_timer(self, tx: Tx, timer: Timer) -> AfterCommit | None:
        """The job is claimed with its timer, and run once both are committed (a caller of
        `run` meanwhile waits for that run, as for any other)."""
        job_id = int(timer.payload["job_id"])
        if job_id in self._running:  # a command is running it: wait, then look again

            async def again(committed: bool) -> None:
                if committed:
                    await self.run(job_id)

            return again
        self._running[job_id] = asyncio.get_running_loop().create_future()
        try:
            job = await self._claim_in(tx, job_id)
        except BaseException:
            self._finished(job_id)
            raise
        if job is None:
            self._finished(job_id)
            return None

        async def after(committed: bool) -> None:
            if committed:
                await self._run_claimed(job_id, job)
            else:  # the claim was rolled back with the timer's
                self._finished(job_id)

        return after

    async def _done(self, job: Job, result: dict[str, Any] | None) -> None:
        self.metrics.job(job.kind, "done")
        async with self.transaction(job.guild_id) as tx:
            finished = (
                await tx.execute(
                    "UPDATE jobs SET done_at = ?, claimed_at = NULL, uncertain = 0, last_error = NULL, "
                    "result = ? WHERE id = ? AND revision = ?",
                    (self._now(), json.dumps(result) if result else None, job.id, job.revision),
                )
            ) == 1
            if not finished:  # owed again while it ran: run it again with the newer payload
                await tx.execute(
                    "UPDATE jobs SET claimed_at = NULL, attempts = 0, result = ? WHERE id = ?",
                    (json.dumps(result) if result else None, job.id),
                )
                await self.scheduler.insert(
                    tx, self._now(), JOB_EVENT, {"job_id": job.id}, job.guild_id
                )

    async def _retry(self, job: Job, kind: Kind, retry: Retry) -> None:
        now = self._now()
        delay = (
            retry.after if retry.after is not None else BACKOFF[min(job.attempts, len(BACKOFF)) - 1]
        )
        due = now + max(1, int(delay))
        if due - job.created_at > kind.max_age:
            await self._give_up(
                job, f"gave up after {plural(job.attempts, 'try', 'tries')}: {retry.reason}", kind
            )
            return
        log.warning("Job %s (%s) will be tried again: %s", job.id, job.kind, retry.reason)
        self.metrics.job(job.kind, "retried")
        async with self.transaction(job.guild_id) as tx:
            await tx.execute(
                "UPDATE jobs SET claimed_at = NULL, due_at = ?, last_error = ?, "
                "uncertain = CASE WHEN ? = 1 THEN 1 ELSE uncertain END WHERE id = ?",
                (due, retry.reason, int(retry.uncertain), job.id),
            )
            await self.scheduler.insert(tx, due, JOB_EVENT, {"job_id": job.id}, job.guild_id)

    async def _give_up(self, job: Job, reason: str, kind: Kind | None) -> None:
        log.warning("Job %s (%s) given up: %s", job.id, job.kind, reason)
        self.metrics.job(job.kind, "given_up")
        async with self.transaction(job.guild_id) as tx:
            await tx.execute(
                "UPDATE jobs SET given_up_at = ?, claimed_at = NULL, last_error = ? WHERE id = ?",
                (self._now(), reason, job.id),
            )
            if kind is not None and kind.given_up is not None:
                await kind.given_up(tx, job)

    async def recover(self) -> int:
        """At start: jobs of this process's servers claimed by a process that died are released,
        marked uncertain, and due now; each of them still owed gets a timer. Returns how many
        were interrupted. (Another process's servers are its own: it may be running them.)"""
        return await self._release(())

    async def _release_stranded(self) -> None:
        """After a database outage: what this process claimed but could not record, and the
        owed jobs whose timer was lost, as at start; the jobs running now are left to run."""
        await self._release(tuple(self._running))

    async def _release(self, running: tuple[int, ...]) -> int:
        now = self._now()
        owned = self.scheduler.owned
        if running:
            owned += f" AND id NOT IN ({', '.join(str(int(i)) for i in running)})"
        async with self.transaction() as tx:
            interrupted = await tx.execute(
                "UPDATE jobs SET claimed_at = NULL, uncertain = 1, "
                "due_at = CASE WHEN due_at < ?1 THEN due_at ELSE ?1 END "
                "WHERE claimed_at IS NOT NULL AND done_at IS NULL AND given_up_at IS NULL" + owned,
                (now,),
            )
            unarmed = await tx.fetchall(
                "SELECT j.id, j.due_at, j.guild_id FROM jobs j WHERE j.done_at IS NULL "
                f"AND j.given_up_at IS NULL{owned} AND NOT EXISTS (SELECT 1 FROM timers t "
                "WHERE t.event = ? AND t.claimed_at IS NULL "
                f"AND {tx.json_int('t.payload', 'job_id')} = j.id)",
                (JOB_EVENT,),
            )
            for job_id, due_at, guild_id in unarmed:
                await self.scheduler.insert(tx, due_at, JOB_EVENT, {"job_id": job_id}, guild_id)
        if interrupted:
            log.info(
                "%d owed posts were interrupted; each looks for its post before retrying",
                interrupted,
            )
        return interrupted

    async def outstanding(
        self, guild_id: int, *, week_id: int | None = None, kinds: tuple[str, ...] = ()
    ) -> list[Job]:
        """Jobs a moderator should know about: pending ones, and given-up ones that no later
        job of the same kind, week and key has made good (a later prompt makes good a prompt
        given up; only the member's own later take, theirs). Oldest first."""
        where: list[str] = ["j.guild_id = ?"]
        params: list[int | str] = [guild_id]
        if week_id is not None:
            where.append("(j.week_id = ? OR j.week_id IS NULL)")
            params.append(week_id)
        if kinds:
            where.append(f"j.kind IN ({', '.join('?' for _ in kinds)})")
            params.extend(kinds)
        rows = await self.db.fetchall(
            "SELECT j.* FROM jobs j WHERE " + " AND ".join(where) + " AND j.done_at IS NULL "
            "AND (j.given_up_at IS NULL OR NOT EXISTS (SELECT 1 FROM jobs k "
            "WHERE k.guild_id = j.guild_id AND k.kind = j.kind "
            "AND k.week_id IS NOT DISTINCT FROM j.week_id "
            "AND k.key IS NOT DISTINCT FROM j.key AND k.done_at > j.given_up_at)) ORDER BY j.id",
            params,
        )
        return [Job.from_row(row) for row in rows]

    # --- members' data (see bot/members.py) -------------------------------------------

    # Timers (bot/timers.py) name no member; a server's are its schedule, not data to export.
    MEMBER_TABLES = frozenset({"jobs", "timers"})

    async def forget_member(self, tx: Tx, user_id: int, forgotten: Forgotten) -> None:
        """Jobs that name the member (a take's, with their name): done or not, they go."""
        await tx.execute(
            f"DELETE FROM jobs WHERE {tx.json_int('payload', 'user_id')} = ?", (user_id,)
        )

    async def export_member(self, user_id: int) -> dict[str, Any]:
        return {}

    async def export_guild(self, guild_id: int) -> dict[str, Any]:
        return {}
