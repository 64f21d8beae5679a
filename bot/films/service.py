"""Film of the week as data: settings, weeks, prompts, ratings (nominations and polls are
bot/films/vote.py, a week's screening bot/films/screenings.py). Ids and values in, rows out;
nothing here talks to Discord."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

from bot.db import Conflict, Database, Row, Rows, Tx, rows_as_dicts
from bot.diary.service import film_of_week_changed, record_week_rating
from bot.errors import UserError
from bot.essays.library import EssayInfo, Library, SectionInfo
from bot.films.schedule import next_slot, parse_time_of_day, slots_between, zone
from bot.films.vote import close_nominations
from bot.jobs import Jobs
from bot.members import Forgotten
from bot.text import NamesAFilm, fold

log = logging.getLogger(__name__)

# Timers: the week's prompt times, its end.
PROMPT_EVENT = "film_prompt"
END_EVENT = "film_end"
# Posts the film week owes (see bot/jobs.py).
KICKOFF = "kickoff"
KICKOFF_EDIT = "kickoff_edit"  # the kickoff shows the week as it now is (film, essay, screening)
PROMPT = "prompt"
TAKE = "take"
DIGEST = "digest"
DELETE_POST = "delete_post"
# What a week's screening owes and its reminders' timer (see bot/films/screenings.py): named
# here because ending or renaming a week changes its screening too.
SCREENING_EVENT = "screening_event"
REMINDER_EVENT = "screening_reminder"
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
class Week(NamesAFilm):
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
class QueuedTurn:
    """A queued question with the number it will be posted as, and when (None: no prompt time
    is left in the week)."""

    prompt: Prompt
    number: int
    at: int | None


@dataclass(frozen=True)
class PromptQueue:
    """What the week's prompt times will post: the queued questions in their turn, then the
    essay's sections not yet posted."""

    turns: list[QueuedTurn]
    next_section: SectionInfo | None
    sections_left: int
    numbered: int  # prompts already given a number (posted, or on their way)

    @property
    def empty(self) -> bool:
        return not self.turns and self.next_section is None

    @property
    def planned(self) -> int:
        """How many prompts the week will have, at most, as things stand."""
        return self.numbered + len(self.turns) + self.sections_left


@dataclass(frozen=True)
class Rating:
    user_id: int
    stars: int  # in half stars, 1 (½) to 10 (★★★★★)
    take: str | None
    take_message_id: int | None


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
        async with self.db.transaction(guild_id) as tx:
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
        async with self.db.transaction(guild_id) as tx:
            await tx.execute(
                "INSERT INTO guild_settings (guild_id) VALUES (?) ON CONFLICT DO NOTHING",
                (guild_id,),
            )
            for key, value in changes.items():
                await tx.execute(SETTING_COLUMNS[key], (value, guild_id))
        return await self.settings(guild_id)

    # --- weeks ------------------------------------------------------------------------

    @staticmethod
    def _week(row: Row) -> Week:
        return Week(**dict(row))

    async def week(self, week_id: int) -> Week | None:
        row = await self.db.fetchone("SELECT * FROM weeks WHERE id = ?", (week_id,))
        return self._week(row) if row else None

    async def guild_of_week(self, week_id: int) -> int | None:
        """The server of a week (it never changes: read before its server's lock is taken)."""
        guild_id: int | None = await self.db.fetchval(
            "SELECT guild_id FROM weeks WHERE id = ?", (week_id,)
        )
        return guild_id

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
            async with self.jobs.transaction(guild_id) as tx:
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
                await close_nominations(tx, guild_id, title, started_at)
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
        async with self.jobs.transaction(await self.guild_of_week(week_id)) as tx:
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
        async with self.jobs.transaction(guild_id) as tx:
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
        async with self.jobs.transaction(guild_id) as tx:
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
        count, average = await tx.one(
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

    # --- prompts ----------------------------------------------------------------------

    @staticmethod
    def _prompt(row: Row) -> Prompt:
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
        async with self.db.transaction(guild_id) as tx:
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
        async with self.db.transaction(guild_id) as tx:
            await self._require_running_in(tx, week_id)
            await tx.execute("UPDATE prompts SET removed = 1 WHERE id = ?", (prompt.id,))
        return prompt

    async def prompt_queue(self, week: Week) -> PromptQueue:
        """The queue as the prompt times will take it: each question's number and time, then
        the essay's next section (as `_plan` picks them)."""
        queued = await self.queued_prompts(week.id)
        numbered = int(
            await self.db.fetchval(
                "SELECT coalesce(max(number), 0) FROM prompts WHERE week_id = ?", (week.id,)
            )
        )
        taken = {
            row[0]
            for row in await self.db.fetchall(
                "SELECT section_id FROM prompts WHERE week_id = ? AND section_id IS NOT NULL",
                (week.id,),
            )
        }
        essay = self.library.essays.get(week.essay_id) if week.essay_id else None
        left = [s for s in essay.sections if s.id not in taken] if essay else []
        times = []
        if queued and (first := await self.next_prompt_time(week)) is not None:
            settings = await self.settings(week.guild_id)
            times = [
                first,
                *slots_between(first, week.ends_at, settings.tz, settings.at, settings.prompt_days),
            ]
        turns = [
            QueuedTurn(prompt, numbered + i, times[i - 1] if i <= len(times) else None)
            for i, prompt in enumerate(queued, 1)
        ]
        return PromptQueue(turns, left[0] if left else None, len(left), numbered)

    async def _plan(self, tx: Tx, week: Week) -> PlannedPrompt | None:
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

    async def owe_prompt(
        self, week_id: int, now: int, *, due_at: int | None = None
    ) -> tuple[int, int] | None:
        """Reserve the week's next prompt (its number, its question or section) and owe its post,
        in one transaction, so two at once never pick the same one. Returns (number, job id),
        or None when nothing is left."""
        async with self.jobs.transaction(await self.guild_of_week(week_id)) as tx:
            week = await self._require_running_in(tx, week_id)
            return await self._owe_prompt_in(tx, week, now, due_at)

    async def _owe_prompt_in(
        self, tx: Tx, week: Week, now: int, due_at: int | None = None
    ) -> tuple[int, int] | None:
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
    async def release_prompt(tx: Tx, prompt_id: int) -> None:
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
        async with self.db.transaction(week.guild_id) as tx:
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
        async with self.db.transaction(week.guild_id) as tx:
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
        async with self.jobs.transaction(await self.guild_of_week(week_id)) as tx:
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
        count: int = await self.db.fetchval(
            "SELECT count(*) FROM viewings WHERE week_id = ?", (week_id,)
        )
        return count

    # --- members' data (see bot/members.py) -------------------------------------------

    MEMBER_TABLES = frozenset({"guild_settings", "weeks", "prompts"})
    # Moderators' bookkeeping that names a member: forgetting them blanks it.
    BLANKED = (
        "UPDATE weeks SET started_by = NULL WHERE started_by = ?",
        "UPDATE prompts SET added_by = NULL WHERE added_by = ?",
    )

    async def forget_member(self, tx: Tx, user_id: int, forgotten: Forgotten) -> None:
        """Ratings and takes (their posts removed from the threads, as owed jobs), and the
        member's name wherever a moderator's action recorded it."""
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
        for statement in self.BLANKED:
            await tx.execute(statement, (user_id,))

    async def export_member(self, user_id: int) -> dict[str, Any]:
        ratings = await self.db.fetchall(
            "SELECT w.guild_id, w.title, w.year, r.rating AS half_stars, r.review AS take, "
            "r.logged_at AS rated_at FROM viewings r JOIN weeks w ON w.id = r.week_id "
            "WHERE r.user_id = ?",
            (user_id,),
        )
        return {"ratings": rows_as_dicts(ratings)}

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
