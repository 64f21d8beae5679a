"""What the film week posts on its own: prompts at their times, the digest at the end, the
poll's winner. Runs from durable timers; a failure in one server is recorded and never stops
the others."""

from __future__ import annotations

import logging
import random
from collections import Counter

import discord

from bot.client import Projectionist, now_epoch, track_message
from bot.films import Films, Week, summarize_ratings
from bot.library import pick_passage
from bot.render_week import Highlight, TakeLine, digest_embed, jump_url, prompt_embed
from bot.schedule import next_slot
from bot.timers import Scheduler, Timer
from cogs._essay_ui import OpenSectionButton

log = logging.getLogger(__name__)

PROMPT_EVENT = "film_prompt"
END_EVENT = "film_end"
POLL_EVENT = "film_poll_end"
CATCH_UP_LIMIT = 6 * 3600  # a prompt missed by less than this is posted once on return
HISTORY_LIMIT = 2000
EVERYONE = 0  # owner id for buttons anyone may use privately


class PostFailed(Exception):
    """Discord refused a post; the message says what a moderator can fix."""


def explain_failure(error: discord.HTTPException, where: str) -> str:
    if isinstance(error, discord.Forbidden):
        return (
            f"I am not allowed to post in {where}. Give me View Channel, Send Messages, "
            "Send Messages in Threads, Create Public Threads, Embed Links and Read Message History "
            "there."
        )
    if isinstance(error, discord.NotFound):
        return (
            f"{where} no longer exists. Pick a channel with `/film settings channel:` and start "
            "a new week with `/film start` (end this one with `/film end`)."
        )
    return f"Discord refused the post in {where} (HTTP {error.status}); I will try again at the next prompt time."


class WeekRunner:
    def __init__(self, bot: Projectionist, films: Films, scheduler: Scheduler) -> None:
        self.bot = bot
        self.films = films
        self.scheduler = scheduler

    # --- where to post ----------------------------------------------------------------

    async def messageable(self, channel_id: int) -> discord.abc.Messageable:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            channel = await self.bot.fetch_channel(channel_id)
        return channel  # type: ignore[return-value]

    # --- scheduling -------------------------------------------------------------------

    async def schedule_next_prompt(self, week: Week, after: int) -> int | None:
        settings = await self.films.settings(week.guild_id)
        due = next_slot(after, settings.tz, settings.at, settings.prompt_days, week.ends_at)
        if due is not None:
            await self.scheduler.create(due, PROMPT_EVENT, {"week_id": week.id})
        return due

    async def reschedule_prompts(self, week: Week) -> int | None:
        await self.scheduler.cancel(PROMPT_EVENT, week_id=week.id)
        return await self.schedule_next_prompt(week, now_epoch())

    async def next_prompt_time(self, week: Week) -> int | None:
        pending = await self.scheduler.pending(PROMPT_EVENT, week_id=week.id)
        return pending[0].due_at if pending else None

    async def reconcile(self) -> None:
        """Make sure every running week and open poll has its timers (e.g. after a crash
        between claiming one timer and creating the next)."""
        now = now_epoch()
        for week in await self.films.running_weeks():
            if not await self.scheduler.pending(END_EVENT, week_id=week.id):
                await self.scheduler.create(week.ends_at, END_EVENT, {"week_id": week.id})
            if not await self.scheduler.pending(PROMPT_EVENT, week_id=week.id):
                await self.schedule_next_prompt(week, now)
        for poll in await self.films.open_polls():
            if not await self.scheduler.pending(POLL_EVENT, poll_id=poll["id"]):
                await self.scheduler.create(
                    poll["ends_at"] + 5, POLL_EVENT, {"poll_id": poll["id"]}
                )

    # --- prompts ----------------------------------------------------------------------

    async def post_prompt(self, week: Week) -> int | None:
        """Post the week's next prompt in its thread; the prompt's number, or None when nothing
        is left. Raises PostFailed (after recording it) when Discord refuses."""
        planned = await self.films.plan_next_prompt(week)
        if planned is None:
            return None
        number = len(await self.films.posted_prompts(week.id)) + 1
        view = discord.utils.MISSING
        if planned.kind == "section":
            assert planned.essay is not None and planned.section_id is not None
            text = await self.bot.library.section_text(planned.essay, planned.section_id)
            excerpt = pick_passage(text.body, random.Random(planned.section_id))
            embed = prompt_embed(week, number, planned.text, excerpt, text.section.heading)
            view = discord.ui.View(timeout=None)
            view.add_item(OpenSectionButton(planned.essay.id, planned.section_id, EVERYONE))
        else:
            embed = prompt_embed(week, number, planned.text, None, None)
        where = f"the thread of {week.film_line}"
        try:
            thread = await self.messageable(week.thread_id or week.channel_id)
            message = await thread.send(embed=embed, view=view)
        except discord.HTTPException as error:
            reason = explain_failure(error, where)
            await self.films.record_failure(week.guild_id, reason, now_epoch())
            log.warning("Prompt for week %s in guild %s failed: %s", week.id, week.guild_id, error)
            raise PostFailed(reason) from error
        prompt_id = await self.films.mark_posted(week, planned, message.id, now_epoch())
        await track_message(
            self.bot,
            message,
            "prompt",
            week_id=week.id,
            prompt_id=prompt_id,
            essay_id=planned.essay.id if planned.essay else None,
            section_id=planned.section_id,
        )
        await self.films.record_failure(week.guild_id, None, now_epoch())
        return number

    async def on_prompt_timer(self, timer: Timer) -> None:
        week = await self.films.week(timer.payload["week_id"])
        now = now_epoch()
        if week is None or not week.running or now >= week.ends_at:
            return
        # The next slot is booked before posting, so a failure here never stalls the week.
        await self.schedule_next_prompt(week, max(now, timer.due_at))
        if timer.lateness(now) > CATCH_UP_LIMIT:
            log.info("Skipped the prompt of week %s due %ss ago", week.id, int(timer.lateness(now)))
            return
        try:
            await self.post_prompt(week)
        except PostFailed:
            pass  # recorded for moderators; retried at the next slot

    # --- the end of a week ------------------------------------------------------------

    async def on_end_timer(self, timer: Timer) -> None:
        week = await self.films.week(timer.payload["week_id"])
        if week is not None and week.running:
            await self.end_week(week)

    async def end_week(self, week: Week) -> bool:
        """End the week and post its digest once; False if it had already ended."""
        if not await self.films.end_week(week.id, now_epoch()):
            return False
        await self.scheduler.cancel(PROMPT_EVENT, week_id=week.id)
        await self.scheduler.cancel(END_EVENT, week_id=week.id)
        ended = await self.films.week(week.id)
        assert ended is not None
        embed = await self.build_digest(ended)
        posted_in_channel = None
        for channel_id in (ended.thread_id, ended.channel_id):
            if channel_id is None:
                continue
            try:
                channel = await self.messageable(channel_id)
                message = await channel.send(embed=embed)
            except discord.HTTPException as error:
                reason = explain_failure(error, "the week's channel")
                await self.films.record_failure(ended.guild_id, reason, now_epoch())
                continue
            await track_message(self.bot, message, "digest", week_id=ended.id)
            if channel_id == ended.channel_id:
                posted_in_channel = message
        if posted_in_channel is not None:
            await self.films.set_digest(ended.id, ended.channel_id, posted_in_channel.id)
        return True

    async def build_digest(self, week: Week) -> discord.Embed:
        ratings = await self.films.ratings(week.id)
        prompts = await self.films.posted_prompts(week.id)
        by_message = {p.message_id: p for p in prompts if p.message_id}
        take_messages = {r.take_message_id for r in ratings if r.take_message_id}
        await self.bot.recorder.flush()
        reactions = await self.films.reaction_counts([*by_message, *take_messages])
        replies: Counter[int] = Counter()
        participants = {r.user_id for r in ratings}
        if week.thread_id:
            try:
                thread = await self.messageable(week.thread_id)
                current = None
                async for message in thread.history(limit=HISTORY_LIMIT, oldest_first=True):
                    if message.id in by_message:
                        current = message.id
                    if message.author.bot:
                        continue
                    participants.add(message.author.id)
                    ref = message.reference.message_id if message.reference else None
                    target = ref if ref in by_message else current
                    if target is not None:
                        replies[target] += 1
            except discord.HTTPException as error:
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
            number = prompts.index(prompt) + 1
            highlight = Highlight(
                f"Prompt {number}: {prompt.text}",
                reactions.get(message_id, 0),
                replies[message_id],
                jump_url(week.guild_id, week.thread_id, message_id) if week.thread_id else None,
            )
        thread_url = jump_url(week.guild_id, week.thread_id) if week.thread_id else None
        return digest_embed(
            week, summarize_ratings(ratings), takes, highlight, len(participants), thread_url
        )

    # --- polls ------------------------------------------------------------------------

    async def on_poll_timer(self, timer: Timer) -> None:
        poll = await self.films.poll(timer.payload["poll_id"])
        if poll is None or poll["ended_at"] is not None:
            return
        nominations = await self.films.poll_nominations(poll["id"])
        winner = None
        votes = 0
        try:
            channel = await self.messageable(poll["channel_id"])
            message = await channel.fetch_message(poll["message_id"])
            if message.poll is not None:
                counted = [
                    (answer.vote_count, -answer.id, answer.id) for answer in message.poll.answers
                ]
                if counted and max(counted)[0] > 0:
                    votes, _, answer_id = max(counted)
                    if 1 <= answer_id <= len(nominations):
                        winner = nominations[answer_id - 1]
        except discord.HTTPException as error:
            await self.films.record_failure(
                poll["guild_id"], explain_failure(error, "the poll's channel"), now_epoch()
            )
            return
        if not await self.films.finish_poll(
            poll["id"],
            winner.title if winner else None,
            winner.year if winner else None,
            now_epoch(),
        ):
            return
        if winner is None:
            text = "The poll for the next film closed without a single vote."
        else:
            text = (
                f"🏆 **{discord.utils.escape_markdown(winner.film_line)}** won the poll for the next "
                f"film with {votes} vote{'s' if votes != 1 else ''}. Moderators: `/film start` offers it first."
            )
        try:
            await channel.send(text)
        except discord.HTTPException as error:
            await self.films.record_failure(
                poll["guild_id"], explain_failure(error, "the poll's channel"), now_epoch()
            )
