"""Film of the week as data: settings, weeks, prompts, ratings, nominations and polls.
Ids and values in, rows out; nothing here talks to Discord."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

from bot.db import Conflict, Database, Rows, Tx, rows_as_dicts
from bot.diary.service import film_of_week_changed, record_week_rating
from bot.errors import UserError
from bot.essays.library import EssayInfo, Library
from bot.films.schedule import next_slot, parse_time_of_day, zone
from bot.jobs import Jobs
from bot.members import Forgotten
from bot.text import fold, literal

log = logging.getLogger(__name__)

MAX_NOMINATIONS_PER_MEMBER = 3
POLL_ANSWERS = 10

# Timers: the week's prompt times, its end, the end of a poll.
PROMPT_EVENT = "film_prompt"
END_EVENT = "film_end"
# Posts the film week owes (see bot/jobs.py).
KICKOFF = "kickoff"
KICKOFF_EDIT = "kickoff_edit"  # the kickoff shows the week as it now is (film, essay, screening)
PROMPT = "prompt"
TAKE = "take"
DIGEST = "digest"
POLL = "poll"
POLL_CLOSE = "poll_close"
POLL_RESULT = "poll_result"
DELETE_POST = "delete_post"
# What a week's screening owes and its reminders' timer (see bot/films/screenings.py): named
# here because ending or renaming a week changes its screening too.
SCREENING_EVENT = "screening_event"
REMINDER_EVENT = "screening_reminder"
POLL_GRACE = 5  # seconds after a poll's end before its result is read
WEEK_ENDED = "This week has ended, so nothing was changed; `/film history` shows it."
# The settings a moderator changes, each with its own statement (no column name is ever built
# from what a caller passes).
SETTING_COLUMNS = {
    name: f"UPDATE guild_settings SET {name} = ? WHERE guild_id = ?"
    for name in (
        "channel_id",
        "timezone",
        "prompt_time",
        "prompt_days",
        "length_days",
        "threads",
        "spoiler_takes",
    )
}


@dataclass(frozen=True)
class Settings:
    guild_id: int
    channel_id: int | None = None
    timezone: str = "UTC"
    prompt_time: str = "18:00"
    prompt_days: str = "daily"
    length_days: int = 7
    last_failure: str | None = None
    last_failure_at: int | None = None
    moderator_role_id: int | None = None
    threads: int = 1
    spoiler_takes: int = 1

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    @property
    def at(self) -> time:
        return parse_time_of_day(self.prompt_time)


@dataclass(frozen=True)
class Week:
    id: int
    guild_id: int
    title: str
    year: int | None
    essay_id: int | None
    channel_id: int
    kickoff_message_id: int | None
    thread_id: int | None
    started_by: int | None
    started_at: int
    ends_at: int
    ended_at: int | None
    digest_message_id: int | None
    digest_channel_id: int | None
    average_rating: float | None
    rating_count: int | None
    forum: int = 0  # the week is a post in a forum channel

    @property
    def film_line(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title

    @property
    def running(self) -> bool:
        return self.ended_at is None

    @property
    def has_thread(self) -> bool:
        """False for a week that runs in its channel (`/film settings threads:False`)."""
        return self.thread_id != self.channel_id


@dataclass(frozen=True)
class Prompt:
    id: int
    week_id: int
    kind: str
    text: str
    section_id: int | None
    posted_at: int | None
    message_id: int | None
    number: int | None = None


@dataclass(frozen=True)
class PlannedPrompt:
    """What the next prompt would be: a queued question, or the essay's next section."""

    kind: str
    text: str
    prompt_id: int | None = None
    essay: EssayInfo | None = None
    section_id: int | None = None


@dataclass(frozen=True)
class Rating:
    user_id: int
    stars: int  # in half stars, 1 (½) to 10 (★★★★★)
    take: str | None
    take_message_id: int | None


@dataclass(frozen=True)
class Nomination:
    id: int
    title: str
    year: int | None
    nominators: int

    @property
    def film_line(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: float | None
    spread: dict[int, int] = field(default_factory=dict)


def summarize_ratings(ratings: list[Rating]) -> RatingSummary:
    """The count, the average in stars, and how many gave each rating (in half stars)."""
    if not ratings:
        return RatingSummary(0, None, {halves: 0 for halves in range(1, 11)})
    counts = Counter(r.stars for r in ratings)
    average = sum(r.stars for r in ratings) / len(ratings) / 2
    return RatingSummary(len(ratings), average, {halves: counts[halves] for halves in range(1, 11)})


def section_question(heading: str) -> str:
    return f"From the essay, “{heading}”: does it match what you saw? Reply here."


@dataclass(frozen=True)
class Poll:
    id: int
    guild_id: int
    channel_id: int
    message_id: int | None
    hours: int
    ends_at: int
    ended_at: int | None
    answers: list[int]  # nomination ids, in the order of the poll's answers
    outcome: str | None
    winner_title: str | None
    winner_year: int | None
    runoff_of: int | None = None
    runoff_hours: int | None = None  # a tie's runoff: this long, or as long as this poll

    @classmethod
    def from_row(cls, row) -> Poll:
        return cls(
            row["id"],
            row["guild_id"],
            row["channel_id"],
            row["message_id"],
            row["hours"] or 24,
            row["ends_at"],
            row["ended_at"],
            json.loads(row["answers"] or "[]"),
            row["outcome"],
            row["winner_title"],
            row["winner_year"],
            row["runoff_of"],
            row["runoff_hours"],
        )


class Films:
    def __init__(self, db: Database, library: Library, jobs: Jobs) -> None:
        self.db = db
        self.library = library
        self.jobs = jobs
        self.scheduler = jobs.scheduler
        # Each server's moderator role, read on every moderator command: kept in memory.
        self._moderator_roles: dict[int, int] = {}

    async def load(self) -> None:
        rows = await self.db.fetchall(
            "SELECT guild_id, moderator_role_id FROM guild_settings "
            "WHERE moderator_role_id IS NOT NULL"
        )
        self._moderator_roles = {row[0]: row[1] for row in rows}

    def moderator_role(self, guild_id: int | None) -> int | None:
        return self._moderator_roles.get(guild_id) if guild_id is not None else None

    async def set_moderator_role(self, guild_id: int, role_id: int | None) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO guild_settings (guild_id, moderator_role_id) VALUES (?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET moderator_role_id = excluded.moderator_role_id",
                (guild_id, role_id),
            )
        if role_id is None:
            self._moderator_roles.pop(guild_id, None)
        else:
            self._moderator_roles[guild_id] = role_id

    # --- settings ---------------------------------------------------------------------

    async def settings(self, guild_id: int, rows: Rows | None = None) -> Settings:
        """The server's settings (read in `rows`, a transaction, when given)."""
        row = await (rows or self.db).fetchone(
            "SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        return Settings(**dict(row)) if row else Settings(guild_id)

    async def update_settings(self, guild_id: int, **changes: object) -> Settings:
        changes = {k: v for k, v in changes.items() if v is not None}
        unknown = set(changes) - set(SETTING_COLUMNS)
        if unknown:
            raise ValueError(f"not a film week setting: {sorted(unknown)}")
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO guild_settings (guild_id) VALUES (?) ON CONFLICT DO NOTHING",
                (guild_id,),
            )
            for key, value in changes.items():
                await tx.execute(SETTING_COLUMNS[key], (value, guild_id))
        return await self.settings(guild_id)

    # --- weeks ------------------------------------------------------------------------

    @staticmethod
    def _week(row) -> Week:
        return Week(**dict(row))

    async def week(self, week_id: int) -> Week | None:
        row = await self.db.fetchone("SELECT * FROM weeks WHERE id = ?", (week_id,))
        return self._week(row) if row else None

    async def running_week(self, guild_id: int) -> Week | None:
        row = await self.db.fetchone(
            "SELECT * FROM weeks WHERE guild_id = ? AND ended_at IS NULL", (guild_id,)
        )
        return self._week(row) if row else None

    async def running_weeks(self) -> list[Week]:
        rows = await self.db.fetchall("SELECT * FROM weeks WHERE ended_at IS NULL")
        return [self._week(row) for row in rows]

    async def running_week_in(self, tx: Tx, week_id: int) -> Week | None:
        """The week, if it still runs, as the caller's transaction sees it."""
        row = await tx.fetchone("SELECT * FROM weeks WHERE id = ? AND ended_at IS NULL", (week_id,))
        return self._week(row) if row else None

    async def _require_running_in(self, tx: Tx, week_id: int) -> Week:
        """A write to a week checks in its own transaction that the week still runs: one that
        ended since the command read it (`/film end` at the same moment) is refused."""
        week = await self.running_week_in(tx, week_id)
        if week is None:
            raise UserError(WEEK_ENDED)
        return week

    async def require_running_week(self, guild_id: int) -> Week:
        week = await self.running_week(guild_id)
        if week is None:
            raise UserError(
                "No film of the week is running. A moderator can start one with `/film start`."
            )
        return week

    async def start_week(
        self,
        *,
        guild_id: int,
        title: str,
        year: int | None,
        essay_id: int | None,
        channel_id: int,
        started_by: int,
        started_at: int,
        ends_at: int,
        forum: bool = False,
    ) -> tuple[Week, int]:
        """Start a week: the week, its end, its first prompt time and the kickoff it owes, in one
        transaction. Returns the week and the kickoff's job id."""
        settings = await self.settings(guild_id)
        first = next_slot(started_at, settings.tz, settings.at, settings.prompt_days, ends_at)
        try:
            async with self.jobs.transaction() as tx:
                week_id = await tx.fetchval(
                    "INSERT INTO weeks (guild_id, title, year, essay_id, channel_id, thread_id, "
                    "started_by, started_at, ends_at, forum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "RETURNING id",
                    (
                        guild_id,
                        title,
                        year,
                        essay_id,
                        channel_id,
                        None if settings.threads or forum else channel_id,
                        started_by,
                        started_at,
                        ends_at,
                        int(forum),
                    ),
                )
                await self.scheduler.insert(tx, ends_at, END_EVENT, {"week_id": week_id}, guild_id)
                # Closed even while a poll holds it: the poll runs on, fair to its voters, and
                # the film does not come back as an open nomination after it.
                await tx.execute(
                    "UPDATE nominations SET closed_at = ? WHERE guild_id = ? AND title_key = ? "
                    "AND closed_at IS NULL",
                    (started_at, guild_id, fold(title)),
                )
                if first is not None:
                    await self.scheduler.insert(
                        tx, first, PROMPT_EVENT, {"week_id": week_id}, guild_id
                    )
                job_id = await self.jobs.owe(tx, guild_id=guild_id, kind=KICKOFF, week_id=week_id)
        except Conflict:
            raise UserError(already_running_message()) from None
        week = await self.week(week_id)
        assert week is not None
        return week, job_id

    async def abandon_start(self, week_id: int) -> None:
        """Undo a start whose kickoff Discord refused for good: nothing of the week remains."""
        async with self.jobs.transaction() as tx:
            for event in (END_EVENT, PROMPT_EVENT):
                await self.scheduler.cancel_in(tx, event, week_id=week_id)
            await self.jobs.drop(tx, week_id=week_id)
            await tx.execute("DELETE FROM weeks WHERE id = ?", (week_id,))

    async def edit_week(
        self,
        week_id: int,
        guild_id: int,
        *,
        title: str | None,
        year: int | None,
        essay_id: int | None,
        now: int,
    ) -> Week:
        """Change the running week's film or essay; later prompts draw from the new essay. What
        carries the week's name follows: the kickoff and its thread (or forum post), and the
        Discord event of a screening still to come."""
        async with self.jobs.transaction() as tx:
            row = await tx.fetchone(
                "UPDATE weeks SET title = coalesce(?, title), year = coalesce(?, year), "
                "essay_id = coalesce(?, essay_id) WHERE id = ? AND guild_id = ? "
                "AND ended_at IS NULL RETURNING guild_id",
                (title, year, essay_id, week_id, guild_id),
            )
            if row is not None:
                await film_of_week_changed(tx, week_id)
                await owe_kickoff_edit(self.jobs, tx, row["guild_id"], week_id)
                coming = await tx.fetchval(
                    "SELECT id FROM screenings WHERE week_id = ? AND cancelled_at IS NULL "
                    "AND starts_at > ?",
                    (week_id, now),
                )
                if coming is not None:
                    await owe_screening_event(self.jobs, tx, row["guild_id"], week_id, coming)
        if row is None:
            raise UserError("That week has ended; `/film start` begins the next one.")
        week = await self.week(week_id)
        assert week is not None
        return week

    async def set_kickoff(self, week_id: int, message_id: int, thread_id: int | None) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE weeks SET kickoff_message_id = ?, thread_id = ? WHERE id = ?",
                (message_id, thread_id, week_id),
            )

    async def end_week(self, week_id: int, guild_id: int, now: int) -> list[int] | None:
        """End the week of `guild_id` and owe its digest (in the thread, then the channel), in
        one transaction; a screening still to come is called off with it (its event cancelled, no
        reminders, nothing more posted in the ended week). The digest job ids, or None if the
        server has no such running week."""
        async with self.jobs.transaction() as tx:
            return await self.end_week_in(tx, week_id, now, guild_id=guild_id)

    async def end_week_in(
        self, tx: Tx, week_id: int, now: int, *, guild_id: int | None
    ) -> list[int] | None:
        """`end_week` in the caller's transaction; `guild_id` None only for the week's own end
        timer, which names the week it was booked for."""
        row = await tx.fetchone(
            "SELECT guild_id, thread_id, channel_id, forum FROM weeks WHERE id = ? "
            "AND ended_at IS NULL",
            (week_id,),
        )
        if row is not None and guild_id is not None and row["guild_id"] != guild_id:
            return None
        if row is None:
            return None
        count, average = await tx.fetchone(
            "SELECT count(rating), CAST(avg(rating) / 2.0 AS DOUBLE PRECISION) FROM viewings "
            "WHERE week_id = ?",
            (week_id,),
        )
        await tx.execute(
            "UPDATE weeks SET ended_at = ?, average_rating = ?, rating_count = ? WHERE id = ?",
            (now, average, count, week_id),
        )
        for event in (END_EVENT, PROMPT_EVENT):
            await self.scheduler.cancel_in(tx, event, week_id=week_id)
        called_off = await tx.fetchval(
            "UPDATE screenings SET cancelled_at = ?, updated_at = ? WHERE week_id = ? "
            "AND cancelled_at IS NULL AND starts_at > ? RETURNING id",
            (now, now, week_id, now),
        )
        if called_off is not None:
            await self.scheduler.cancel_in(tx, REMINDER_EVENT, screening_id=called_off)
            await owe_screening_event(self.jobs, tx, row["guild_id"], week_id, called_off)
        jobs = []
        if row["forum"]:  # the forum post is the week: its digest there, its tag changed
            places: tuple[str, ...] = ("thread",)
            await owe_kickoff_edit(self.jobs, tx, row["guild_id"], week_id)
        elif row["thread_id"] == row["channel_id"]:  # a week without a thread
            places = ("channel",)
        else:
            places = ("thread", "channel")
        for where in places:
            jobs.append(
                await self.jobs.owe(
                    tx,
                    guild_id=row["guild_id"],
                    kind=DIGEST,
                    week_id=week_id,
                    payload={"where": where},
                    key=f"digest:{week_id}:{where}",
                )
            )
        return jobs

    async def set_digest(self, week_id: int, channel_id: int, message_id: int) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE weeks SET digest_channel_id = ?, digest_message_id = ? WHERE id = ?",
                (channel_id, message_id, week_id),
            )

    async def history(self, guild_id: int, limit: int = 10) -> list[Week]:
        rows = await self.db.fetchall(
            "SELECT * FROM weeks WHERE guild_id = ? AND ended_at IS NOT NULL "
            "ORDER BY ended_at DESC LIMIT ?",
            (guild_id, limit),
        )
        return [self._week(row) for row in rows]

    # --- prompts ----------------------------------------------------------------------

    @staticmethod
    def _prompt(row) -> Prompt:
        return Prompt(
            row["id"],
            row["week_id"],
            row["kind"],
            row["text"],
            row["section_id"],
            row["posted_at"],
            row["message_id"],
            row["number"],
        )

    async def add_prompt(
        self, week_id: int, guild_id: int, text: str, user_id: int, now: int
    ) -> int:
        async with self.db.transaction() as tx:
            await self._require_running_in(tx, week_id)
            added = await tx.execute(
                "INSERT INTO prompts (week_id, kind, text, added_by, added_at) "
                "SELECT id, 'question', ?, ?, ? FROM weeks WHERE id = ? AND guild_id = ?",
                (text, user_id, now, week_id, guild_id),
            )
        if not added:
            raise UserError("That week is not this server's; nothing was queued.")
        return len(await self.queued_prompts(week_id))

    async def queued_prompts(self, week_id: int) -> list[Prompt]:
        rows = await self.db.fetchall(
            "SELECT * FROM prompts WHERE week_id = ? AND kind = 'question' AND number IS NULL "
            "AND removed = 0 ORDER BY id",
            (week_id,),
        )
        return [self._prompt(row) for row in rows]

    async def posted_prompts(self, week_id: int) -> list[Prompt]:
        rows = await self.db.fetchall(
            "SELECT * FROM prompts WHERE week_id = ? AND message_id IS NOT NULL ORDER BY number, id",
            (week_id,),
        )
        return [self._prompt(row) for row in rows]

    async def prompt(self, prompt_id: int) -> Prompt | None:
        row = await self.db.fetchone("SELECT * FROM prompts WHERE id = ?", (prompt_id,))
        return self._prompt(row) if row else None

    async def remove_prompt(self, week_id: int, guild_id: int, number: int) -> Prompt:
        week = await self.week(week_id)
        queued = await self.queued_prompts(week_id) if week and week.guild_id == guild_id else []
        if not 1 <= number <= len(queued):
            raise UserError(
                f"There is no queued prompt number {number}; `/film prompt list` shows the queue."
                if queued
                else "The prompt queue is empty."
            )
        prompt = queued[number - 1]
        async with self.db.transaction() as tx:
            await self._require_running_in(tx, week_id)
            await tx.execute("UPDATE prompts SET removed = 1 WHERE id = ?", (prompt.id,))
        return prompt

    async def _plan(self, tx, week: Week) -> PlannedPrompt | None:
        """The next queued question; else, for a week with an essay, its next section not yet
        owed. Read on the writer's connection, inside the transaction that reserves it."""
        queued = await tx.fetchone(
            "SELECT id, text FROM prompts WHERE week_id = ? AND kind = 'question' "
            "AND number IS NULL AND removed = 0 ORDER BY id LIMIT 1",
            (week.id,),
        )
        if queued is not None:
            return PlannedPrompt("question", queued["text"], prompt_id=queued["id"])
        essay = self.library.essays.get(week.essay_id) if week.essay_id else None
        if essay is None:
            return None
        taken = {
            row[0]
            for row in await tx.fetchall(
                "SELECT section_id FROM prompts WHERE week_id = ? AND section_id IS NOT NULL",
                (week.id,),
            )
        }
        for section in essay.sections:
            if section.id not in taken:
                return PlannedPrompt(
                    "section", section_question(section.heading), essay=essay, section_id=section.id
                )
        return None

    async def owe_prompt(self, week_id: int, now: int, *, due_at: int | None = None):
        """Reserve the week's next prompt (its number, its question or section) and owe its post,
        in one transaction, so two at once never pick the same one. Returns (number, job id),
        or None when nothing is left."""
        async with self.jobs.transaction() as tx:
            week = await self._require_running_in(tx, week_id)
            return await self._owe_prompt_in(tx, week, now, due_at)

    async def _owe_prompt_in(self, tx: Tx, week: Week, now: int, due_at: int | None = None):
        planned = await self._plan(tx, week)
        if planned is None:
            return None
        number = await tx.fetchval(
            "SELECT coalesce(max(number), 0) + 1 FROM prompts WHERE week_id = ?", (week.id,)
        )
        if planned.prompt_id is not None:
            prompt_id = planned.prompt_id
            await tx.execute("UPDATE prompts SET number = ? WHERE id = ?", (number, prompt_id))
        else:
            prompt_id = await tx.fetchval(
                "INSERT INTO prompts (week_id, kind, text, section_id, added_at, number) "
                "VALUES (?, 'section', ?, ?, ?, ?) RETURNING id",
                (week.id, planned.text, planned.section_id, now, number),
            )
        job_id = await self.jobs.owe(
            tx,
            guild_id=week.guild_id,
            kind=PROMPT,
            week_id=week.id,
            payload={"prompt_id": prompt_id},
            due_at=due_at,
        )
        return number, job_id

    async def prompt_due(
        self, tx: Tx, week_id: int, due_at: int, now: int, *, catch_up: int
    ) -> int | None:
        """A prompt time came (its timer's transaction): book the next one and owe this one's
        post, unless the week is over or the time passed more than `catch_up` seconds ago.
        Returns the prompt's number, if one is owed."""
        week = await self.running_week_in(tx, week_id)
        if week is None or now >= week.ends_at:
            return None
        await self._book_next_prompt(tx, week, max(now, due_at))
        if now - due_at > catch_up:
            log.info("Skipped the prompt of week %s due %ss ago", week.id, now - due_at)
            return None
        owed = await self._owe_prompt_in(tx, week, now)
        return owed[0] if owed else None

    @staticmethod
    async def release_prompt(tx, prompt_id: int) -> None:
        """A prompt that could not be posted goes back: a question to the queue, a section to
        the essay's turn; the next prompt time tries it again."""
        await tx.execute(
            "DELETE FROM prompts WHERE id = ? AND kind = 'section' AND message_id IS NULL",
            (prompt_id,),
        )
        await tx.execute(
            "UPDATE prompts SET number = NULL WHERE id = ? AND message_id IS NULL", (prompt_id,)
        )

    async def prompt_posted(self, prompt_id: int, message_id: int, now: int) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE prompts SET posted_at = ?, message_id = ? WHERE id = ?",
                (now, message_id, prompt_id),
            )

    async def schedule_next_prompt(self, week: Week, after: int) -> int | None:
        async with self.db.transaction() as tx:
            due = await self._book_next_prompt(tx, week, after)
        self.scheduler.wake()
        return due

    async def _book_next_prompt(self, tx: Tx, week: Week, after: int) -> int | None:
        settings = await self.settings(week.guild_id, tx)
        due = next_slot(after, settings.tz, settings.at, settings.prompt_days, week.ends_at)
        if due is not None:
            await self.scheduler.insert(tx, due, PROMPT_EVENT, {"week_id": week.id}, week.guild_id)
        return due

    async def reschedule_prompts(self, week: Week, now: int) -> int | None:
        async with self.db.transaction() as tx:
            await self.scheduler.cancel_in(tx, PROMPT_EVENT, week_id=week.id)
            due = await self._book_next_prompt(tx, week, now)
        self.scheduler.wake()
        return due

    async def next_prompt_time(self, week: Week) -> int | None:
        pending = await self.scheduler.pending(PROMPT_EVENT, week_id=week.id)
        return pending[0].due_at if pending else None

    # --- ratings ----------------------------------------------------------------------

    async def rate(
        self,
        week_id: int,
        user_id: int,
        stars: int,
        take: str | None,
        now: int,
        *,
        author_name: str = "",
    ) -> tuple[Rating | None, int | None]:
        """Store a member's rating (replacing theirs) and, when the thread must change (a take to
        post, edit or remove), owe that, in one transaction. Returns the rating it replaced and
        the take's job id. Ratings at once from one member leave one take: the job is keyed by
        member and always posts the latest."""
        async with self.jobs.transaction() as tx:
            week = await self._require_running_in(tx, week_id)
            row = await tx.fetchone(
                "SELECT user_id, rating, review, take_message_id FROM viewings "
                "WHERE week_id = ? AND user_id = ?",
                (week_id, user_id),
            )
            previous = Rating(*row) if row else None
            settings = await self.settings(week.guild_id, tx)
            await record_week_rating(tx, week, user_id, stars, take, now, settings.tz)
            job_id = None
            had_take = previous is not None and (previous.take or previous.take_message_id)
            if take or had_take:
                job_id = await self.jobs.owe(
                    tx,
                    guild_id=week.guild_id,
                    kind=TAKE,
                    week_id=week_id,
                    payload={"user_id": user_id, "name": author_name},
                    key=f"take:{week_id}:{user_id}",
                )
        return previous, job_id

    async def set_take_message(self, week_id: int, user_id: int, message_id: int | None) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE viewings SET take_message_id = ? WHERE week_id = ? AND user_id = ?",
                (message_id, week_id, user_id),
            )

    async def rating(self, week_id: int, user_id: int) -> Rating | None:
        row = await self.db.fetchone(
            "SELECT user_id, rating, review, take_message_id FROM viewings "
            "WHERE week_id = ? AND user_id = ?",
            (week_id, user_id),
        )
        return Rating(*row) if row else None

    async def ratings(self, week_id: int) -> list[Rating]:
        rows = await self.db.fetchall(
            "SELECT user_id, rating, review, take_message_id FROM viewings WHERE week_id = ? "
            "ORDER BY logged_at",
            (week_id,),
        )
        return [Rating(*row) for row in rows]

    async def rating_count(self, week_id: int) -> int:
        return await self.db.fetchval("SELECT count(*) FROM viewings WHERE week_id = ?", (week_id,))

    # --- nominations and polls --------------------------------------------------------

    async def nominate(
        self, guild_id: int, user_id: int, title: str, year: int | None, now: int
    ) -> tuple[Nomination, bool]:
        """Nominate a film; the same title (and year) merges. Returns it and whether it merged.
        The checks and the write are one transaction: two members nominating one film at once
        make one nomination, and a member's fourth at once is refused."""
        key = fold(title)
        async with self.db.transaction() as tx:
            mine = await tx.fetchval(
                "SELECT count(*) FROM nominators n JOIN nominations m ON m.id = n.nomination_id "
                "WHERE m.guild_id = ? AND m.poll_id IS NULL AND m.closed_at IS NULL "
                "AND n.user_id = ? AND n.created_at > "
                "coalesce((SELECT max(created_at) FROM polls WHERE guild_id = ?), 0)",
                (guild_id, user_id, guild_id),
            )
            rows = await tx.fetchall(
                "SELECT id, title, year FROM nominations WHERE guild_id = ? AND poll_id IS NULL "
                "AND closed_at IS NULL AND title_key = ? ORDER BY id",
                (guild_id, key),
            )
            same = [r for r in rows if year is None or r["year"] in (None, year)]
            existing = next((r for r in same if r["year"] == year), same[0] if same else None)
            if existing is not None and await tx.fetchone(
                "SELECT 1 FROM nominators WHERE nomination_id = ? AND user_id = ?",
                (existing["id"], user_id),
            ):
                line = existing["title"] + (f" ({existing['year']})" if existing["year"] else "")
                raise UserError(f"You already nominated **{literal(line)}**.")
            if mine >= MAX_NOMINATIONS_PER_MEMBER:
                raise UserError(
                    f"You have nominated {MAX_NOMINATIONS_PER_MEMBER} films already this round; "
                    "the next poll starts a new one."
                )
            if existing is None:
                nomination_id = await tx.fetchval(
                    "INSERT INTO nominations (guild_id, title, title_key, year, created_at) "
                    "VALUES (?, ?, ?, ?, ?) RETURNING id",
                    (guild_id, title, key, year, now),
                )
            else:
                nomination_id = existing["id"]
                if existing["year"] is None and year is not None:
                    await tx.execute(
                        "UPDATE nominations SET year = ? WHERE id = ?", (year, nomination_id)
                    )
            await tx.execute(
                "INSERT INTO nominators (nomination_id, user_id, created_at) VALUES (?, ?, ?)",
                (nomination_id, user_id, now),
            )
        return await self.nomination(nomination_id), existing is not None

    async def screened(self, guild_id: int, title: str, year: int | None) -> Week | None:
        """The latest ended week of this film in the server, if it was screened before."""
        rows = await self.db.fetchall(
            "SELECT * FROM weeks WHERE guild_id = ? AND ended_at IS NOT NULL "
            "ORDER BY ended_at DESC",
            (guild_id,),
        )
        key = fold(title)
        return next(
            (
                self._week(row)
                for row in rows
                if fold(row["title"]) == key and (year is None or row["year"] in (None, year))
            ),
            None,
        )

    async def nomination(self, nomination_id: int) -> Nomination:
        row = await self.db.fetchone(
            "SELECT m.id, m.title, m.year, count(n.user_id) FROM nominations m "
            "LEFT JOIN nominators n ON n.nomination_id = m.id WHERE m.id = ? GROUP BY m.id",
            (nomination_id,),
        )
        return Nomination(*row)

    async def open_nominations(self, guild_id: int) -> list[Nomination]:
        rows = await self.db.fetchall(
            "SELECT m.id, m.title, m.year, count(n.user_id) AS c FROM nominations m "
            "LEFT JOIN nominators n ON n.nomination_id = m.id "
            "WHERE m.guild_id = ? AND m.poll_id IS NULL AND m.closed_at IS NULL "
            "GROUP BY m.id, m.left_out HAVING count(n.user_id) > 0 "
            "ORDER BY m.left_out DESC, c DESC, m.id",
            (guild_id,),
        )
        return [Nomination(*row) for row in rows]

    async def create_poll(
        self,
        guild_id: int,
        channel_id: int,
        created_by: int,
        now: int,
        hours: int,
        nominations: list[Nomination],
        *,
        left_out: list[Nomination] | None = None,
        runoff_hours: int | None = None,
    ) -> tuple[int, int]:
        """Close the round of nominations into a poll and owe its post, in one transaction; the
        answers' order is kept for reading the result. Nominations `left_out` (a poll holds
        ten) go first next time. Returns (poll id, job id)."""
        left_out = left_out or []
        async with self.jobs.transaction() as tx:
            marks = ", ".join("?" for _ in nominations)
            if await tx.fetchval(
                f"SELECT count(*) FROM nominations WHERE id IN ({marks}) AND poll_id IS NULL "
                "AND closed_at IS NULL",
                [n.id for n in nominations],
            ) != len(nominations):
                raise UserError("A poll of these nominations was just started.")
            poll_id = await tx.fetchval(
                "INSERT INTO polls (guild_id, channel_id, created_by, created_at, ends_at, hours, "
                "answers, runoff_hours) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    guild_id,
                    channel_id,
                    created_by,
                    now,
                    now + hours * 3600,
                    hours,
                    json.dumps([n.id for n in nominations]),
                    runoff_hours,
                ),
            )
            await tx.executemany(
                "UPDATE nominations SET poll_id = ?, left_out = 0 WHERE id = ?",
                [(poll_id, n.id) for n in nominations],
            )
            await tx.executemany(
                "UPDATE nominations SET left_out = left_out + 1 WHERE id = ?",
                [(n.id,) for n in left_out],
            )
            job_id = await self.jobs.owe(
                tx,
                guild_id=guild_id,
                kind=POLL,
                poll_id=poll_id,
                payload={"left_out": [n.film_line for n in left_out]},
            )
        return poll_id, job_id

    async def abandon_poll(self, poll_id: int) -> None:
        """Undo a poll Discord refused for good: its nominations are open again."""
        async with self.db.transaction() as tx:
            await tx.execute("UPDATE nominations SET poll_id = NULL WHERE poll_id = ?", (poll_id,))
            await drop_unnominated(tx)
            await self.jobs.drop(tx, poll_id=poll_id)
            await tx.execute("DELETE FROM polls WHERE id = ?", (poll_id,))

    @staticmethod
    async def reopen_poll(tx: Tx, poll_id: int, now: int) -> None:
        """A poll that could not be posted gives its nominations back to the next one."""
        await tx.execute(
            "UPDATE nominations SET poll_id = NULL WHERE poll_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM polls WHERE id = ? AND message_id IS NOT NULL)",
            (poll_id, poll_id),
        )
        await tx.execute(
            "UPDATE polls SET ended_at = ?, outcome = 'not posted' WHERE id = ? "
            "AND message_id IS NULL",
            (now, poll_id),
        )
        await drop_unnominated(tx)

    async def poll_of_message(self, message_id: int) -> Poll | None:
        """The open poll posted as this message, if it is one."""
        row = await self.db.fetchone(
            "SELECT * FROM polls WHERE message_id = ? AND ended_at IS NULL", (message_id,)
        )
        return Poll.from_row(row) if row else None

    async def poll_deleted(self, poll_id: int, now: int, outcome: str = "deleted") -> bool:
        """A poll whose message is gone ends its round: its nominations are open again (those
        with no nominator left are dropped) and nothing more is owed for it. False if it had
        ended already."""
        async with self.jobs.transaction() as tx:
            ended = await tx.execute(
                "UPDATE polls SET ended_at = ?, outcome = ? WHERE id = ? AND ended_at IS NULL",
                (now, outcome, poll_id),
            )
            if ended != 1:
                return False
            await tx.execute("UPDATE nominations SET poll_id = NULL WHERE poll_id = ?", (poll_id,))
            await drop_unnominated(tx)
            await tx.execute(
                "UPDATE jobs SET done_at = ? WHERE poll_id = ? AND done_at IS NULL "
                "AND given_up_at IS NULL",
                (now, poll_id),
            )
        return True

    async def poll_posted(self, poll: Poll, message_id: int, now: int) -> None:
        """The poll is up: when it ends (counted from now, as Discord does) its result is owed."""
        ends_at = now + poll.hours * 3600
        async with self.jobs.transaction() as tx:
            await tx.execute(
                "UPDATE polls SET message_id = ?, ends_at = ? WHERE id = ?",
                (message_id, ends_at, poll.id),
            )
            await self.jobs.owe(
                tx,
                guild_id=poll.guild_id,
                kind=POLL_CLOSE,
                poll_id=poll.id,
                key=f"poll_close:{poll.id}",
                due_at=ends_at + POLL_GRACE,
            )

    async def poll(self, poll_id: int) -> Poll | None:
        row = await self.db.fetchone("SELECT * FROM polls WHERE id = ?", (poll_id,))
        return Poll.from_row(row) if row else None

    async def open_poll(self, guild_id: int) -> Poll | None:
        row = await self.db.fetchone(
            "SELECT * FROM polls WHERE guild_id = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1",
            (guild_id,),
        )
        return Poll.from_row(row) if row else None

    async def finish_poll(
        self,
        poll: Poll,
        outcome: str,
        winner: Nomination | None,
        now: int,
        *,
        votes: int = 0,
        tied: list[Nomination] | None = None,
    ) -> bool:
        """Record how the poll ended and owe the announcement, in one transaction; False if it
        had already been finished. A tie is settled by a runoff of the tied films, as long as
        the first poll (a runoff that ties too is left to the moderators); every other
        nomination carries over to the next round with its nominators."""
        tied = tied or []
        async with self.jobs.transaction() as tx:
            finished = (
                await tx.execute(
                    "UPDATE polls SET ended_at = ?, outcome = ?, winner_title = ?, winner_year = ? "
                    "WHERE id = ? AND ended_at IS NULL",
                    (
                        now,
                        outcome,
                        winner.title if winner else None,
                        winner.year if winner else None,
                        poll.id,
                    ),
                )
            ) == 1
            if not finished:
                return False
            runoff = outcome == "tie" and poll.runoff_of is None
            runoff_hours = poll.runoff_hours or poll.hours
            runoff_ends = now + runoff_hours * 3600 if runoff else None
            # The announcement first, then the runoff it announces.
            await self.jobs.owe(
                tx,
                guild_id=poll.guild_id,
                kind=POLL_RESULT,
                poll_id=poll.id,
                payload={
                    "votes": votes,
                    "tied": [n.film_line for n in tied],
                    "runoff_ends": runoff_ends,
                },
            )
            await tx.execute("UPDATE nominations SET poll_id = NULL WHERE poll_id = ?", (poll.id,))
            if runoff:
                runoff_id = await tx.fetchval(
                    "INSERT INTO polls (guild_id, channel_id, created_at, ends_at, hours, answers, "
                    "runoff_of) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        poll.guild_id,
                        poll.channel_id,
                        now,
                        runoff_ends,
                        runoff_hours,
                        json.dumps([n.id for n in tied]),
                        poll.id,
                    ),
                )
                await tx.executemany(
                    "UPDATE nominations SET poll_id = ? WHERE id = ?",
                    [(runoff_id, n.id) for n in tied],
                )
                await self.jobs.owe(
                    tx,
                    guild_id=poll.guild_id,
                    kind=POLL,
                    poll_id=runoff_id,
                    payload={"left_out": []},
                )
            await drop_unnominated(tx)
        return True

    async def nominations_by_id(self, ids: list[int]) -> dict[int, Nomination]:
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = await self.db.fetchall(
            "SELECT m.id, m.title, m.year, count(n.user_id) FROM nominations m "
            f"LEFT JOIN nominators n ON n.nomination_id = m.id WHERE m.id IN ({marks}) "
            "GROUP BY m.id",
            ids,
        )
        return {row[0]: Nomination(*row) for row in rows}

    # --- members' data (see bot/members.py) -------------------------------------------

    MEMBER_TABLES = frozenset(
        {"guild_settings", "weeks", "prompts", "nominations", "nominators", "polls"}
    )
    # Moderators' bookkeeping that names a member: forgetting them blanks it.
    BLANKED = (
        "UPDATE weeks SET started_by = NULL WHERE started_by = ?",
        "UPDATE prompts SET added_by = NULL WHERE added_by = ?",
        "UPDATE polls SET created_by = NULL WHERE created_by = ?",
    )

    async def forget_member(self, tx: Tx, user_id: int, forgotten: Forgotten) -> None:
        """Ratings and takes (their posts removed from the threads, as owed jobs), nominations,
        and the member's name wherever a moderator's action recorded it."""
        takes = await tx.fetchall(
            "SELECT w.guild_id, w.id, coalesce(w.thread_id, w.channel_id), r.take_message_id "
            "FROM viewings r JOIN weeks w ON w.id = r.week_id "
            "WHERE r.user_id = ? AND r.take_message_id IS NOT NULL",
            (user_id,),
        )
        for guild_id, week_id, channel_id, message_id in takes:
            forgotten.jobs.append(
                await self.jobs.owe(
                    tx,
                    guild_id=guild_id,
                    kind=DELETE_POST,
                    week_id=week_id,
                    payload={"channel_id": channel_id, "message_id": message_id},
                )
            )
        forgotten.counts["ratings"] = await tx.execute(
            "DELETE FROM viewings WHERE user_id = ? AND week_id IS NOT NULL", (user_id,)
        )
        forgotten.counts["nominations"] = await tx.execute(
            "DELETE FROM nominators WHERE user_id = ?", (user_id,)
        )
        # A nomination in a running poll stays its answer until the poll ends (the poll's
        # answers cannot change under its voters); then it is dropped.
        await drop_unnominated(tx)
        for statement in self.BLANKED:
            await tx.execute(statement, (user_id,))

    async def export_member(self, user_id: int) -> dict[str, Any]:
        ratings = await self.db.fetchall(
            "SELECT w.guild_id, w.title, w.year, r.rating AS half_stars, r.review AS take, "
            "r.logged_at AS rated_at FROM viewings r JOIN weeks w ON w.id = r.week_id "
            "WHERE r.user_id = ?",
            (user_id,),
        )
        nominations = await self.db.fetchall(
            "SELECT m.guild_id, m.title, m.year, n.created_at FROM nominators n "
            "JOIN nominations m ON m.id = n.nomination_id WHERE n.user_id = ?",
            (user_id,),
        )
        return {"ratings": rows_as_dicts(ratings), "nominations": rows_as_dicts(nominations)}

    async def export_guild(self, guild_id: int) -> dict[str, Any]:
        weeks = await self.db.fetchall(
            "SELECT * FROM weeks WHERE guild_id = ? ORDER BY started_at", (guild_id,)
        )
        ratings = await self.db.fetchall(
            "SELECT r.week_id, r.user_id, r.rating AS half_stars, r.review AS take, "
            "r.take_message_id, r.logged_at AS rated_at FROM viewings r "
            "JOIN weeks w ON w.id = r.week_id WHERE w.guild_id = ?",
            (guild_id,),
        )
        return {"weeks": rows_as_dicts(weeks), "ratings": rows_as_dicts(ratings)}

    async def suggested_titles(self, guild_id: int) -> list[tuple[str, int | None, bool]]:
        """For `/film start`: (title, year, is the last poll's winner), the winner first unless
        a week started since, then the open nominations."""
        suggestions: list[tuple[str, int | None, bool]] = []
        winner = await self.db.fetchone(
            "SELECT winner_title, winner_year, created_at, ended_at FROM polls WHERE guild_id = ? "
            "AND winner_title IS NOT NULL ORDER BY ended_at DESC LIMIT 1",
            (guild_id,),
        )
        if winner is not None:
            # Any week since the poll ended, or this film's own week started while it ran.
            started = await self.db.fetchall(
                "SELECT title, started_at FROM weeks WHERE guild_id = ? AND started_at >= ?",
                (guild_id, winner["created_at"]),
            )
            started_since = any(
                row["started_at"] >= winner["ended_at"]
                or fold(row["title"]) == fold(winner["winner_title"])
                for row in started
            )
            if not started_since:
                suggestions.append((winner["winner_title"], winner["winner_year"], True))
        offered = {(title, year) for title, year, _ in suggestions}
        for nomination in await self.open_nominations(guild_id):
            if (nomination.title, nomination.year) not in offered:
                suggestions.append((nomination.title, nomination.year, False))
        return suggestions


async def drop_unnominated(tx: Tx) -> None:
    """Nominations no member stands behind any more (each nominator used forget-me), unless a
    running poll holds them as answers."""
    await tx.execute(
        "DELETE FROM nominations WHERE poll_id IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM nominators n WHERE n.nomination_id = nominations.id)"
    )


async def owe_screening_event(
    jobs: Jobs, tx: Tx, guild_id: int, week_id: int, screening_id: int
) -> int:
    """Owe making the screening's Discord event match it (created, changed or cancelled)."""
    return await jobs.owe(
        tx,
        guild_id=guild_id,
        kind=SCREENING_EVENT,
        week_id=week_id,
        payload={"screening_id": screening_id},
        key=f"screening_event:{screening_id}",
    )


async def owe_kickoff_edit(jobs: Jobs, tx: Tx, guild_id: int, week_id: int) -> int:
    """Owe bringing the week's kickoff up to date (edits in a row coalesce into one)."""
    return await jobs.owe(
        tx, guild_id=guild_id, kind=KICKOFF_EDIT, week_id=week_id, key=f"kickoff_edit:{week_id}"
    )


def already_running_message() -> str:
    return (
        "A film of the week is already running in this server. End it first with `/film end`, "
        "then start the next one."
    )
