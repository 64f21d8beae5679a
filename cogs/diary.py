"""/diary and /watchlist: each member's own film life in the club."""

from __future__ import annotations

from discord.ext import commands

from bot.client import Projectionist


class DiaryCog(commands.Cog, name="Diary"):
    def __init__(self, bot: Projectionist) -> None:
        self.bot = bot


async def setup(bot: Projectionist) -> None:
    await bot.add_cog(DiaryCog(bot))
