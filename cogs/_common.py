"""Helpers shared by cogs: the moderator check and replying to the right person."""

from __future__ import annotations

from collections.abc import Callable

import discord

from bot.errors import UserError


def is_moderator(interaction: discord.Interaction) -> bool:
    member = interaction.user
    return isinstance(member, discord.Member) and member.guild_permissions.manage_guild


def require_moderator(interaction: discord.Interaction, action: str) -> None:
    """Refuse a member without Manage Server; nothing has changed when this raises."""
    if not is_moderator(interaction):
        raise UserError(f"Only moderators (Manage Server) can {action}.")


async def deliver(
    interaction: discord.Interaction,
    owner_id: int,
    embed: discord.Embed,
    build_view: Callable[[int], discord.ui.View | None],
    *,
    new_message: bool = False,
) -> int | None:
    """Answer a click on a message that belongs to `owner_id`; the id of the public message
    that now shows `embed`, if any.

    The owner's click changes their message in place (or posts a new public one when
    `new_message`); anyone else gets a private copy they can page through themselves, so one
    member's click never moves another member's reading."""
    clicker = interaction.user.id
    if clicker == owner_id and not new_message:
        await interaction.response.edit_message(embed=embed, view=build_view(clicker))
        return interaction.message.id if interaction.message else None
    ephemeral = clicker != owner_id
    view = build_view(clicker)
    kwargs = {"view": view} if view is not None else {}
    callback = await interaction.response.send_message(embed=embed, ephemeral=ephemeral, **kwargs)
    return None if ephemeral else callback.message_id
