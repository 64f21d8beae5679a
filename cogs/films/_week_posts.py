"""What the film week posts: the kickoff and its thread, prompts, takes and digests. Each is a durable job (bot/jobs.py) owed by the change that calls for it; the handlers
here post it once and record what they posted (cogs/_posting.py: markers, Discord's failures
as a retry or a reason to give up that moderators see)."""

from __future__ import annotations

import dataclasses
import logging
import random
from collections import Counter
from datetime import UTC, datetime

import discord

from bot.client import Projectionist
from bot.db import Tx
from bot.embeds import jump_url
from bot.essays.library import pick_passage
from bot.films.embeds import (
    Highlight,
    TakeLine,
    digest_embed,
    kickoff_embed,
    prompt_embed,
    take_embed,
)
from bot.films.schedule import slots_between
from bot.films.screenings import Screening
from bot.films.service import (
    DELETE_POST,
    DIGEST,
    END_EVENT,
    KICKOFF,
    KICKOFF_EDIT,
    PROMPT,
    PROMPT_EVENT,
    TAKE,
    Films,
    Week,
    summarize_ratings,
)
from bot.interactions import now_epoch, track_message
from bot.jobs import GiveUp, Job, Kind, Label, Retry
from bot.shards import owns
from bot.text import literal, truncate
from bot.timers import Timer
from cogs._essay_ui import OpenSectionButton
from cogs._posting import (
    DISCORD_FAILURES,
    UNKNOWN_MESSAGE,
    PostChannel,
    Posts,
    failure,
    has_marker,
    marked,
    week_id_of,
)

log = logging.getLogger(__name__)

CATCH_UP_LIMIT = 6 * 3600  # a prompt missed by less than this is posted once on return
HISTORY_LIMIT = 2000
EVERYONE = 0  # owner id for buttons anyone may use privately
THREAD_WAIT = 60  # seconds between looks for a week's thread that is not open yet


def discussion(week: Week) -> str:
    """Where the week's talk and prompts are, as a moderator reads it in a failure."""
    return (
        f"the thread of {literal(week.film_line)}" if week.has_thread else f"<#{week.channel_id}>"
    )


def talk_place(week: Week) -> str:
    """Where the week's talk is, as a member's reply names it: its thread, its forum post, or
    the channel itself for a week that runs without a thread."""
    if week.forum:
        return "the week's post"
    return "the thread" if week.has_thread else f"<#{week.channel_id}>"


def thread_name(week: Week) -> str:
    """A week's thread is named for its film; a forum post, for its film and year."""
    return truncate(week.film_line if week.forum else week.title, 100)


RUNNING_TAG, ENDED_TAG = "running", "ended"


def forum_tags(
    forum: discord.ForumChannel, applied: list[discord.ForumTag], *, running: bool
) -> list[discord.ForumTag]:
    """The post's tags with "Running" or "Ended" as the week is (when the forum has them);
    the tags moderators gave it stay."""
    by_name = {tag.name.casefold(): tag for tag in forum.available_tags}
    ours = {by_name[n].id for n in (RUNNING_TAG, ENDED_TAG) if n in by_name}
    wanted = by_name.get(RUNNING_TAG if running else ENDED_TAG)
    kept = [tag for tag in applied if tag.id not in ours]
    if wanted:
        return [*kept, wanted][:5]
    # A forum that requires a tag refuses a post left with none: it keeps the tags it has.
    return applied if not kept and forum.flags.require_tag else kept


class WeekPosts(Posts):
    def __init__(self, bot: Projectionist) -> None:
        super().__init__(bot)
        self.films: Films = bot.films

    def register(self) -> None:
        jobs, scheduler = self.bot.jobs, self.bot.scheduler
        jobs.register(
            KICKOFF,
            Kind(self.post_kickoff, label=Label("The kickoff and its thread", plural=True)),
        )
        jobs.register(
            KICKOFF_EDIT,
            Kind(self.edit_kickoff, label=Label("The kickoff", done="brought up to date")),
        )
        jobs.register(
            PROMPT,
            Kind(
                self.post_prompt,
                given_up=self._release_prompt,
                max_age=CATCH_UP_LIMIT,
                label=Label("A prompt"),
            ),
        )
        jobs.register(
            TAKE,
            Kind(
                self.post_take, label=Label(lambda job: f"<@{job.payload.get('user_id')}>'s take")
            ),
        )
        jobs.register(
            DIGEST,
            Kind(
                self.post_digest,
                label=Label(lambda job: f"The digest in the {job.payload.get('where', 'channel')}"),
            ),
        )
        jobs.register(
            DELETE_POST,
            Kind(self.delete_post, label=Label("A forgotten member's take", done="removed")),
        )
        scheduler.register(PROMPT_EVENT, self.on_prompt_timer)
        scheduler.register(END_EVENT, self.on_end_timer)

    # --- the kickoff ------------------------------------------------------------------

    async def kickoff_embed(self, week: Week) -> discord.Embed:
        """The kickoff as the week now stands: its film, essay, schedule and screening."""
        settings = await self.films.settings(week.guild_id)
        essay = self.bot.library.essays.get(week.essay_id) if week.essay_id else None
        slots = slots_between(
            week.started_at, week.ends_at, settings.tz, settings.at, settings.prompt_days
        )
        return kickoff_embed(
            week.title,
            week.year,
            essay,
            settings,
            slots,
            week.ends_at,
            week.has_thread,
            await self.bot.screenings.of_week(week.id),
            (await self.films.prompt_queue(week)).planned,
        )

    async def post_kickoff(self, job: Job) -> dict:
        week = await self.films.week(week_id_of(job))
        if week is None or not week.running:
            raise GiveUp("the week is over")
        where = f"<#{week.channel_id}>"
        if week.forum:
            return await self._open_forum_post(job, week, where)
        channel = await self.messageable(week.channel_id, where)
        if week.kickoff_message_id is not None:
            kickoff = channel.get_partial_message(week.kickoff_message_id)
        else:
            embed = marked(await self.kickoff_embed(week), job, week.guild_id, week.channel_id)
            kickoff = await self.send(channel, job, where, has_marker(job), embed=embed)
            await self.films.set_kickoff(week.id, kickoff.id, week.thread_id)
            await track_message(self.bot, kickoff, "week", week_id=week.id, essay_id=week.essay_id)
        if not week.has_thread:  # the week runs in its channel
            return {"message_id": kickoff.id, "thread_id": week.channel_id}
        thread = await self._thread_of(kickoff.id)
        if thread is not None:  # opened by an earlier attempt, maybe under an older name
            await self._name(thread, thread_name(week), f"the thread under the kickoff in {where}")
        if thread is None:
            try:
                thread = await kickoff.create_thread(
                    name=thread_name(week), auto_archive_duration=10080
                )
            except discord.NotFound as error:
                if error.code == UNKNOWN_MESSAGE:
                    raise GiveUp(
                        f"The kickoff in {where} was deleted before its thread was opened."
                    ) from error
                raise failure(error, where, "open a thread under the kickoff in") from error
            except DISCORD_FAILURES as error:
                raise failure(error, where, "open a thread under the kickoff in") from error
        await self.films.set_kickoff(week.id, kickoff.id, thread.id)
        return {"message_id": kickoff.id, "thread_id": thread.id}

    async def _open_forum_post(self, job: Job, week: Week, where: str) -> dict:
        """A week in a forum channel is a post in it: the kickoff starts it, tagged Running."""
        forum = await self.channel(week.channel_id, where)
        if not isinstance(forum, discord.ForumChannel):
            raise GiveUp(f"{where} is no longer a forum channel.")
        name = thread_name(week)
        thread, starter_id = None, None
        if job.uncertain:  # an earlier attempt may have opened it (under the name it had then)
            thread = next(
                (
                    t
                    for t in forum.threads
                    if t.owner_id == self.own_id
                    and t.created_at
                    and t.created_at.timestamp() >= job.created_at - 1
                ),
                None,
            )
        if thread is None:
            embed = marked(await self.kickoff_embed(week), job, week.guild_id, week.channel_id)
            tags = forum_tags(forum, [], running=True)
            try:
                opened = await forum.create_thread(
                    name=name, embed=embed, applied_tags=tags, auto_archive_duration=10080
                )
            except DISCORD_FAILURES as error:
                raise failure(error, where) from error
            thread, starter_id = opened.thread, opened.message.id
            await track_message(
                self.bot, opened.message, "week", week_id=week.id, essay_id=week.essay_id
            )
        else:  # found: the week may have been renamed since that attempt
            await self._name(thread, name, where)
            starter = await self.find_own(thread, job, has_marker(job))
            starter_id = starter.id if starter else None
            if starter is not None:
                await track_message(
                    self.bot, starter, "week", week_id=week.id, essay_id=week.essay_id
                )
        # A post's starter message has the post's id.
        starter_id = starter_id or thread.id
        await self.films.set_kickoff(week.id, starter_id, thread.id)
        return {"message_id": starter_id, "thread_id": thread.id}

    async def edit_kickoff(self, job: Job) -> dict:
        """Bring the posted kickoff up to date; a forum week's post gets its Running or Ended
        tag. A kickoff not posted yet is built as the week stands when it is."""
        week = await self.films.week(week_id_of(job))
        if week is None:
            return {}
        if week.kickoff_message_id is None:
            # A kickoff still on its way may be one an earlier attempt posted as the week was
            # then: this edit waits for it, to bring it up to date.
            owed = await self.bot.jobs.outstanding(week.guild_id, week_id=week.id, kinds=(KICKOFF,))
            if any(j.pending for j in owed):
                raise Retry("waiting for the kickoff", after=10)
            return {}
        home = week.thread_id if week.forum else week.channel_id
        if home is None:  # a forum week's post and thread are recorded together
            raise Retry("the week's thread is not open yet", after=THREAD_WAIT)
        where = discussion(week) if week.forum else f"<#{week.channel_id}>"
        channel = await self.messageable(home, where)
        embed = await self.kickoff_embed(week)
        embed.url = jump_url(week.guild_id, week.channel_id)
        try:
            await channel.get_partial_message(week.kickoff_message_id).edit(embed=embed)
            if week.forum and isinstance(channel, discord.Thread):
                forum = channel.parent
                if isinstance(forum, discord.ForumChannel):
                    tags = forum_tags(forum, channel.applied_tags, running=week.running)
                    if {t.id for t in tags} != {t.id for t in channel.applied_tags}:
                        await channel.edit(applied_tags=tags)
        except discord.NotFound:
            return {}  # the kickoff was deleted: nothing to bring up to date
        except DISCORD_FAILURES as error:
            raise failure(error, where, "edit the kickoff in") from error
        await self._rename_thread(week, channel)
        return {}

    async def _rename_thread(self, week: Week, home: discord.abc.Messageable) -> None:
        """The week's thread (or forum post) carries the film's name, renamed with the week."""
        if not week.has_thread or week.thread_id is None:
            return
        thread = home if week.forum else await self._thread_of(week.thread_id)
        name = thread_name(week)
        if isinstance(thread, discord.Thread):
            await self._name(thread, name, discussion(week))

    async def _name(self, thread: discord.Thread, name: str, where: str) -> None:
        if thread.name == name:
            return
        try:
            await thread.edit(name=name)
        except discord.NotFound:
            pass  # the thread was deleted
        except DISCORD_FAILURES as error:
            raise failure(error, where, "rename") from error

    async def _thread_of(self, message_id: int) -> discord.Thread | None:
        """The thread started from a message has the message's id."""
        thread = self.bot.get_channel(message_id)
        if thread is None:
            try:
                thread = await self.bot.fetch_channel(message_id)
            except discord.NotFound:
                return None
            except DISCORD_FAILURES as error:
                raise failure(error, "the week's thread", "see") from error
        return thread if isinstance(thread, discord.Thread) else None

    async def discussion_channel(self, week: Week) -> PostChannel:
        if week.thread_id is None:
            raise Retry("the week's thread is not open yet", after=THREAD_WAIT)
        return await self.messageable(week.thread_id, discussion(week))

    # --- prompts ----------------------------------------------------------------------

    async def on_prompt_timer(self, tx: Tx, timer: Timer) -> None:
        """The next prompt time booked and this prompt owed, with the timer's claim."""
        await self.films.prompt_due(
            tx, timer.payload["week_id"], timer.due_at, now_epoch(), catch_up=CATCH_UP_LIMIT
        )

    async def post_prompt(self, job: Job) -> dict:
        prompt = await self.films.prompt(job.payload["prompt_id"])
        week = await self.films.week(week_id_of(job))
        if prompt is None or week is None:
            raise GiveUp("the prompt was removed")
        if prompt.message_id is not None:
            return {"message_id": prompt.message_id}
        if not week.running:
            raise GiveUp("the week ended before it could be posted")
        number = prompt.number
        if number is None:  # numbered when owed; a prompt given up on went back to its turn
            raise GiveUp("the prompt went back to its turn")
        thread = await self.discussion_channel(week)
        view = discord.utils.MISSING
        section_id = prompt.section_id
        essay = self.bot.library.essays.get(week.essay_id) if section_id and week.essay_id else None
        if essay is not None and section_id and essay.section_index(section_id) is not None:
            text = await self.bot.library.section_text(essay, section_id)
            excerpt = pick_passage(text.body, random.Random(section_id))
            embed = prompt_embed(week, number, prompt.text, excerpt, text.section.heading)
            view = discord.ui.View(timeout=None)
            view.add_item(OpenSectionButton(essay.id, section_id, EVERYONE))
        else:
            embed = prompt_embed(week, number, prompt.text, None, None)
        marked(embed, job, week.guild_id, thread.id)
        message = await self.send(
            thread, job, discussion(week), has_marker(job), embed=embed, view=view
        )
        await self.films.prompt_posted(prompt.id, message.id, now_epoch())
        await track_message(
            self.bot,
            message,
            "prompt",
            week_id=week.id,
            prompt_id=prompt.id,
            essay_id=essay.id if essay else None,
            section_id=prompt.section_id,
        )
        return {"message_id": message.id}

    async def _release_prompt(self, tx, job: Job) -> None:
        await Films.release_prompt(tx, job.payload["prompt_id"])

    # --- takes ------------------------------------------------------------------------

    async def post_take(self, job: Job) -> dict:
        """Make the thread show the member's latest take: post it, edit it, or remove it."""
        user_id = job.payload["user_id"]
        week_id = week_id_of(job)
        week = await self.films.week(week_id)
        rating = await self.films.rating(week_id, user_id) if week else None
        if week is None or (
            (rating is None or not rating.take) and not (rating and rating.take_message_id)
        ):
            return {}
        thread = await self.discussion_channel(week)
        where = discussion(week)
        if not rating.take:
            if rating.take_message_id:  # always here: a take neither kept nor shown returned above
                await self._delete(thread, rating.take_message_id, where)
                await self.films.set_take_message(week.id, user_id, None)
            return {}
        settings = await self.films.settings(week.guild_id)
        embed = take_embed(
            job.payload.get("name") or "A member",
            week,
            rating.take,
            spoiler=bool(settings.spoiler_takes) and week.running,
        )
        marked(embed, job, week.guild_id, thread.id)
        if rating.take_message_id:
            try:
                await thread.get_partial_message(rating.take_message_id).edit(embed=embed)
                return {"message_id": rating.take_message_id}
            except discord.NotFound:
                pass
            except DISCORD_FAILURES as error:
                raise failure(error, where, "edit a take in") from error
        message = await self.send(thread, job, where, has_marker(job), embed=embed)
        await self.films.set_take_message(week.id, user_id, message.id)
        await track_message(self.bot, message, "take", week_id=week.id)
        return {"message_id": message.id}

    async def _delete(self, channel: PostChannel, message_id: int, where: str) -> None:
        try:
            await channel.get_partial_message(message_id).delete()
        except discord.NotFound:
            pass
        except DISCORD_FAILURES as error:
            raise failure(error, where, "remove a message in") from error

    async def delete_post(self, job: Job) -> dict:
        channel = await self.messageable(job.payload["channel_id"], "the week's thread")
        await self._delete(channel, job.payload["message_id"], "the week's thread")
        return {}

    # --- the end of a week ------------------------------------------------------------

    async def on_end_timer(self, tx: Tx, timer: Timer) -> None:
        await self.films.end_week_in(tx, timer.payload["week_id"], now_epoch(), guild_id=None)

    async def post_digest(self, job: Job) -> dict:
        week = await self.films.week(week_id_of(job))
        if week is None:
            raise GiveUp("the week was removed")
        in_thread = job.payload.get("where") == "thread"
        channel_id = week.thread_id if in_thread else week.channel_id
        if channel_id is None:
            return {}  # the week never had its thread
        where = discussion(week) if in_thread else f"<#{week.channel_id}>"
        channel = await self.messageable(channel_id, where)
        embed = marked(await self.build_digest(week), job, week.guild_id, channel_id)
        message = await self.send(channel, job, where, has_marker(job), embed=embed)
        await track_message(self.bot, message, "digest", week_id=week.id)
        if not in_thread or week.forum:
            await self.films.set_digest(week.id, channel_id, message.id)
        return {"message_id": message.id}

    async def build_digest(self, week: Week) -> discord.Embed:
        ratings = await self.films.ratings(week.id)
        prompts = await self.films.posted_prompts(week.id)
        by_message = {p.message_id: p for p in prompts if p.message_id}
        take_messages = {r.take_message_id for r in ratings if r.take_message_id}
        reactions = await self.bot.recorder.counts([*by_message, *take_messages], latest=True)
        replies: Counter[int] = Counter()
        participants = {r.user_id for r in ratings}
        if week.thread_id:
            try:
                thread = await self.messageable(week.thread_id, "the week's thread")
                current = None
                # The week's own talk only: after its kickoff (or its start), before its end,
                # however much the channel said before it.
                after: discord.abc.Snowflake | datetime = (
                    discord.Object(week.kickoff_message_id)
                    if week.kickoff_message_id
                    else datetime.fromtimestamp(week.started_at, UTC)
                )
                # ended_at is in whole seconds: the second it ended in is the week's own.
                before = datetime.fromtimestamp(week.ended_at + 1, UTC) if week.ended_at else None
                async for message in thread.history(
                    limit=HISTORY_LIMIT, after=after, before=before, oldest_first=True
                ):
                    if message.id in by_message:
                        current = message.id
                    if message.author.bot:
                        continue
                    participants.add(message.author.id)
                    ref = message.reference.message_id if message.reference else None
                    target = ref if ref in by_message else current
                    if target is not None:
                        replies[target] += 1
            except (*DISCORD_FAILURES, Retry, GiveUp) as error:
                log.warning("Could not read the thread of week %s: %s", week.id, error)
        takes = [
            TakeLine(f"<@{r.user_id}>", r, reactions.get(r.take_message_id or 0, 0))
            for r in ratings
            if r.take
        ]
        takes.sort(key=lambda t: -t.reactions)
        highlight = None
        scored = [(reactions.get(m, 0) + replies[m], m) for m in by_message]
        if scored and max(scored)[0] > 0:
            _, message_id = max(scored, key=lambda s: (s[0], -s[1]))
            prompt = by_message[message_id]
            highlight = Highlight(
                f"Prompt {prompt.number}: {prompt.text}",
                reactions.get(message_id, 0),
                replies[message_id],
                jump_url(week.guild_id, week.thread_id, message_id) if week.thread_id else None,
            )
        thread_url = jump_url(week.guild_id, week.thread_id) if week.thread_id else None
        screening = await self.bot.screenings.of_week(week.id)
        if screening is not None and screening.event_id:
            screening = await self.interest(screening)
        return digest_embed(
            week,
            summarize_ratings(ratings),
            takes,
            highlight,
            len(participants),
            thread_url,
            screening,
        )

    async def interest(self, screening: Screening) -> Screening:
        """The screening with how many members are interested in its event now (as last read
        when Discord cannot say)."""
        guild = self.bot.get_guild(screening.guild_id)
        if guild is None or screening.event_id is None:
            return screening
        try:
            event = await guild.fetch_scheduled_event(screening.event_id, with_counts=True)
        except DISCORD_FAILURES as error:
            log.warning("Could not read the event of screening %s: %s", screening.id, error)
            return screening
        count = event.user_count or 0
        if count != screening.interested:
            await self.bot.screenings.record_interest(screening.id, count)
        return dataclasses.replace(screening, interested=count)

    # --- after a restart --------------------------------------------------------------

    async def reconcile(self) -> None:
        """Every running week has its end and its next prompt time (after a crash between
        claiming one timer and booking the next); posts interrupted by a crash are released."""
        now = now_epoch()
        scheduler = self.bot.scheduler
        for week in await self.films.running_weeks():
            if not owns(self.bot.config, week.guild_id):
                continue  # another process's server
            if not await scheduler.pending(END_EVENT, week_id=week.id):
                await scheduler.create(week.ends_at, END_EVENT, {"week_id": week.id}, week.guild_id)
            if not await scheduler.pending(PROMPT_EVENT, week_id=week.id):
                await self.films.schedule_next_prompt(week, now)
        await self.bot.jobs.recover()
