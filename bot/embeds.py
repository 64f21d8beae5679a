"""What every embed of the bot shares: its colour and Discord's limits (what it shows as typed
goes through `bot.text.literal`)."""

from __future__ import annotations

import discord

COLOUR = discord.Colour(0xC9A227)  # projector-lamp amber
TITLE_LIMIT = 256


def when(epoch: int, style: str = "F") -> str:
    """A time every member reads in their own time zone."""
    return f"<t:{int(epoch)}:{style}>"


def jump_url(guild_id: int, channel_id: int, message_id: int | None = None) -> str:
    base = f"https://discord.com/channels/{guild_id}/{channel_id}"
    return f"{base}/{message_id}" if message_id else base


def event_url(guild_id: int, event_id: int) -> str:
    return f"https://discord.com/events/{guild_id}/{event_id}"
