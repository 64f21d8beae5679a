"""Posting once, as a job: the toolkit every feature's job handlers share. A job's post is
marked with the job's id, so an attempt interrupted after Discord made it finds it instead of
posting again; Discord's failures become a retry (429, 5xx, the network) or a reason to give up
(a missing permission, a deleted channel) that moderators read in `describe()`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp
import discord

from bot.client import Projectionist
from bot.embeds import jump_url, when
from bot.jobs import GiveUp, Job, Jobs, Label, Retry

OWN_POST_SEARCH = 50  # how far back in a channel an interrupted job looks for its post

TAG_REQUIRED = 40067  # Discord: a tag is required to create a forum post in this channel
UNKNOWN_CHANNEL, UNKNOWN_MESSAGE = 10003, 10008

# The channels of a server a job posts in: each takes messages and names one by its id.
PostChannel = discord.TextChannel | discord.VoiceChannel | discord.StageChannel | discord.Thread
POST_CHANNELS = (discord.TextChannel, discord.VoiceChannel, discord.StageChannel, discord.Thread)


def explain_failure(error: discord.HTTPException, where: str, doing: str = "post in") -> str:
    """Discord's refusal as moderators read it after "… was not posted:": what the bot was
    `doing` (a verb that takes `where`: "post in", "open a thread under the kickoff in",
    "rename") and `where` (a channel's mention, or a place named as a noun: "the thread of
    Heat (1995)")."""
    if isinstance(error, discord.Forbidden):
        return (
            f"I am not allowed to {doing} {where}. Give me View Channel, Send Messages, "
            "Send Messages in Threads, Create Public Threads, Embed Links and Read Message History "
            "there."
        )
    if isinstance(error, discord.NotFound) and error.code == UNKNOWN_MESSAGE:
        return f"A message in {where} that it builds on was deleted."
    if isinstance(error, discord.NotFound):
        return (
            f"{capitalized(where)} no longer exists. Pick a channel with "
            "`/film settings channel:` and start a new week with `/film start` (end this one "
            "with `/film end`)."
        )
    if error.status == 429 or error.status >= 500:
        return f"Discord is not answering (HTTP {error.status})"
    if error.code == TAG_REQUIRED:
        return (
            f"{capitalized(where)} requires a tag on every post, and has no “Running” tag for me "
            "to give. Add tags named Running and Ended to the forum (I apply them as weeks start "
            "and end), or turn off “Require people to select tags when posting” in its settings."
        )
    reason = f": {error.text}" if error.text else ""
    return f"Discord refused to let me {doing} {where} (HTTP {error.status}{reason})."


def week_id_of(job: Job) -> int:
    """The week a job of a week is for (each is made with its week)."""
    if job.week_id is None:
        raise GiveUp("the job belongs to no week")
    return job.week_id


def poll_id_of(job: Job) -> int:
    """The poll a job of a poll is for (each is made with its poll)."""
    if job.poll_id is None:
        raise GiveUp("the job belongs to no poll")
    return job.poll_id


def capitalized(phrase: str) -> str:
    """A phrase that starts a sentence ("the thread of Heat" -> "The thread of Heat")."""
    return phrase[:1].upper() + phrase[1:]


def failure(error: BaseException, where: str, doing: str = "post in") -> Retry | GiveUp:
    """Discord's failure as what the job does next: retry what may pass later, give up the rest.
    A 5xx or a lost connection may come after Discord made the post: the retry looks first."""
    if isinstance(error, discord.HTTPException):
        if error.status == 429 or error.status >= 500:
            return Retry(explain_failure(error, where, doing), uncertain=error.status >= 500)
        return GiveUp(explain_failure(error, where, doing))
    return Retry("Discord could not be reached", uncertain=True)


DISCORD_FAILURES = (discord.HTTPException, aiohttp.ClientError, asyncio.TimeoutError, OSError)


def marker(job: Job) -> str:
    return f"#pj{job.id}"


def marked(embed: discord.Embed, job: Job, guild_id: int, channel_id: int) -> discord.Embed:
    """Mark the post as this job's: its link (the channel it is in) carries the job's id, which
    an interrupted job looks for before posting again (Discord's nonces cannot be relied on)."""
    embed.url = jump_url(guild_id, channel_id) + marker(job)
    return embed


def has_marker(job: Job) -> Callable[[discord.Message], bool]:
    return lambda message: any((e.url or "").endswith(marker(job)) for e in message.embeds)


def describe(jobs: Jobs, job: Job) -> str | None:
    """A line for moderators about a post that is owed, or None when it is simply on its way.
    The post is named by the label its kind was registered with."""
    kind = jobs.kinds.get(job.kind)
    label = kind.label if kind is not None and kind.label is not None else Label(job.kind)
    subject, done = label.subject(job), label.done
    was, is_ = ("were", "are") if label.plural else ("was", "is")
    if job.given_up:
        return f"{subject} {was} not {done}: {job.last_error}"
    if job.last_error:
        return (
            f"{subject} {is_} not {done} yet: {job.last_error}; next try {when(job.due_at, 'R')}."
        )
    return None


class Posts:
    """What a feature's job handlers share: the bot, the channel a job posts in, posting once."""

    def __init__(self, bot: Projectionist) -> None:
        self.bot = bot

    @property
    def own_id(self) -> int:
        """The bot's user id, known once it has logged in (a job run before then waits)."""
        if self.bot.user is None:
            raise Retry("not logged in to Discord yet")
        return self.bot.user.id

    async def channel(self, channel_id: int, where: str):
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except DISCORD_FAILURES as error:
                raise failure(error, where, "see") from error
        return channel

    async def messageable(self, channel_id: int, where: str) -> PostChannel:
        channel = await self.channel(channel_id, where)
        if not isinstance(channel, POST_CHANNELS):
            raise GiveUp(f"{where} is not a channel I can post in.")
        return channel

    async def find_own(
        self, channel: discord.abc.Messageable, job: Job, matches: Callable[[discord.Message], bool]
    ) -> discord.Message | None:
        """The job's post, if an earlier attempt made it after all."""
        since = datetime.fromtimestamp(job.created_at - 1, UTC)
        try:
            async for message in channel.history(limit=OWN_POST_SEARCH, after=since):
                if message.author.id == self.own_id and matches(message):
                    return message
        except DISCORD_FAILURES as error:
            where = getattr(channel, "mention", "the channel")
            raise failure(error, where, "read the history of") from error
        return None

    async def send(
        self,
        channel: discord.abc.Messageable,
        job: Job,
        where: str,
        matches: Callable[[discord.Message], bool],
        **kwargs,
    ) -> discord.Message:
        """Post once: an uncertain job first looks for the post an earlier attempt made."""
        if job.uncertain and (found := await self.find_own(channel, job, matches)):
            return found
        try:
            return await channel.send(**kwargs)
        except DISCORD_FAILURES as error:
            raise failure(error, where) from error
