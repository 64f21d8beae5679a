"""/stats: which sections moved people, who takes part, what the server has been up to."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Projectionist
from bot.diary.embeds import club_films_embed
from bot.diary.taste import Taste, club_films
from bot.interactions import Interaction, guild_id_of, guild_of, now_epoch
from bot.reactions.recorder import counted_since
from bot.stats.chart import bar_chart, name_on_image
from bot.stats.embeds import (
    essay_stats_embed,
    member_stats_embed,
    server_stats_embed,
    year_embed,
)
from bot.stats.year import CLOSEST_PAGE, Span, Years, year_lines, year_now
from bot.stats.year_card import year_card
from bot.text import literal
from cogs._common import closest_present, essay_choices, members_in

CHART_NAME = "essay-stats.png"
CARD_NAME = "year.png"


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
        since = counted_since(now_epoch(), days)
        stats = await self.bot.stats.server(guild_id_of(interaction), since)
        await interaction.response.send_message(embed=server_stats_embed(days, since, stats))

    @stats.command(name="films", description="The club's films by their ratings")
    async def films(self, interaction: Interaction) -> None:
        guild_id = guild_id_of(interaction)
        club = await club_films(self.bot.services.db, guild_id)
        await interaction.response.send_message(embed=club_films_embed(club))

    @stats.command(
        name="year", description="A year in film told back: yours, a member's or the club's"
    )
    @app_commands.describe(
        member="Whose year (the club's when left out)",
        year="Which year (this year in the server's time zone by default)",
    )
    async def year(
        self,
        interaction: Interaction,
        member: discord.Member | None = None,
        year: app_commands.Range[int, 2000, 2100] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        services = self.bot.services
        private = False
        if member is not None:
            await services.diary.require_visible(guild_id, member.id, interaction.user.id)
            private = await services.diary.is_private(guild_id, member.id)
        # A member who keeps their diary private sees their own year privately.
        await interaction.response.defer(ephemeral=private, thinking=True)
        tz = (await services.films.settings(guild_id)).tz
        span = Span.of(year or year_now(now_epoch(), tz), tz)
        told = await Years(services.db, services.recorder).year(
            guild_id, span, member.id if member else None
        )
        guild = guild_of(interaction)
        named = [c.member_id for c in told.closest]
        present = await members_in(guild, named, 1)
        closest = [c for c in told.closest if c.member_id in present]
        others = [told.take.member_id] if told.take else []
        if member is not None and not closest and len(named) == CLOSEST_PAGE:
            # every member of the first page has left: the ranking is read on
            closest, _ = await closest_present(
                Taste(services.db), guild, member.id, 1, CLOSEST_PAGE
            )
            others += [c.member_id for c in closest]
        told = replace(told, closest=tuple(closest))
        others += [told.diarist[0]] if told.diarist else []
        present.update(await members_in(guild, others))
        whose = member.display_name if member else guild.name
        title = f"{whose}'s {span.year} in film"
        embed = year_embed(
            guild_id, title, told, year_lines(told, lambda i: f"<@{i}>", literal), CARD_NAME
        )
        if told.empty:
            await interaction.followup.send(embed=embed)
            return

        def display_name(user_id: int) -> str:
            found = present.get(user_id)
            return name_on_image(found.display_name) if found else "a former member"

        # The names as the card's font writes them: emoji it lacks left out (the text has them).
        card_title = f"{name_on_image(whose)}'s {span.year} in film"
        subtitle = name_on_image(guild.name) if member else "The club's year"
        lines = year_lines(told, display_name, str)
        card = await asyncio.to_thread(year_card, card_title, subtitle, lines)
        file = discord.File(
            fp=io.BytesIO(card),
            filename=CARD_NAME,
            description="The year as a card; the same facts are in the text.",
        )
        await interaction.followup.send(embed=embed, file=file)


async def setup(bot: Projectionist) -> None:
    await bot.add_cog(StatsCog(bot))
