"""A week's screening as data: when and where the club watches the film together, the reminders
it owes (durable timers: the day before at the same local time, and 15 minutes before) and the
posts it owes (the Discord event made to match, a note in the week's thread, the kickoff brought
up to date). Nothing here talks to Discord."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.db import Database, Rows, Tx, rows_as_dicts
from bot.errors import UserError
from bot.films.schedule import day_before
from bot.films.service import (
    REMINDER_EVENT,
    WEEK_ENDED,
    owe_kickoff_edit,
    owe_screening_event,
)
from bot.jobs import Jobs
from bot.members import Forgotten
from bot.text import literal

# Jobs: the Discord event made to match the screening (created, moved or cancelled); a note in
# the week's thread when it is set, moved or cancelled; a reminder.
SCREENING_NOTE = "screening_note"
REMINDER = "screening_reminder"
# The Discord event's job (SCREENING_EVENT) and the reminders' timer (REMINDER_EVENT) are named
# in bot/films/service.py, since ending or renaming a week changes its screening too.

SOON = 15 * 60  # the second reminder, before the screening starts
LENGTH = 3 * 3600  # the Discord event's length: a film and the talk after it
REMINDERS = ("day", "soon")


async def require_running(tx: Tx, week_id: int) -> None:
    """The week still runs, as this transaction sees it (it may have ended since the command
    read it): else the write is refused."""
    if (
        await tx.fetchval("SELECT 1 FROM weeks WHERE id = ? AND ended_at IS NULL", (week_id,))
        is None
    ):
        raise UserError(WEEK_ENDED)


@dataclass(frozen=True)
class Screening:
    id: int
    week_id: int
    guild_id: int
    starts_at: int
    channel_id: int | None
    place: str | None
    note: str | None
    event_id: int | None
    interested: int | None
    created_by: int | None
    created_at: int
    updated_at: int
    cancelled_at: int | None

    @property
    def where(self) -> str:
        """Where it happens, as a message shows it."""
        if self.channel_id:
            return f"<#{self.channel_id}>"
        return literal(self.place) if self.place else "wherever you watch"

    def reminder_due(self, which: str, tz: ZoneInfo) -> int:
        return day_before(self.starts_at, tz) if which == "day" else self.starts_at - SOON


class Screenings:
    def __init__(self, db: Database, jobs: Jobs) -> None:
        self.db = db
        self.jobs = jobs
        self.scheduler = jobs.scheduler

    async def get(self, screening_id: int, rows: Rows | None = None) -> Screening | None:
        """The screening (read in `rows`, a transaction, when given)."""
        row = await (rows or self.db).fetchone(
            "SELECT * FROM screenings WHERE id = ?", (screening_id,)
        )
        return Screening(**dict(row)) if row else None

    async def of_week(self, week_id: int) -> Screening | None:
        """The week's screening, unless cancelled."""
        row = await self.db.fetchone(
            "SELECT * FROM screenings WHERE week_id = ? AND cancelled_at IS NULL", (week_id,)
        )
        return Screening(**dict(row)) if row else None

    async def schedule(
        self,
        *,
        guild_id: int,
        week_id: int,
        week_ends_at: int,
        starts_at: int,
        channel_id: int | None,
        place: str | None,
        note: str | None,
        by: int,
        now: int,
        tz: ZoneInfo,
    ) -> tuple[Screening, bool, int, list[str]]:
        """Set the week's screening, or move it: the row, its reminders, the event and the posts
        it owes, in one transaction. Returns the screening, whether it moved an earlier one, the
        job that makes the Discord event match, and the reminders that will come (of REMINDERS:
        none is booked for a time already past)."""
        if starts_at >= week_ends_at:
            raise UserError(
                "The screening must be before the week ends; `/film now` shows when that is."
            )
        async with self.jobs.transaction(guild_id) as tx:
            await require_running(tx, week_id)
            # Moving it keeps its place and note unless new ones are given.
            keep_where = channel_id is None and place is None
            moved = await tx.fetchone(
                "UPDATE screenings SET starts_at = ?, "
                "channel_id = CASE WHEN ? THEN channel_id ELSE ? END, "
                "place = CASE WHEN ? THEN place ELSE ? END, "
                "note = coalesce(?, note), updated_at = ? WHERE week_id = ? "
                "AND cancelled_at IS NULL RETURNING *",
                (starts_at, keep_where, channel_id, keep_where, place, note, now, week_id),
            )
            row = moved or await tx.one(
                "INSERT INTO screenings (week_id, guild_id, starts_at, channel_id, place, note, "
                "created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING *",
                (week_id, guild_id, starts_at, channel_id, place, note, by, now, now),
            )
            screening = Screening(**dict(row))
            await self.scheduler.cancel_in(tx, REMINDER_EVENT, screening_id=screening.id)
            coming = []
            for which in REMINDERS:
                due = screening.reminder_due(which, tz)
                if due > now:
                    coming.append(which)
                    await self.scheduler.insert(
                        tx,
                        due,
                        REMINDER_EVENT,
                        {"screening_id": screening.id, "which": which, "starts_at": starts_at},
                        guild_id,
                    )
            event_job = await self._owe_posts(tx, screening, "moved" if moved else "set")
        return screening, moved is not None, event_job, coming

    async def cancel(self, week_id: int, guild_id: int, now: int) -> tuple[Screening, int]:
        """Cancel the week's screening: no reminders; the event cancelled and a note owed."""
        async with self.jobs.transaction(guild_id) as tx:
            await require_running(tx, week_id)
            row = await tx.fetchone(
                "UPDATE screenings SET cancelled_at = ?, updated_at = ? WHERE week_id = ? "
                "AND guild_id = ? AND cancelled_at IS NULL RETURNING *",
                (now, now, week_id, guild_id),
            )
            if row is None:
                raise UserError(
                    "This week has no screening to cancel; `/film screening set` plans one."
                )
            screening = Screening(**dict(row))
            await self.scheduler.cancel_in(tx, REMINDER_EVENT, screening_id=screening.id)
            event_job = await self._owe_posts(tx, screening, "cancelled")
        return screening, event_job

    async def _owe_posts(self, tx: Tx, screening: Screening, what: str) -> int:
        event_job = await owe_screening_event(
            self.jobs, tx, screening.guild_id, screening.week_id, screening.id
        )
        await self.jobs.owe(
            tx,
            guild_id=screening.guild_id,
            kind=SCREENING_NOTE,
            week_id=screening.week_id,
            payload={"screening_id": screening.id, "what": what},
        )
        await owe_kickoff_edit(self.jobs, tx, screening.guild_id, screening.week_id)
        return event_job

    async def owe_reminder(self, tx: Tx, screening: Screening, which: str) -> int:
        """Owe the reminder its timer called for, in the timer's transaction (once: a second
        call finds it owed)."""
        return await self.jobs.owe(
            tx,
            guild_id=screening.guild_id,
            kind=REMINDER,
            week_id=screening.week_id,
            payload={
                "screening_id": screening.id,
                "which": which,
                "starts_at": screening.starts_at,
            },
            key=f"reminder:{screening.id}:{which}:{screening.starts_at}",
        )

    async def event_made(self, screening_id: int, event_id: int | None) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE screenings SET event_id = ? WHERE id = ?", (event_id, screening_id)
            )

    async def record_interest(self, screening_id: int, interested: int) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE screenings SET interested = ? WHERE id = ?", (interested, screening_id)
            )

    # --- members' data (see bot/members.py) -------------------------------------------

    MEMBER_TABLES = frozenset({"screenings"})

    async def forget_member(self, tx: Tx, user_id: int, forgotten: Forgotten) -> None:
        await tx.execute("UPDATE screenings SET created_by = NULL WHERE created_by = ?", (user_id,))

    async def export_member(self, user_id: int) -> dict[str, Any]:
        return {}

    async def export_guild(self, guild_id: int) -> dict[str, Any]:
        rows = await self.db.fetchall(
            "SELECT * FROM screenings WHERE guild_id = ? ORDER BY id", (guild_id,)
        )
        return {"screenings": rows_as_dicts(rows)}
