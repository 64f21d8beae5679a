"""The /film commands: settings, a week, prompts, the screening and the next film."""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Projectionist
from bot.diary.embeds import interest_line
from bot.diary.stars import CHOICES, from_stars
from bot.embeds import event_url, when
from bot.errors import UserError
from bot.films.embeds import (
    history_embed,
    nominations_embed,
    now_embed,
    prompt_list_embed,
    queued_reply,
    screened_note,
    settings_embed,
)
from bot.films.embeds import stars as render_stars
from bot.films.schedule import (
    local_line,
    match_zones,
    parse_days,
    parse_moment,
    parse_time_of_day,
    week_end,
    zone,
)
from bot.films.service import DIGEST, Films, Week, already_running_message
from bot.films.vote import POLL_ANSWERS, Vote
from bot.interactions import Interaction, guild_id_of, guild_of, now_epoch
from bot.jobs import GiveUp, Job, Jobs, Retry
from bot.text import film_line, literal, plural, truncate
from cogs._common import (
    CONFIRMATIONS,
    Confirmation,
    Text,
    confirm_view,
    essay_choices,
    is_moderator,
    require_manage_server,
    require_moderator,
)
from cogs._posting import describe
from cogs.films._poll_posts import PollPosts
from cogs.films._screening_posts import ScreeningPosts
from cogs.films._week_posts import WeekPosts, talk_place

log = logging.getLogger(__name__)

STAR_CHOICES = [app_commands.Choice(name=name, value=value) for name, value in CHOICES]

FIRST_FILM_YEAR, LAST_FILM_YEAR = 1870, 2100
FILM_WITH_YEAR = re.compile(r"^(?P<title>.+?)\s*\((?P<year>\d{4})\)$")
CHANNEL_MENTION = re.compile(r"<#(\d+)>|(\d{15,20})")
WATCHING_CHANNELS = (discord.VoiceChannel, discord.StageChannel)
WEEK_CHANNELS = (discord.TextChannel, discord.ForumChannel)


def split_title(title: str, year: int | None) -> tuple[str, int | None]:
    """`Heat (1995)` as typed or picked from autocomplete -> ("Heat", 1995). A year typed in
    the title obeys the same range as the `year` option."""
    title = " ".join(title.split())
    match = FILM_WITH_YEAR.match(title)
    if match and year is None:
        typed = int(match["year"])
        if not FIRST_FILM_YEAR <= typed <= LAST_FILM_YEAR:
            raise UserError(
                f"{typed} is not a film's year: give one from {FIRST_FILM_YEAR} to "
                f"{LAST_FILM_YEAR}, or leave it out."
            )
        return match["title"], typed
    return title, year


def resolve_where(guild: discord.Guild, where: str | None) -> tuple[int | None, str | None]:
    """A screening's place: a voice or stage channel (picked, mentioned or named) as its id,
    or anything else as a place written out."""
    if not where:
        return None, None
    mention = CHANNEL_MENTION.fullmatch(where.strip())
    if mention:
        channel = guild.get_channel(int(mention[1] or mention[2]))
        if isinstance(channel, WATCHING_CHANNELS):
            return channel.id, None
        raise UserError(
            "A screening in Discord is in a voice or stage channel; for anywhere else, write "
            "the place out (like `The Roxy, 8 Main St`)."
        )
    name = where.strip().lstrip("#🔊").strip().casefold()
    for channel in guild.channels:
        if isinstance(channel, WATCHING_CHANNELS) and channel.name.casefold() == name:
            return channel.id, None
    return None, where.strip()


class FilmsCog(commands.Cog, name="Films"):
    film = app_commands.Group(name="film", description="The film of the week", guild_only=True)
    prompt = app_commands.Group(
        name="prompt", description="The week's discussion prompts", parent=film
    )
    screening = app_commands.Group(
        name="screening", description="When the club watches the film together", parent=film
    )

    def __init__(self, bot: Projectionist) -> None:
        self.bot = bot

    @property
    def films(self) -> Films:
        return self.bot.films

    @property
    def vote(self) -> Vote:
        return self.bot.vote

    async def cog_unload(self) -> None:
        CONFIRMATIONS.pop("film-end", None)

    async def cog_load(self) -> None:
        CONFIRMATIONS["film-end"] = END_WEEK
        self.posts = WeekPosts(self.bot)
        self.posts.register()
        PollPosts(self.bot).register()
        ScreeningPosts(self.bot, self.posts).register()
        await self.posts.reconcile()

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.poll_messages_deleted(payload.guild_id, {payload.message_id})

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        await self.poll_messages_deleted(payload.guild_id, payload.message_ids)

    async def poll_messages_deleted(self, guild_id: int | None, message_ids: set[int]) -> None:
        """A moderator deleted a running poll: its round ends and its nominations are open
        again, at once (not when the poll would have closed)."""
        if guild_id is None:
            return
        for message_id in message_ids:
            poll = await self.vote.poll_of_message(message_id)
            if poll is not None and await self.vote.poll_deleted(poll.id, now_epoch()):
                log.info("Poll %s of server %s was deleted: its round ended", poll.id, guild_id)

    async def run_now(self, job_id: int) -> Job:
        """Try an owed post at once, for the reply to say how it went."""
        job = await self.bot.jobs.run(job_id)
        assert job is not None
        return job

    async def abandon(self, week_id: int) -> None:
        """A start Discord refused for good leaves nothing behind: no week, no kickoff."""
        week = await self.films.week(week_id)
        await self.films.abandon_start(week_id)
        if week is not None and week.kickoff_message_id is not None:
            try:
                channel = await self.posts.messageable(week.channel_id, "the week's channel")
                await channel.get_partial_message(week.kickoff_message_id).delete()
            except (discord.HTTPException, Retry, GiveUp) as error:
                log.warning("Could not delete the kickoff of an abandoned week: %s", error)

    async def tell_moderators(self, interaction: Interaction, jobs: list[Job]) -> None:
        if is_moderator(interaction) and (owed := owed_posts(self.bot.jobs, jobs)):
            await interaction.followup.send(owed, ephemeral=True)

    # --- autocomplete -----------------------------------------------------------------

    async def timezone_autocomplete(self, interaction: Interaction, current: str):
        return [app_commands.Choice(name=z, value=z) for z in match_zones(current)]

    async def title_autocomplete(self, interaction: Interaction, current: str):
        """The last poll's winner, the open nominations, then the films on most watchlists."""
        guild_id = guild_id_of(interaction)
        offered: list[tuple[str, str]] = []  # (the line chosen, the name shown)
        for title, year, won in await self.vote.suggested_titles(guild_id):
            line = film_line(title, year)
            offered.append((line, f"{line} — poll winner" if won else line))
        for film, wanted in await self.bot.services.diary.most_wanted(guild_id):
            lists = "watchlist" if wanted == 1 else "watchlists"
            offered.append((film.film_line, f"{film.film_line} — on {wanted} {lists}"))
        typed = current.casefold()
        choices: list[app_commands.Choice[str]] = []
        seen: set[str] = set()
        for line, name in offered:
            if (typed and typed not in line.casefold()) or line.casefold() in seen:
                continue
            seen.add(line.casefold())
            choices.append(app_commands.Choice(name=truncate(name, 100), value=line[:100]))
        return choices[:25]

    async def where_autocomplete(self, interaction: Interaction, current: str):
        typed = current.casefold().lstrip("#🔊 ")
        return [
            app_commands.Choice(name=f"🔊 {truncate(c.name, 90)}", value=c.mention)
            for c in guild_of(interaction).channels
            if isinstance(c, WATCHING_CHANNELS) and typed in c.name.casefold()
        ][:25]

    async def week_channel(
        self, interaction: Interaction
    ) -> discord.TextChannel | discord.ForumChannel:
        """The channel set with `/film settings`, or else the one the command was used in."""
        settings = await self.films.settings(guild_id_of(interaction))
        channel = (
            guild_of(interaction).get_channel(settings.channel_id)
            if settings.channel_id
            else interaction.channel
        )
        if not isinstance(channel, WEEK_CHANNELS):
            raise UserError(
                "The film of the week lives in a text or forum channel. Pick one with "
                "`/film settings channel:`."
            )
        return channel

    async def poll_channel(self, interaction: Interaction) -> discord.TextChannel:
        """The week's channel, unless it is a forum (which takes no poll): then the text
        channel the command was used in."""
        channel = await self.week_channel(interaction)
        if isinstance(channel, discord.TextChannel):
            return channel
        if isinstance(interaction.channel, discord.TextChannel):
            return interaction.channel
        raise UserError(
            f"A poll cannot be posted in the forum {channel.mention}: run `/film poll` in the "
            "text channel where members should vote."
        )

    # --- settings ---------------------------------------------------------------------

    @film.command(name="settings", description="Moderators: where and when the week runs")
    @app_commands.describe(
        channel="Where the week is posted: a text channel, or a forum (each week is a post)",
        timezone="The server's time zone, like America/New_York",
        prompt_time="Local time of day for prompts, like 18:00",
        prompt_days="daily, or days like mon,wed,fri",
        length_days="How many days a week lasts",
        threads="Open a thread for each week (on by default); off: the week runs in the channel",
        spoiler_takes="Hide takes as spoilers while the week runs (on by default)",
        moderator_role="Members with this role may run moderator commands (Manage Server only)",
        remove_moderator_role="Leave moderator commands to Manage Server alone",
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    async def settings(
        self,
        interaction: Interaction,
        channel: discord.TextChannel | discord.ForumChannel | None = None,
        timezone: str | None = None,
        prompt_time: str | None = None,
        prompt_days: str | None = None,
        length_days: app_commands.Range[int, 1, 28] | None = None,
        threads: bool | None = None,
        spoiler_takes: bool | None = None,
        moderator_role: discord.Role | None = None,
        remove_moderator_role: bool = False,
    ) -> None:
        guild_id = guild_id_of(interaction)
        role_change = moderator_role is not None or remove_moderator_role
        if role_change:
            require_manage_server(interaction, "choose the moderator role")
            if moderator_role is not None and remove_moderator_role:
                raise UserError("Choose a moderator role or remove it, not both.")
            if moderator_role is not None and (
                interaction.guild is None or interaction.guild.get_role(moderator_role.id) is None
            ):
                raise UserError("That role is not one of this server's roles; nothing was changed.")
            if moderator_role is not None and moderator_role.is_default():
                raise UserError(
                    "@everyone cannot be the moderator role: every member would moderate."
                )
        changes = {
            "channel_id": channel.id if channel else None,
            "timezone": zone(timezone).key if timezone else None,
            "prompt_time": parse_time_of_day(prompt_time).strftime("%H:%M")
            if prompt_time
            else None,
            "prompt_days": parse_days(prompt_days) if prompt_days else None,
            "length_days": length_days,
            "threads": None if threads is None else int(threads),
            "spoiler_takes": None if spoiler_takes is None else int(spoiler_takes),
        }
        if not role_change and not any(v is not None for v in changes.values()):
            settings = await self.films.settings(guild_id)
            await interaction.response.send_message(embed=settings_embed(settings), ephemeral=True)
            return
        require_moderator(interaction, "change the film of the week settings")
        if role_change:
            await self.films.set_moderator_role(
                guild_id, moderator_role.id if moderator_role else None
            )
        settings = await self.films.update_settings(guild_id, **changes)
        note = "Saved."
        week = await self.films.running_week(guild_id)
        if week is not None and any(changes[k] for k in ("timezone", "prompt_time", "prompt_days")):
            due = await self.films.reschedule_prompts(week, now_epoch())
            note += f" The running week's next prompt is now {when(due)}." if due else ""
        await interaction.response.send_message(
            note, embed=settings_embed(settings), ephemeral=True
        )

    # --- a week -----------------------------------------------------------------------

    @film.command(name="start", description="Moderators: start the film of the week")
    @app_commands.describe(title="The film", year="Its year", essay="An essay to discuss with it")
    @app_commands.autocomplete(title=title_autocomplete, essay=essay_choices)
    async def start(
        self,
        interaction: Interaction,
        title: app_commands.Transform[str, Text("film title", 100)],
        year: app_commands.Range[int, 1870, 2100] | None = None,
        essay: str | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        require_moderator(interaction, "start a film week")
        title, year = split_title(title, year)
        if await self.films.running_week(guild_id):
            raise UserError(already_running_message())
        found = self.bot.library.resolve_essay(guild_id, essay) if essay else None
        settings = await self.films.settings(guild_id)
        channel = await self.week_channel(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = now_epoch()
        week, job_id = await self.films.start_week(
            guild_id=guild_id,
            title=title,
            year=year,
            essay_id=found.id if found else None,
            channel_id=channel.id,
            started_by=interaction.user.id,
            started_at=now,
            ends_at=week_end(now, settings.tz, settings.length_days),
            forum=isinstance(channel, discord.ForumChannel),
        )
        kickoff = await self.run_now(job_id)
        film = literal(week.film_line)
        if kickoff.given_up:
            await self.abandon(week.id)
            raise UserError(f"{kickoff.last_error} Nothing was started.")
        if kickoff.done:
            thread_id = (kickoff.result or {})["thread_id"]
            text = (
                f"Started **{film}** in {channel.mention}; the discussion is in <#{thread_id}>."
                if thread_id != channel.id
                else f"Started **{film}** in {channel.mention}, where the talk and prompts will be."
            )
        else:
            text = (
                f"Started **{film}**. Its kickoff and thread will be posted in {channel.mention} "
                f"when Discord accepts them ({kickoff.last_error}); `/film now` shows how it goes."
            )
        await interaction.followup.send(text, ephemeral=True)

    @film.command(name="edit", description="Moderators: change the running week's film or essay")
    @app_commands.describe(
        title="The film", year="Its year", essay="An essay to discuss with it from now on"
    )
    @app_commands.autocomplete(title=title_autocomplete, essay=essay_choices)
    async def edit(
        self,
        interaction: Interaction,
        title: app_commands.Transform[str, Text("film title", 100)] | None = None,
        year: app_commands.Range[int, 1870, 2100] | None = None,
        essay: str | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        require_moderator(interaction, "change the film week")
        week = await self.films.require_running_week(guild_id)
        if title is None and year is None and essay is None:
            raise UserError("Give a new title, year or essay for the week.")
        if title is not None:
            title, year = split_title(title, year)
        found = self.bot.library.resolve_essay(guild_id, essay) if essay else None
        edited = await self.films.edit_week(
            week.id,
            guild_id,
            title=title,
            year=year,
            essay_id=found.id if found else None,
            now=now_epoch(),
        )
        essay_note = f" Prompts now draw from *{literal(found.title)}*." if found else ""
        await interaction.response.send_message(
            f"The week is now **{literal(edited.film_line)}**.{essay_note}",
            ephemeral=True,
        )

    @film.command(name="now", description="The film of the week: its thread, next prompt, ratings")
    async def now(self, interaction: Interaction) -> None:
        guild_id = guild_id_of(interaction)
        week = await self.films.running_week(guild_id)
        if week is None:
            # An ended week may still owe its digest: moderators hear of it here too.
            owed = owed_posts(self.bot.jobs, await self.bot.jobs.outstanding(guild_id))
            note = f"\n\n{owed}" if owed and is_moderator(interaction) else ""
            raise UserError(
                "No film of the week is running. A moderator can start one with `/film start`."
                + note
            )
        essay = self.bot.library.essays.get(week.essay_id) if week.essay_id else None
        embed = now_embed(
            week,
            essay,
            await self.films.next_prompt_time(week),
            await self.films.rating_count(week.id),
            await self.bot.screenings.of_week(week.id),
            await self.films.prompt_queue(week),
        )
        await interaction.response.send_message(embed=embed)
        mine = await self.films.rating(week.id, interaction.user.id)
        if mine is not None:
            await interaction.followup.send(
                f"Your rating: {render_stars(mine.stars)} (only you can see this until the week ends).",
                ephemeral=True,
            )
        await self.tell_moderators(
            interaction, await self.bot.jobs.outstanding(guild_id, week_id=week.id)
        )

    @film.command(name="end", description="Moderators: end the week now and post its digest")
    async def end(self, interaction: Interaction) -> None:
        require_moderator(interaction, "end the film week")
        week = await self.films.require_running_week(guild_id_of(interaction))
        screening = await self.bot.screenings.of_week(week.id)
        called_off = (
            f" Its screening ({when(screening.starts_at)}) is called off with it: its Discord "
            "event is cancelled and no reminders are posted."
            if screening is not None and screening.starts_at > now_epoch()
            else ""
        )
        await interaction.response.send_message(
            f"End the week of **{literal(week.film_line)}** now? Its "
            f"digest is posted at once (the week would end on its own {when(week.ends_at, 'R')})."
            + called_off,
            view=confirm_view("film-end", week.id, interaction.user.id),
            ephemeral=True,
        )

    @film.command(name="rate", description="Rate the film of the week, with an optional take")
    @app_commands.describe(stars="½ to 5 stars", take="What you thought (at most 500 characters)")
    @app_commands.choices(stars=STAR_CHOICES)
    async def rate(
        self,
        interaction: Interaction,
        stars: float,
        take: app_commands.Transform[str, Text("take", 500, lines=True)] | None = None,
    ) -> None:
        week = await self.films.require_running_week(guild_id_of(interaction))
        halves = from_stars(stars)
        take = take.strip() if take else None
        await interaction.response.defer(ephemeral=True, thinking=True)
        previous, job_id = await self.films.rate(
            week.id,
            interaction.user.id,
            halves,
            take,
            now_epoch(),
            author_name=interaction.user.display_name,
        )
        note = ""
        if job_id is not None:
            job = await self.run_now(job_id)
            place = talk_place(week)
            if not take:
                note = "" if job.done else f" Your old take will be removed from {place}."
            elif job.done:
                note = f" Your take is in {place}."
            elif job.given_up:
                note = f" Your take could not be posted in {place}: {job.last_error}"
            else:
                note = " " + on_its_way(job, f"Your take will be posted in {place}")
        verb = "Updated" if previous else "Saved"
        await interaction.followup.send(
            f"{verb} your rating of **{literal(week.film_line)}**: "
            f"{render_stars(halves)}. Ratings are revealed when the week ends.{note}",
            ephemeral=True,
        )

    @film.command(name="history", description="Past films of the week and how they were rated")
    async def history(self, interaction: Interaction) -> None:
        guild_id = guild_id_of(interaction)
        weeks = await self.films.history(guild_id)
        await interaction.response.send_message(embed=history_embed(weeks, guild_id))
        await self.tell_moderators(
            interaction,
            await self.bot.jobs.outstanding(guild_id, kinds=(DIGEST,)),
        )

    # --- prompts ----------------------------------------------------------------------

    @prompt.command(name="add", description="Moderators: queue a question for this week")
    @app_commands.describe(text="The question")
    async def prompt_add(
        self,
        interaction: Interaction,
        text: app_commands.Transform[str, Text("question", 1000, lines=True)],
    ) -> None:
        guild_id = guild_id_of(interaction)
        require_moderator(interaction, "queue prompts")
        week = await self.films.require_running_week(guild_id)
        position = await self.films.add_prompt(
            week.id, guild_id, text.strip(), interaction.user.id, now_epoch()
        )
        queue = await self.films.prompt_queue(week)
        await interaction.response.send_message(queued_reply(position, queue), ephemeral=True)

    @prompt.command(name="list", description="Moderators: the queue and what was posted")
    async def prompt_list(self, interaction: Interaction) -> None:
        guild_id = guild_id_of(interaction)
        require_moderator(interaction, "see the prompt queue")
        week = await self.films.require_running_week(guild_id)
        embed = prompt_list_embed(
            week,
            await self.films.prompt_queue(week),
            await self.films.posted_prompts(week.id),
            guild_id,
            self.bot.library.essays.get(week.essay_id) if week.essay_id else None,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @prompt.command(name="remove", description="Moderators: take a question out of the queue")
    @app_commands.describe(number="Its number in /film prompt list")
    async def prompt_remove(
        self, interaction: Interaction, number: app_commands.Range[int, 1, 1000]
    ) -> None:
        guild_id = guild_id_of(interaction)
        require_moderator(interaction, "remove prompts")
        week = await self.films.require_running_week(guild_id)
        removed = await self.films.remove_prompt(week.id, guild_id, number)
        await interaction.response.send_message(
            f"Removed from the queue: “{truncate(removed.text, 200)}”", ephemeral=True
        )

    @prompt.command(name="now", description="Moderators: post the next prompt immediately")
    async def prompt_now(self, interaction: Interaction) -> None:
        require_moderator(interaction, "post prompts")
        week = await self.films.require_running_week(guild_id_of(interaction))
        await interaction.response.defer(ephemeral=True, thinking=True)
        owed = await self.films.owe_prompt(week.id, now_epoch())
        if owed is None:
            raise UserError("Nothing is left to post: queue a question with `/film prompt add`.")
        number, job_id = owed
        job = await self.run_now(job_id)
        where = f"<#{week.thread_id}>" if week.thread_id else "the week's thread"
        if job.given_up:
            raise UserError(f"{job.last_error} Prompt {number} goes back to its turn.")
        text = (
            f"Posted prompt {number} in {where}."
            if job.done
            else on_its_way(job, f"Prompt {number} will be posted in {where}")
        )
        await interaction.followup.send(text, ephemeral=True)

    # --- the screening ----------------------------------------------------------------

    @screening.command(
        name="set", description="Moderators: when and where the club watches the film together"
    )
    @app_commands.rename(starts="when")
    @app_commands.describe(
        starts="Local date and time, like 2026-12-05 20:00, saturday 20:00 or tomorrow 8pm",
        where="A voice or stage channel, or a place written out",
        note="A word for the members (what to bring, where to stream it)",
    )
    @app_commands.autocomplete(where=where_autocomplete)
    async def screening_set(
        self,
        interaction: Interaction,
        starts: app_commands.Transform[str, Text("date and time", 60)],
        where: app_commands.Transform[str, Text("place", 100)] | None = None,
        note: app_commands.Transform[str, Text("note", 300, lines=True)] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        require_moderator(interaction, "plan the screening")
        week = await self.films.require_running_week(guild_id)
        settings = await self.films.settings(guild_id)
        starts_at = parse_moment(starts, settings.tz, now_epoch())
        channel_id, place = resolve_where(guild_of(interaction), where)
        await interaction.response.defer(ephemeral=True, thinking=True)
        screening, moved, job_id, reminders = await self.bot.screenings.schedule(
            guild_id=guild_id,
            week_id=week.id,
            week_ends_at=week.ends_at,
            starts_at=starts_at,
            channel_id=channel_id,
            place=place,
            note=note.strip() if note else None,
            by=interaction.user.id,
            now=now_epoch(),
            tz=settings.tz,
        )
        event = await self.run_now(job_id)
        film = literal(week.film_line)
        local = f"{local_line(starts_at, settings.tz)} ({settings.timezone})"
        text = (
            f"{'Moved the screening' if moved else 'The screening'} of **{film}** "
            f"{'to' if moved else 'is'} {local}, in {screening.where}. {reminders_line(reminders, talk_place(week))}"
        )
        if event.done:
            text += f" The event: {event_url(guild_id, (event.result or {})['event_id'])}"
        elif event.given_up:
            text += f"\n⚠️ Its Discord event could not be made: {event.last_error}"
        else:
            text += " " + on_its_way(event, "Its Discord event will be made")
        await interaction.followup.send(text, ephemeral=True)

    @screening.command(name="cancel", description="Moderators: call off the week's screening")
    async def screening_cancel(self, interaction: Interaction) -> None:
        guild_id = guild_id_of(interaction)
        require_moderator(interaction, "cancel the screening")
        week = await self.films.require_running_week(guild_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        _, job_id = await self.bot.screenings.cancel(week.id, guild_id, now_epoch())
        event = await self.run_now(job_id)
        text = (
            f"Cancelled the screening of **{literal(week.film_line)}**; "
            "no reminders will be posted."
        )
        if event.given_up:
            text += f"\n⚠️ Its Discord event could not be cancelled: {event.last_error}"
        elif not event.done:
            text += " " + on_its_way(event, "Its Discord event will be cancelled")
        await interaction.followup.send(text, ephemeral=True)

    # --- the next film ----------------------------------------------------------------

    @film.command(name="nominate", description="Put a film forward for a future week")
    @app_commands.describe(title="The film", year="Its year")
    async def nominate(
        self,
        interaction: Interaction,
        title: app_commands.Transform[str, Text("film title", 100)],
        year: app_commands.Range[int, 1870, 2100] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        title, year = split_title(title, year)
        nomination, merged = await self.vote.nominate(
            guild_id, interaction.user.id, title, year, now_epoch()
        )
        film = literal(nomination.film_line)
        screened = await self.films.screened(guild_id, title, year)
        note = screened_note(screened) if screened else ""
        count = plural(nomination.nominators, "nomination")
        text = (
            f"{interaction.user.mention} seconded **{film}**{note} ({count})."
            if merged
            else f"{interaction.user.mention} nominated **{film}**{note}."
        )
        [(wanted, seen)] = await self.bot.services.diary.interest(
            guild_id_of(interaction), [(nomination.title, nomination.year)]
        )
        if among := interest_line(wanted, seen):
            text += f"\n-# It is {among}."
        await interaction.response.send_message(text)

    @film.command(name="nominations", description="Films nominated for a future week")
    async def nominations(self, interaction: Interaction) -> None:
        guild_id = guild_id_of(interaction)
        nominations = await self.vote.open_nominations(guild_id)
        poll = await self.vote.open_poll(guild_id)
        await interaction.response.send_message(embed=nominations_embed(nominations, poll))

    @film.command(
        name="poll", description="Moderators: a poll of the nominations for the next film"
    )
    @app_commands.describe(
        hours="How long the poll runs (default 24)",
        runoff_hours="How long a runoff runs if the poll ties (default: as long as the poll)",
    )
    async def poll(
        self,
        interaction: Interaction,
        hours: app_commands.Range[int, 1, 168] = 24,
        runoff_hours: app_commands.Range[int, 1, 168] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        require_moderator(interaction, "start a poll")
        nominated = await self.vote.open_nominations(guild_id)
        nominations, left_out = nominated[:POLL_ANSWERS], nominated[POLL_ANSWERS:]
        if len(nominations) < 2:
            raise UserError(
                "A poll needs at least two nominations; members add them with `/film nominate`."
            )
        channel = await self.poll_channel(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        counts = await self.bot.services.diary.interest(
            guild_id_of(interaction), [(n.title, n.year) for n in nominations]
        )
        interest = [
            f"**{literal(n.film_line)}** {among}"
            for n, (wanted, seen) in zip(nominations, counts, strict=True)
            if (among := interest_line(wanted, seen))
        ]
        poll_id, job_id = await self.vote.create_poll(
            guild_id,
            channel.id,
            interaction.user.id,
            now_epoch(),
            hours,
            nominations,
            left_out=left_out,
            runoff_hours=runoff_hours,
            interest=interest,
        )
        job = await self.run_now(job_id)
        if job.given_up:
            await self.vote.abandon_poll(poll_id)
            raise UserError(f"{job.last_error} The nominations stay open.")
        if job.done:
            poll = await self.vote.poll(poll_id)
            until = f" until {when(poll.ends_at)}" if poll is not None else ""
            text = f"The poll is up in {channel.mention}{until}."
        else:
            text = on_its_way(job, f"The poll will be posted in {channel.mention}")
        await interaction.followup.send(text, ephemeral=True)


async def load_week(interaction: Interaction, week_id: int) -> Week | None:
    return await interaction.client.films.week(week_id)


def require_week_ender(interaction: Interaction, _week: Week) -> None:
    require_moderator(interaction, "end the film week")


async def end_week_confirmed(interaction: Interaction, week: Week) -> str:
    bot = interaction.client
    screening = await bot.screenings.of_week(week.id)
    digests = await bot.films.end_week(week.id, guild_id_of(interaction), now_epoch())
    if digests is None:
        return "That week has already ended."
    jobs = [job for job_id in digests if (job := await bot.jobs.run(job_id)) is not None]
    film = literal(week.film_line)
    screening = await bot.screenings.get(screening.id) if screening else None
    called_off = (
        " Its screening is called off: no reminders will be posted."
        if screening is not None and screening.cancelled_at is not None
        else ""
    )
    if all(job.done for job in jobs):
        also = " and the thread" if week.has_thread else ""
        return f"Ended **{film}**; the digest is posted in <#{week.channel_id}>{also}.{called_off}"
    problems = "; ".join(describe(bot.jobs, job) or "" for job in jobs if not job.done)
    return f"Ended **{film}**.{called_off} {problems} `/film history` shows how it goes."


END_WEEK = Confirmation(
    "End the week",
    "Keep it running",
    "Kept running: nothing was ended.",
    load=load_week,
    server_of=lambda week: week.guild_id,
    may=require_week_ender,
    act=end_week_confirmed,
    gone="That week is no longer here; nothing was ended.",
)


def reminders_line(reminders: list[str], place: str) -> str:
    """What the week's talk (`place`) will be reminded of, as booked (a reminder whose time has
    passed is not)."""
    if len(reminders) == 2:
        return f"Reminders go to {place} the day before at the same time and 15 minutes before."
    if reminders == ["soon"]:
        return (
            f"A reminder goes to {place} 15 minutes before (it is too late for the one the "
            "day before)."
        )
    if reminders == ["day"]:
        return f"A reminder goes to {place} the day before at the same time."
    return "It starts too soon for reminders: none will be posted."


def on_its_way(job: Job, what: str) -> str:
    """A reply about a post Discord has not accepted yet: only what is true."""
    return f"{what} when Discord accepts it ({job.last_error})."


def owed_posts(jobs: Jobs, owed: list[Job]) -> str:
    """What moderators should know of the posts still owed, or nothing."""
    lines = [line for job in owed if (line := describe(jobs, job))]
    return truncate_lines(["⚠️ Owed posts:", *(f"• {line}" for line in lines)]) if lines else ""


def truncate_lines(lines: list[str], limit: int = 1900) -> str:
    text = ""
    for line in lines:
        if len(text) + len(line) + 1 > limit:
            return text + "\n…"
        text = f"{text}\n{line}" if text else line
    return text
