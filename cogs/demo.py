"""/demo: only in the offline demo, where the clock is simulated."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Projectionist
from bot.text import plural


class DemoCog(commands.Cog, name="Demo"):
    demo = app_commands.Group(name="demo", description="Offline demo controls", guild_only=True)

    def __init__(self, bot: Projectionist) -> None:
        self.bot = bot

    @demo.command(name="advance", description="Move the simulated clock forward")
    @app_commands.describe(hours="How many hours (prompts and the week's end fire on the way)")
    async def advance(
        self, interaction: discord.Interaction, hours: app_commands.Range[int, 1, 336]
    ) -> None:
        # The demo runner owns the simulated clock; the bot only asks it to move.
        self.bot.demo_requests.put_nowait(hours)
        await interaction.response.send_message(
            f"Moving the clock forward {plural(hours, 'hour')}…", ephemeral=True
        )


async def setup(bot: Projectionist) -> None:
    await bot.add_cog(DemoCog(bot))
