"""Reactions on tracked bot posts, from raw gateway events (so uncached messages count), and
reconciliation with Discord after the bot was offline."""

from __future__ import annotations

import asyncio
import logging

import discord
from discord.ext import commands

from bot.client import Projectionist
from bot.interactions import now_epoch
from bot.reactions.recorder import emoji_key
from bot.shards import owned_sql

log = logging.getLogger(__name__)


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
        self._reconcile_task: asyncio.Task[None] | None = None

    async def cog_unload(self) -> None:
        if self._reconcile_task is not None:
            self._reconcile_task.cancel()

    def _ours(self, user_id: int) -> bool:
        user = self.bot.user
        return user is not None and user_id == user.id

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.message_id not in self.recorder.tracked or self._ours(payload.user_id):
            return
        if payload.member is not None and payload.member.bot:
            return
        key, display = partial_key(payload.emoji)
        self.recorder.add(payload.message_id, payload.user_id, key, display)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.message_id not in self.recorder.tracked or self._ours(payload.user_id):
            return
        key, _ = partial_key(payload.emoji)
        self.recorder.remove(payload.message_id, payload.user_id, key)

    @commands.Cog.listener()
    async def on_raw_reaction_clear(self, payload: discord.RawReactionClearEvent) -> None:
        if payload.message_id in self.recorder.tracked:
            self.recorder.clear(payload.message_id)

    @commands.Cog.listener()
    async def on_raw_reaction_clear_emoji(
        self, payload: discord.RawReactionClearEmojiEvent
    ) -> None:
        if payload.message_id in self.recorder.tracked:
            self.recorder.clear_emoji(payload.message_id, partial_key(payload.emoji)[0])

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        self.recorder.deleted([payload.message_id])

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        self.recorder.deleted(payload.message_ids)

    # --- after downtime ---------------------------------------------------------------

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        if self._reconciled:
            return
        self._reconciled = True
        self._reconcile_task = asyncio.create_task(self.reconcile(), name="reaction-reconcile")
        self._reconcile_task.add_done_callback(_log_failure)

    async def reconcile(self) -> tuple[int, int]:
        """Make the stored reactions of recent tracked posts match Discord. Idempotent; live
        events that arrive meanwhile win over what was read before them."""
        since = now_epoch() - self.bot.config.reconcile_days * 86400
        targets = await self.recorder.reconcile_targets(since, owned_sql(self.bot.config))
        added = removed = 0
        self.recorder.watch = {}
        try:
            await self.recorder.flush()  # the stored state read below includes every event
            forgotten = await self.recorder.forgotten()
            for message_id, channel_id, posted_at in targets:
                observed = await self._observe(message_id, channel_id)
                if observed is None:
                    continue
                stored = await self.recorder.state(message_id)
                # A forgotten member's reaction on a post from before they were forgotten is
                # still on Discord, and stays out of the database.
                skip = {user for user, at in forgotten.items() if posted_at <= at}
                a, r = self.recorder.apply_observed(message_id, observed, stored, skip)
                added, removed = added + a, removed + r
            await self.recorder.flush()
        finally:
            self.recorder.watch = None
        if added or removed:
            log.info("Reconciled reactions: %d added, %d removed", added, removed)
        return added, removed

    async def _observe(self, message_id: int, channel_id: int) -> set[tuple[int, str]] | None:
        channel = self.bot.get_channel(channel_id) or self.bot.get_partial_messageable(channel_id)
        try:
            message = await channel.fetch_message(message_id)
        except discord.NotFound:
            self.recorder.deleted([message_id])
            return None
        except discord.HTTPException as error:
            log.info("Could not read message %s to reconcile it: %s", message_id, error)
            return None
        observed: set[tuple[int, str]] = set()
        for reaction in message.reactions:
            key, display = partial_key(reaction.emoji)
            self.recorder.remember_emoji(key, display)
            async for user in reaction.users():
                if not user.bot:
                    observed.add((user.id, key))
        return observed


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("Reconciling reactions failed", exc_info=task.exception())


async def setup(bot: Projectionist) -> None:
    await bot.add_cog(ReactionsCog(bot))
