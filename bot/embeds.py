"""What every embed of the bot shares: its colour and Discord's limits (what it shows as typed
goes through `bot.text.literal`)."""

from __future__ import annotations

import discord

COLOUR = discord.Colour(0xC9A227)  # projector-lamp amber
TITLE_LIMIT = 256
