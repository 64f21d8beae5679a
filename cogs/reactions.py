"""Reactions on tracked bot posts, from raw gateway events (so uncached messages count), and
reconciliation with Discord after the bot was offline."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import discord
from discord.ext import commands

from bot.client import Projectionist
from bot.reactions.reconcile import Pace, Reconciliation, wait_for
from bot.reactions.recorder import emoji_key

log = logging.getLogger(__name__)

STOP_TIMEOUT = 5.0  # seconds a clean stop waits to record where reconciliation stopped


def partial_key(emoji: discord.PartialEmoji | discord.Emoji | str) -> tuple[str, str | None]:
    """(stable key, display for custom emoji)."""
    if isinstance(emoji, str):
        return emoji_key(emoji), None
    if emoji.id:
        return emoji_key(None, emoji.id), str(emoji)
    return emoji_key(emoji.name), None


class ReactionsCog(commands.Cog, name="Reactions"):
    def __init__(self, bot: Projectionist) -> None:
        self.bot = bot
        self.recorder = bot.recorder
        self._reconciled = False
        self._own_id: int | None = None  # the bot's user id, once Discord has said it
        self._reconcile_task: asyncio.Task[tuple[int, int]] | None = None
        self.reconciliation: Reconciliation | None = None
        self.pace = Pace(bot.config.reconcile_rate)

    async def cog_unload(self) -> None:
        """On a clean stop: the reconciliation stops where it is (its progress is saved) and
        the moment is recorded, so the next start knows exactly how long the bot was away."""
        for event, handler in self._inline_handlers().items():
            self.bot.stop_listening_inline(event, handler)
        task = self._reconcile_task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self.reconciliation is not None and self.bot.has_services:
            await wait_for(self.reconciliation.stopped(), STOP_TIMEOUT)

    def _ours(self, user_id: int) -> bool:
        own = self._own_id
        if own is None:
            user = self.bot.user
            if user is None:
                return False
            own = self._own_id = user.id
        return user_id == own

    # The gateway's reaction and deletion events are handled inside discord.py's dispatch
    # (`Projectionist.listen_inline`), not as listeners: each handler only queues, and a
    # listener would cost a task an event, more than discord.py's parse of it.
    def _inline_handlers(self) -> dict[str, Callable[..., None]]:
        return {
            "raw_reaction_add": self.reaction_added,
            "raw_reaction_remove": self.reaction_removed,
            "raw_reaction_clear": self.reactions_cleared,
            "raw_reaction_clear_emoji": self.emoji_cleared,
            "raw_message_delete": self.message_deleted,
            "raw_bulk_message_delete": self.messages_deleted,
        }

    async def cog_load(self) -> None:
        for event, handler in self._inline_handlers().items():
            self.bot.listen_inline(event, handler)

    # The two handlers below run for every reaction of a burst: a Unicode emoji's key is made
    # here rather than through `partial_key`, and the bot's own id is kept once known. With
    # the recorder's queueing written out the same way, their own work went from 1.2 to 0.9 µs
    # an event.
    def reaction_added(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.message_id not in self.recorder.tracked or self._ours(payload.user_id):
            return
        member = payload.member
        if member is not None and member.bot:
            return
        emoji = payload.emoji
        if emoji.id:
            key, display = partial_key(emoji)
            self.recorder.add(payload.message_id, payload.user_id, key, display)
        else:
            self.recorder.add(payload.message_id, payload.user_id, emoji_key(emoji.name))

    def reaction_removed(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.message_id not in self.recorder.tracked or self._ours(payload.user_id):
            return
        emoji = payload.emoji
        key = partial_key(emoji)[0] if emoji.id else emoji_key(emoji.name)
        self.recorder.remove(payload.message_id, payload.user_id, key)

    def reactions_cleared(self, payload: discord.RawReactionClearEvent) -> None:
        if payload.message_id in self.recorder.tracked:
            self.recorder.clear(payload.message_id)

    def emoji_cleared(self, payload: discord.RawReactionClearEmojiEvent) -> None:
        if payload.message_id in self.recorder.tracked:
            self.recorder.clear_emoji(payload.message_id, partial_key(payload.emoji)[0])

    def message_deleted(self, payload: discord.RawMessageDeleteEvent) -> None:
        self.recorder.deleted([payload.message_id])

    def messages_deleted(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        self.recorder.deleted(payload.message_ids)

    # --- after downtime ---------------------------------------------------------------

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        if self._reconciled:  # a new session after a lost one (discord.py says ready again)
            if not self._sharded():
                self._come_back(None)
            return
        self._reconciled = True
        self._start_reconciling()

    def _start_reconciling(self) -> None:
        task = self._reconcile_task
        if task is not None and not task.done():
            return  # it plans again before it ends (`reconcile`)
        self._reconcile_task = asyncio.create_task(self.reconcile(), name="reaction-reconcile")
        self._reconcile_task.add_done_callback(_log_failure)

    # A dropped connection resumes its session (Discord replays what it missed) or starts a
    # new one, and then what happened meanwhile is read like a downtime's: see
    # Reconciliation.dropped. A sharded bot hears of each shard; the unsharded one of itself.
    def _sharded(self) -> bool:
        return isinstance(self.bot, discord.AutoShardedClient)

    def _come_back(self, shard: int | None) -> None:
        # Before the start's reconciliation exists, its first plan covers this; once it does,
        # even mid-plan, the session lost is planned after it.
        if self.reconciliation is not None:
            self.reconciliation.ready_again(shard)
            self._start_reconciling()

    @commands.Cog.listener()
    async def on_disconnect(self) -> None:
        if self.reconciliation is not None and not self._sharded():
            self.reconciliation.dropped(None)

    @commands.Cog.listener()
    async def on_resumed(self) -> None:
        if self.reconciliation is not None and not self._sharded():
            self.reconciliation.resumed(None)

    @commands.Cog.listener()
    async def on_shard_disconnect(self, shard_id: int) -> None:
        if self.reconciliation is not None:
            self.reconciliation.dropped(shard_id)

    @commands.Cog.listener()
    async def on_shard_resumed(self, shard_id: int) -> None:
        if self.reconciliation is not None:
            self.reconciliation.resumed(shard_id)

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        self._come_back(shard_id)

    def _reconciliation(self) -> Reconciliation:
        if self.reconciliation is None:
            cluster = getattr(self.bot, "cluster", None)
            name = cluster.name if cluster is not None else "offline"
            self.reconciliation = Reconciliation(
                self.bot.db,
                self.bot.config,
                clock=lambda: discord.utils.utcnow().timestamp(),
                name=name,
                metrics=self.bot.metrics,
            )
            if cluster is not None:  # each heartbeat says this process follows its servers
                cluster.beat_hooks.append(self.reconciliation.beat)
        return self.reconciliation

    async def reconcile(self) -> tuple[int, int]:
        """Make the stored reactions of the posts that could have changed while the bot was
        away match Discord (bot/reactions/reconcile.py decides which, and in which order), at
        RECONCILE_RATE calls a second and giving way to the bot's own posts. Idempotent and
        resumable; live events that arrive meanwhile win over what was read before them."""
        work = self._reconciliation()
        added = removed = 0
        while True:  # again while a connection came back with a new session meanwhile
            started = time.monotonic()
            planned = await work.plan()
            self.pace = Pace(self.bot.config.reconcile_rate, busy=self.bot.jobs.busy)
            if planned:
                log.info("Reconciling reactions: %d posts to compare with Discord", planned)
            posts, calls, more, fewer = await work.run(
                self.recorder,
                lambda message_id, channel_id: self._observe(message_id, channel_id),
                self.pace,
            )
            added, removed = added + more, removed + fewer
            if posts:
                log.info(
                    "Reconciled reactions: %d posts, %d calls, %.1fs; %d added, %d removed",
                    posts,
                    calls,
                    time.monotonic() - started,
                    more,
                    fewer,
                )
            if not work.missed:
                return added, removed

    async def _observe(self, message_id: int, channel_id: int) -> set[tuple[int, str]] | None:
        """What Discord shows on a post, as (member, emoji). An emoji whose count matches the
        stored reactions is taken as stored (one call for the post); the members of the others
        are read, a page of 100 a call."""
        found = self.bot.get_channel(channel_id)
        channel: discord.abc.Messageable = (
            found
            if isinstance(found, discord.abc.Messageable)
            else self.bot.get_partial_messageable(channel_id)
        )
        pace = self.pace
        await pace.take()
        try:
            message = await channel.fetch_message(message_id)
        except discord.NotFound:
            self.recorder.deleted([message_id])
            return None
        except discord.HTTPException as error:
            log.info("Could not read message %s to reconcile it: %s", message_id, error)
            return None
        stored: dict[str, set[int]] = {}
        for user_id, key in await self.recorder.state(message_id):
            stored.setdefault(key, set()).add(user_id)
        observed: set[tuple[int, str]] = set()
        for reaction in message.reactions:
            key, display = partial_key(reaction.emoji)
            self.recorder.remember_emoji(key, display)
            members = stored.get(key, set())
            if reaction.count - (1 if reaction.me else 0) == len(members):
                observed.update((user_id, key) for user_id in members)
                continue
            for _ in range(max(1, -(-reaction.count // 100))):  # a call per page of 100
                await pace.take()
            async for user in reaction.users():
                if not user.bot:
                    observed.add((user.id, key))
        return observed


def _log_failure(task: asyncio.Task[tuple[int, int]]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("Reconciling reactions failed", exc_info=task.exception())


async def setup(bot: Projectionist) -> None:
    await bot.add_cog(ReactionsCog(bot))
