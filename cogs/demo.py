"""/demo: only in the offline demo, where the clock is simulated."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Projectionist
from bot.demo import ClockRequest
from bot.films.schedule import local_line
from bot.interactions import Interaction, now_epoch
from bot.text import plural


class DemoCog(commands.Cog, name="Demo"):
    demo = app_commands.Group(name="demo", description="Offline demo controls", guild_only=True)

    def __init__(self, bot: Projectionist) -> None:
        self.bot = bot

    @demo.command(name="advance", description="Move the simulated clock forward")
    @app_commands.describe(hours="How many hours (prompts and the week's end fire on the way)")
    async def advance(
        self, interaction: Interaction, hours: app_commands.Range[int, 1, 336]
    ) -> None:
        await interaction.response.send_message(
            f"Moving the clock forward {plural(hours, 'hour')}…", ephemeral=True
        )

        async def moved() -> None:
            """The reply, once the clock has moved: what arrived here on the way, and the time
            in the server's zone, which the page shows timestamps in too."""
            channel = interaction.channel
            assert isinstance(channel, discord.abc.Messageable)
            arrived = [
                message
                async for message in channel.history(
                    after=discord.Object(interaction.id), limit=None
                )
                if not message.flags.ephemeral
            ]
            tz = (await self.bot.films.settings(interaction.guild_id or 0)).tz
            posts = plural(len(arrived), "new post") if arrived else "No new posts"
            await interaction.edit_original_response(
                content=(
                    f"Moved the clock forward {plural(hours, 'hour')}: it is now "
                    f"{local_line(now_epoch(), tz)} in {tz.key}. {posts} in this channel."
                )
            )

        # The demo runner owns the simulated clock; the bot only asks it to move.
        self.bot.demo_requests.put_nowait(ClockRequest(hours, moved, interaction.id))


async def setup(bot: Projectionist) -> None:
    await bot.add_cog(DemoCog(bot))
