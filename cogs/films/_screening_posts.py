"""What a week's screening owes Discord: its scheduled event (created, moved, cancelled), a note
in the week's thread when it is set, moved or cancelled, and the two reminders. Each is a durable
job (bot/jobs.py); the reminders' timers follow the catch-up policy of prompts."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TypeGuard

import discord

from bot.client import Projectionist
from bot.db import Tx
from bot.embeds import COLOUR, jump_url
from bot.films.embeds import interested, screening_text
from bot.films.screenings import (
    LENGTH,
    REMINDER,
    SCREENING_NOTE,
    SOON,
    Screening,
)
from bot.films.service import REMINDER_EVENT, SCREENING_EVENT, Week
from bot.interactions import now_epoch
from bot.jobs import GiveUp, Job, Kind, Label, Retry
from bot.text import clip, literal, truncate
from bot.timers import Timer
from cogs._posting import DISCORD_FAILURES, Posts, failure, has_marker, marked
from cogs.films._week_posts import CATCH_UP_LIMIT, WeekPosts, discussion

log = logging.getLogger(__name__)

EVENT_SEARCH = 100  # how many of a server's events an interrupted job looks through
NOTE_TITLES = {
    "set": "Screening: {film}",
    "moved": "The screening of {film} has moved",
    "cancelled": "The screening of {film} is cancelled",
}


def event_mark(screening: Screening) -> str:
    """What marks a Discord event as this screening's (at the end of its link to the week)."""
    return f"#pjs{screening.id}"


def event_failure(error: BaseException) -> Retry | GiveUp:
    if isinstance(error, discord.Forbidden):
        return GiveUp(
            "I am not allowed to create events in this server: give me Create Events "
            "(Server Settings → Roles)."
        )
    if isinstance(error, discord.NotFound):
        return GiveUp(
            "The event was deleted in Discord while I was changing it: set the screening again "
            "with `/film screening set` to make a new one."
        )
    return failure(error, "this server", "make the screening's event in")


class ScreeningPosts(Posts):
    def __init__(self, bot: Projectionist, posts: WeekPosts) -> None:
        super().__init__(bot)
        self.posts = posts
        self.screenings = bot.screenings

    def register(self) -> None:
        jobs = self.bot.jobs
        jobs.register(
            SCREENING_EVENT,
            Kind(
                self.make_event,
                label=Label("The screening's Discord event", done="made to match"),
            ),
        )
        jobs.register(
            SCREENING_NOTE,
            Kind(self.post_note, label=Label("The screening's note in the thread")),
        )
        jobs.register(
            REMINDER,
            Kind(self.post_reminder, max_age=CATCH_UP_LIMIT, label=Label("A screening reminder")),
        )
        self.bot.scheduler.register(REMINDER_EVENT, self.on_reminder_timer)

    async def _screening(self, job: Job) -> tuple[Screening, Week]:
        screening = await self.screenings.get(job.payload["screening_id"])
        week = await self.bot.films.week(screening.week_id) if screening else None
        if screening is None or week is None:
            raise GiveUp("the screening was removed")
        return screening, week

    # --- the Discord event ------------------------------------------------------------

    async def make_event(self, job: Job) -> dict:
        """Make the server's event match the screening: create it, move it, or cancel it."""
        screening, week = await self._screening(job)
        guild = self.bot.get_guild(screening.guild_id)
        if guild is None:
            raise GiveUp("I am no longer in that server")
        try:
            # An attempt may have made the event and not heard so (Discord answered 500, or
            # the bot failed before recording it): that event is found by its mark, then
            # moved or cancelled like any other, never left behind.
            event = await self._event_of(guild, screening)
            if screening.cancelled_at is not None:
                if event is not None and event.status is discord.EventStatus.scheduled:
                    await event.cancel()
                return {}
            fields = await self._event_fields(guild, screening, week)
            if event is not None:
                await event.edit(**fields)
            else:
                event = await guild.create_scheduled_event(**fields)
        except DISCORD_FAILURES as error:
            raise event_failure(error) from error
        if event.id != screening.event_id:
            await self.screenings.event_made(screening.id, event.id)
        return {"event_id": event.id}

    async def _event_of(
        self, guild: discord.Guild, screening: Screening
    ) -> discord.ScheduledEvent | None:
        """The screening's event still to come: the one recorded, or else one the bot made for
        it (its description carries the screening's mark)."""
        if screening.event_id is not None:
            try:
                event = await guild.fetch_scheduled_event(screening.event_id)
                if event.status is discord.EventStatus.scheduled:
                    return event
            except discord.NotFound:
                pass  # deleted in Discord: a new one is made
        for event in await guild.fetch_scheduled_events(with_counts=False):
            if (
                event.creator_id == self.own_id
                and event.status is discord.EventStatus.scheduled
                and event_mark(screening) in (event.description or "")
            ):
                return event
        return None

    async def _event_fields(self, guild: discord.Guild, screening: Screening, week: Week) -> dict:
        start = datetime.fromtimestamp(screening.starts_at, UTC)
        end = datetime.fromtimestamp(screening.starts_at + LENGTH, UTC)
        lines = [screening.note] if screening.note else []
        lines.append(f"The film of the week in {guild.name}.")
        talk = jump_url(week.guild_id, week.thread_id or week.channel_id)
        lines.append(f"Talk about it: {talk}{event_mark(screening)}")
        essay = self.bot.library.essays.get(week.essay_id) if week.essay_id else None
        if essay is not None:
            lines.append(f"Read with it: {literal(essay.title)} (`/essay read`)")
        fields: dict = {
            "name": truncate(f"Screening: {week.film_line}", 100),
            "description": clip("\n".join(lines), 1000),
            "start_time": start,
            "end_time": end,
        }
        if screening.channel_id is None:
            fields["entity_type"] = discord.EntityType.external
            fields["location"] = truncate(screening.place or "Wherever you watch", 100)
            return fields
        channel = guild.get_channel(screening.channel_id)
        if not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
            raise GiveUp(
                f"<#{screening.channel_id}> is gone: move the screening with `/film screening "
                "set where:`."
            )
        fields["channel"] = channel
        fields["entity_type"] = (
            discord.EntityType.stage_instance
            if isinstance(channel, discord.StageChannel)
            else discord.EntityType.voice
        )
        return fields

    # --- posts in the week's thread ---------------------------------------------------

    async def post_note(self, job: Job) -> dict:
        """Tell the thread the screening was set, moved or cancelled, with the event's link
        (so it waits, a little, for the event being made)."""
        screening, week = await self._screening(job)
        what = job.payload.get("what", "set")
        if what != "cancelled" and await self.bot.jobs.owed(f"screening_event:{screening.id}"):
            raise Retry("waiting for the screening's Discord event", after=10)
        if not week.running:
            return {}
        title = NOTE_TITLES[what].format(film=week.film_shown(200))
        embed = discord.Embed(title=title, colour=COLOUR)
        if what == "cancelled":
            embed.description = "It will not take place. The discussion goes on here."
        else:
            embed.description = screening_text(screening) + (
                "\nSay you are coming: mark yourself **Interested** on the event."
                if screening.event_id
                else ""
            )
        return await self._post(job, week, embed)

    async def _post(self, job: Job, week: Week, embed: discord.Embed) -> dict:
        thread = await self.posts.discussion_channel(week)
        marked(embed, job, week.guild_id, week.thread_id or week.channel_id)
        message = await self.send(thread, job, discussion(week), has_marker(job), embed=embed)
        return {"message_id": message.id}

    # --- reminders --------------------------------------------------------------------

    def _still_due(
        self, screening: Screening | None, which: str, starts_at: int
    ) -> TypeGuard[Screening]:
        """A reminder is for the screening as it stands: not cancelled, not moved, not begun;
        the day-before one is left to the 15-minute one once that is due."""
        if screening is None or screening.cancelled_at or screening.starts_at != starts_at:
            return False
        now = now_epoch()
        return now < screening.starts_at - (SOON if which == "day" else 0)

    async def on_reminder_timer(self, tx: Tx, timer: Timer) -> None:
        """The reminder owed with the timer's claim, if the screening still calls for it."""
        payload = timer.payload
        screening = await self.screenings.get(payload["screening_id"], tx)
        if not self._still_due(screening, payload["which"], payload["starts_at"]):
            return
        if timer.lateness(now_epoch()) > CATCH_UP_LIMIT:
            log.info(
                "Skipped a reminder of screening %s, %ss late",
                screening.id,
                timer.lateness(now_epoch()),
            )
            return
        await self.screenings.owe_reminder(tx, screening, payload["which"])

    async def post_reminder(self, job: Job) -> dict:
        screening, week = await self._screening(job)
        which = job.payload["which"]
        if not week.running or not self._still_due(screening, which, job.payload["starts_at"]):
            return {"skipped": True}
        screening = await self.posts.interest(screening)
        film = week.film_shown(200)
        title = (
            f"Screening tomorrow: {film}" if which == "day" else f"Starting in 15 minutes: {film}"
        )
        embed = discord.Embed(title=title, colour=COLOUR)
        lines = [screening_text(screening)]
        if screening.interested is not None:
            lines.append(interested(screening.interested))
        embed.description = clip("\n".join(lines), 4000)
        return await self._post(job, week, embed)
