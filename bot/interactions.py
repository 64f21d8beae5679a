"""Helpers every cog uses with an interaction: the clock, replying privately, and remembering
what a post shows (so reactions on it mean something)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.errors import UserError
from bot.reactions.recorder import Tracked

if TYPE_CHECKING:
    from bot.client import Projectionist
    from bot.services import Services

# An interaction with this bot: `interaction.client` is a Projectionist.
Interaction = discord.Interaction["Projectionist"]

T = TypeVar("T")

# Discord shows "The application did not respond" to a member whose command has no answer
# after 3 s. A reply that may take longer (one that first writes every reaction received, during
# a storm of them) is deferred once it has waited this long: the member sees the bot thinking.
ANSWER_SOON = 1.5
LAG_TRUSTED = 1.0  # seconds between the member's action and the bot's handling of it, at most


def now_epoch() -> int:
    """The current time in UTC epoch seconds, from discord.py's clock (which tests can move)."""
    return int(discord.utils.utcnow().timestamp())


NOT_IN_A_SERVER = "This works in a server only, not in direct messages."


def guild_id_of(interaction: discord.Interaction) -> int:
    """The server a command of a `guild_only` group was used in. Discord never offers such a
    command elsewhere; should an interaction come without a server all the same, the member is
    refused and nothing happens."""
    if interaction.guild_id is None:
        raise UserError(NOT_IN_A_SERVER)
    return interaction.guild_id


def guild_of(interaction: discord.Interaction) -> discord.Guild:
    """The server itself (its channels and roles), refused as `guild_id_of` refuses."""
    if interaction.guild is None:
        raise UserError(NOT_IN_A_SERVER)
    return interaction.guild


def services(interaction: Interaction) -> Services:
    return interaction.client.services


async def send_ephemeral(interaction: discord.Interaction, content: str) -> None:
    """Reply privately, whether or not the interaction was already answered or deferred. After a
    public deferral (`answered_soon`) the reply takes the thinking message's place, seen by all:
    Discord keeps the deferral's visibility."""
    await reply(interaction, content=content, ephemeral=True)


async def answered_soon(interaction: discord.Interaction, work: Awaitable[T]) -> T:
    """`work`'s result; if it is not ready ANSWER_SOON after the member asked (the gateway and a
    busy event loop take their share), the interaction is deferred meanwhile: a command
    publicly, thinking (the reply then goes through `reply`); a click on a message's component
    without a sign, the message edited afterwards (`edit_clicked`). `work` must not answer."""
    deferring = False
    # Counted from the interaction's own time, but for at most LAG_TRUSTED: a host clock that
    # disagrees with Discord's (or an interaction made up, as the benchmark's are) would
    # otherwise defer every answer at once, or too late.
    waited = (discord.utils.utcnow() - interaction.created_at).total_seconds()
    waited = min(max(waited, 0.0), LAG_TRUSTED)

    async def defer_later() -> None:
        nonlocal deferring
        await asyncio.sleep(max(0.0, ANSWER_SOON - waited))
        if not interaction.response.is_done():
            deferring = True
            clicked = interaction.type is discord.InteractionType.component
            await interaction.response.defer(thinking=not clicked)

    timer = asyncio.create_task(defer_later())
    try:
        return await work
    finally:
        if deferring:  # a deferral under way ends before the reply (or the refusal) is sent
            await asyncio.gather(timer, return_exceptions=True)
        else:
            timer.cancel()


async def reply(interaction: discord.Interaction, **message: Any) -> None:
    """Answer, whether or not the interaction was already answered or deferred."""
    if interaction.response.is_done():
        await interaction.followup.send(**message)
    else:
        await interaction.response.send_message(**message)


async def edit_clicked(interaction: discord.Interaction, **message: Any) -> None:
    """Edit the message whose component was clicked, whether or not the click was deferred."""
    if interaction.response.is_done():
        await interaction.edit_original_response(**message)
    else:
        await interaction.response.edit_message(**message)


async def track(
    interaction: Interaction, message_id: int | None, kind: str, **refs: int | None
) -> None:
    """Remember what a public reply shows."""
    if message_id is not None:
        item = Tracked(message_id, interaction.guild_id, interaction.channel_id or 0, kind, **refs)
        await services(interaction).recorder.track(item, now_epoch())


async def track_message(
    bot: Projectionist, message: discord.Message, kind: str, **refs: int | None
) -> None:
    """Remember what a message the bot posted shows."""
    guild_id = message.guild.id if message.guild else None
    item = Tracked(message.id, guild_id, message.channel.id, kind, **refs)
    await bot.recorder.track(item, now_epoch())
