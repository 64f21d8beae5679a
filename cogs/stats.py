"""/stats: which sections moved people, who takes part, what the server has been up to."""

from __future__ import annotations

import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Projectionist
from bot.diary.embeds import club_films_embed
from bot.diary.taste import club_films
from bot.interactions import Interaction, guild_id_of, now_epoch
from bot.stats.chart import bar_chart
from bot.stats.embeds import essay_stats_embed, member_stats_embed, server_stats_embed
from cogs._common import essay_choices

CHART_NAME = "essay-stats.png"


class StatsCog(commands.Cog, name="Stats"):
    stats = app_commands.Group(
        name="stats", description="What the community made of it", guild_only=True
    )

    def __init__(self, bot: Projectionist) -> None:
        self.bot = bot

    @stats.command(name="essay", description="Reactions and quotes per section of an essay")
    @app_commands.autocomplete(essay=essay_choices)
    async def essay(self, interaction: Interaction, essay: str) -> None:
        found = self.bot.library.resolve_essay(interaction.guild_id, essay)
        sections = await self.bot.stats.essay(found, guild_id_of(interaction))
        names = await self.bot.stats.emoji_names()
        chart = bar_chart(
            [f"{s.position}. {s.heading}" for s in sections],
            [s.reactions for s in sections],
            [s.quotes for s in sections],
            found.title,
        )
        embed = essay_stats_embed(found.title, sections, names, CHART_NAME)
        file = discord.File(
            fp=io.BytesIO(chart),
            filename=CHART_NAME,
            description="Bar chart of reactions and quotes per section; the same numbers are in the text.",
        )
        await interaction.response.send_message(embed=embed, file=file)

    @stats.command(name="member", description="What a member has contributed")
    async def member(self, interaction: Interaction, member: discord.Member | None = None) -> None:
        target = member or interaction.user
        stats = await self.bot.stats.member(guild_id_of(interaction), target.id)
        await interaction.response.send_message(
            embed=member_stats_embed(target.display_name, stats)
        )

    @stats.command(name="server", description="Totals and highlights of a period")
    @app_commands.describe(days="How many days back (default 30)")
    async def server(
        self, interaction: Interaction, days: app_commands.Range[int, 1, 3650] = 30
    ) -> None:
        stats = await self.bot.stats.server(guild_id_of(interaction), now_epoch() - days * 86400)
        await interaction.response.send_message(embed=server_stats_embed(days, stats))

    @stats.command(name="films", description="The club's films by their ratings")
    async def films(self, interaction: Interaction) -> None:
        guild_id = guild_id_of(interaction)
        club = await club_films(self.bot.services.db, guild_id)
        await interaction.response.send_message(embed=club_films_embed(club))


async def setup(bot: Projectionist) -> None:
    await bot.add_cog(StatsCog(bot))
