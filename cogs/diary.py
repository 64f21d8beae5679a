"""/diary and /watchlist: each member's own film life in the club."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Projectionist
from bot.diary.embeds import (
    closest_embed,
    club_watchlist_embed,
    diary_embed,
    entry_reply,
    taste_embed,
    watchlist_embed,
)
from bot.diary.letterboxd import MAX_UPLOAD, read_export, too_large
from bot.diary.service import PAGE_SIZE, Diary, ImportReport, local_day, parse_day
from bot.diary.stars import CHOICES, from_stars
from bot.diary.taste import Taste
from bot.errors import UserError
from bot.interactions import Interaction, guild_id_of, guild_of, now_epoch, services
from bot.text import literal, plural, truncate
from cogs._common import PAGERS, Text, closest_present, pager_view
from cogs.films._cog import FIRST_FILM_YEAR, LAST_FILM_YEAR, split_title

STAR_CHOICES = [app_commands.Choice(name=name, value=value) for name, value in CHOICES]
Year = app_commands.Range[int, FIRST_FILM_YEAR, LAST_FILM_YEAR]
YEAR_SLOT = 10_000  # a diary page's button carries member id and year as one number


def diary_of(interaction: Interaction) -> Diary:
    return services(interaction).diary


async def server_today(interaction: Interaction):
    settings = await services(interaction).films.settings(guild_id_of(interaction))
    return local_day(now_epoch(), settings.tz)


async def film_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Films the server knows (its weeks, nominations, diaries, watchlists), with their years."""
    films = await diary_of(interaction).known_films(guild_id_of(interaction), current)
    return [
        app_commands.Choice(name=truncate(f.film_line, 100), value=f.film_line[:100]) for f in films
    ]


async def my_watchlist_choices(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    lines = await diary_of(interaction).watchlist(
        guild_id_of(interaction), interaction.user.id, interaction.user.id
    )
    typed = current.casefold()
    return [
        app_commands.Choice(
            name=truncate(line.film.film_line, 100), value=line.film.film_line[:100]
        )
        for line in lines
        if typed in line.film.film_line.casefold()
    ][:25]


def import_reply(files: list[str], report: ImportReport) -> str:
    added = [
        plural(report.entries, "diary entry", "diary entries"),
        plural(report.undated, "film") + " rated or watched with no date",
        plural(report.watchlist, "film") + " on your watchlist",
    ]
    if report.reviews:
        added.append(plural(report.reviews, "review") + " added to entries imported before")
    lines = [f"Imported from {', '.join(files)}: {', '.join(added)}."]
    if report.already:
        lines.append(
            f"{plural(report.already, 'row')} you had imported already were left as they were."
        )
    if report.shortened:
        lines.append(f"{plural(report.shortened, 'review')} over 2,000 characters were shortened.")
    if report.skipped:
        reasons = "; ".join(
            f"{count} with {reason}" for reason, count in sorted(report.skipped.items())
        )
        lines.append(f"Skipped {plural(sum(report.skipped.values()), 'row')}: {reasons}.")
    lines.append("`/diary show` lists them.")
    return "\n".join(lines)


def halves_of(rating: app_commands.Choice[float] | None) -> int | None:
    return from_stars(rating.value) if rating is not None else None


async def diary_page(
    interaction: Interaction, arg: int, page: int
) -> tuple[discord.Embed, int, int]:
    member_id, year = divmod(arg, YEAR_SLOT)
    entries, page, total = await diary_of(interaction).page(
        guild_id_of(interaction), member_id, interaction.user.id, year or None, page
    )
    embed = diary_embed(
        member_id, entries, page, total, year or None, own=member_id == interaction.user.id
    )
    return embed, page, max(1, -(-total // PAGE_SIZE))


class DiaryCog(commands.Cog, name="Diary"):
    diary = app_commands.Group(
        name="diary", description="The films you watched, rated and reviewed", guild_only=True
    )
    watchlist = app_commands.Group(
        name="watchlist", description="The films you want to see", guild_only=True
    )
    taste = app_commands.Group(
        name="taste", description="Whose taste in films is close to yours", guild_only=True
    )

    def __init__(self, bot: Projectionist) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        PAGERS["diary"] = diary_page

    async def cog_unload(self) -> None:
        PAGERS.pop("diary", None)

    @property
    def service(self) -> Diary:
        return self.bot.services.diary

    # --- the diary --------------------------------------------------------------------

    @diary.command(name="log", description="Log a film you watched, with a rating and a review")
    @app_commands.describe(
        film="The film (pick one the server knows, or type its title)",
        year="Its year, to tell films of one title apart",
        rating="½ to 5 stars",
        watched_on="When: today (the default), yesterday, or a date such as 2026-11-28",
        rewatch="You had seen it before",
        review="What you thought (at most 2,000 characters)",
        spoilers="Hide the review as a spoiler",
    )
    @app_commands.choices(rating=STAR_CHOICES)
    @app_commands.autocomplete(film=film_choices)
    async def log(
        self,
        interaction: Interaction,
        film: app_commands.Transform[str, Text("film title", 200)],
        year: Year | None = None,
        rating: app_commands.Choice[float] | None = None,
        watched_on: app_commands.Range[str, 1, 20] | None = None,
        rewatch: bool = False,
        review: app_commands.Transform[str, Text("review", 2000, lines=True)] | None = None,
        spoilers: bool = False,
    ) -> None:
        title, year = split_title(film, year)
        day = parse_day(watched_on, await server_today(interaction))
        entry, was_listed = await self.service.log(
            guild_id_of(interaction),
            interaction.user.id,
            title=title,
            year=year,
            rating=halves_of(rating),
            watched_on=day,
            rewatch=rewatch,
            review=review.strip() if review else None,
            spoilers=spoilers,
            now=now_epoch(),
        )
        note = " It is off your watchlist now." if was_listed else ""
        await interaction.response.send_message(entry_reply("Logged", entry) + note, ephemeral=True)

    @diary.command(name="show", description="A member's diary, newest first")
    @app_commands.describe(
        member="Whose diary (yours by default)", year="Only the films watched that year"
    )
    async def show(
        self,
        interaction: Interaction,
        member: discord.Member | None = None,
        year: Year | None = None,
    ) -> None:
        member_id = member.id if member else interaction.user.id
        arg = member_id * YEAR_SLOT + (year or 0)
        embed, page, pages = await diary_page(interaction, arg, 0)
        view = pager_view("diary", arg, page, pages, interaction.user.id)
        kwargs: dict[str, Any] = {"view": view} if view else {}
        await interaction.response.send_message(embed=embed, **kwargs)

    @diary.command(name="remove", description="Remove an entry of your diary")
    @app_commands.describe(number="The entry's number, as `/diary show` gives it")
    async def remove(
        self, interaction: Interaction, number: app_commands.Range[int, 1, 10**9]
    ) -> None:
        entry = await self.service.remove(guild_id_of(interaction), interaction.user.id, number)
        await interaction.response.send_message(entry_reply("Removed", entry), ephemeral=True)

    @diary.command(name="edit", description="Change an entry of your diary")
    @app_commands.describe(
        number="The entry's number, as `/diary show` gives it",
        rating="½ to 5 stars",
        watched_on="today, yesterday, or a date such as 2026-11-28",
        review="What you thought (at most 2,000 characters)",
    )
    @app_commands.choices(rating=STAR_CHOICES)
    async def edit(
        self,
        interaction: Interaction,
        number: app_commands.Range[int, 1, 10**9],
        rating: app_commands.Choice[float] | None = None,
        watched_on: app_commands.Range[str, 1, 20] | None = None,
        review: app_commands.Transform[str, Text("review", 2000, lines=True)] | None = None,
    ) -> None:
        if rating is None and watched_on is None and review is None:
            raise UserError("Give a new rating, day or review; nothing was changed.")
        day = parse_day(watched_on, await server_today(interaction)) if watched_on else None
        entry = await self.service.edit(
            guild_id_of(interaction),
            interaction.user.id,
            number,
            rating=halves_of(rating),
            watched_on=day,
            review=review.strip() if review else None,
        )
        await interaction.response.send_message(entry_reply("Changed", entry), ephemeral=True)

    @diary.command(name="import", description="Import your Letterboxd export (its ZIP or a CSV)")
    @app_commands.describe(
        file="The ZIP Letterboxd gives (Settings → Data → Export), or one of its CSV files"
    )
    async def import_letterboxd(self, interaction: Interaction, file: discord.Attachment) -> None:
        if file.size > MAX_UPLOAD:
            raise UserError(too_large())
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        # Parsed on a worker thread: a large export never holds up the bot's other members.
        export = await asyncio.to_thread(read_export, file.filename, data)
        report = await self.service.import_export(
            guild_id_of(interaction), interaction.user.id, export, now_epoch()
        )
        await interaction.followup.send(import_reply(export.files, report), ephemeral=True)

    @diary.command(name="privacy", description="Keep your diary and watchlist to yourself, or not")
    @app_commands.describe(private="True: only you see them; False: the server does (the default)")
    async def privacy(self, interaction: Interaction, private: bool | None = None) -> None:
        guild_id, user_id = guild_id_of(interaction), interaction.user.id
        if private is not None:
            await self.service.set_private(guild_id, user_id, private, now_epoch())
        now_private = await self.service.is_private(guild_id, user_id)
        text = (
            "Your diary and watchlist are private: only you see them, and club lists count your "
            "films without naming you. `/diary privacy private:False` shows them again."
            if now_private
            else "Your diary and watchlist are visible to the server. "
            "`/diary privacy private:True` keeps them to yourself."
        )
        await interaction.response.send_message(text, ephemeral=True)

    # --- the watchlist ----------------------------------------------------------------

    @watchlist.command(name="add", description="Put a film on your watchlist")
    @app_commands.describe(film="The film", year="Its year")
    @app_commands.autocomplete(film=film_choices)
    async def watch_add(
        self,
        interaction: Interaction,
        film: app_commands.Transform[str, Text("film title", 200)],
        year: Year | None = None,
    ) -> None:
        title, year = split_title(film, year)
        found, added = await self.service.watch_add(
            guild_id_of(interaction), interaction.user.id, title, year, now_epoch()
        )
        text = (
            f"**{literal(found.film_line)}** is on your watchlist."
            if added
            else f"**{literal(found.film_line)}** was on your watchlist already."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @watchlist.command(name="remove", description="Take a film off your watchlist")
    @app_commands.describe(film="The film", year="Its year, if two share a title")
    @app_commands.autocomplete(film=my_watchlist_choices)
    async def watch_remove(
        self,
        interaction: Interaction,
        film: app_commands.Transform[str, Text("film title", 200)],
        year: Year | None = None,
    ) -> None:
        title, year = split_title(film, year)
        removed = await self.service.watch_remove(
            guild_id_of(interaction), interaction.user.id, title, year
        )
        await interaction.response.send_message(
            f"**{literal(removed.film_line)}** is off your watchlist.", ephemeral=True
        )

    @watchlist.command(name="show", description="A member's watchlist")
    @app_commands.describe(member="Whose (yours by default)")
    async def watch_show(
        self, interaction: Interaction, member: discord.Member | None = None
    ) -> None:
        member_id = member.id if member else interaction.user.id
        lines = await self.service.watchlist(
            guild_id_of(interaction), member_id, interaction.user.id
        )
        await interaction.response.send_message(embed=watchlist_embed(member_id, lines))

    @watchlist.command(name="pick", description="A film at random from a watchlist")
    @app_commands.describe(member="Whose (yours by default)")
    async def watch_pick(
        self, interaction: Interaction, member: discord.Member | None = None
    ) -> None:
        member_id = member.id if member else interaction.user.id
        film = await self.service.pick(guild_id_of(interaction), member_id, interaction.user.id)
        whose = "your" if member_id == interaction.user.id else f"<@{member_id}>'s"
        await interaction.response.send_message(
            f"From {whose} watchlist: **{literal(film.film_line)}**."
        )

    @watchlist.command(name="club", description="The films most members want to see, with who")
    async def watch_club(self, interaction: Interaction) -> None:
        wanted = await self.service.club_wants(guild_id_of(interaction))
        await interaction.response.send_message(embed=club_watchlist_embed(wanted))

    # --- taste --------------------------------------------------------------------------

    @property
    def tastes(self) -> Taste:
        return Taste(self.bot.services.db)

    @taste.command(name="member", description="How close your taste is to a member's")
    @app_commands.describe(member="The member to compare with")
    async def taste_member(self, interaction: Interaction, member: discord.Member) -> None:
        guild_id, viewer_id = guild_id_of(interaction), interaction.user.id
        match = await self.tastes.match(guild_id, viewer_id, member.id)
        # a member who keeps their film life private is shown their side of it privately
        private = await self.service.is_private(guild_id, viewer_id)
        await interaction.response.send_message(
            embed=taste_embed(viewer_id, match), ephemeral=private
        )

    @taste.command(name="me", description="The members whose taste is closest to yours")
    async def taste_me(self, interaction: Interaction) -> None:
        guild_id, viewer_id = guild_id_of(interaction), interaction.user.id
        private = await self.service.is_private(guild_id, viewer_id)
        await interaction.response.defer(ephemeral=private, thinking=True)
        close, club = await closest_present(self.tastes, guild_of(interaction), viewer_id)
        await interaction.followup.send(embed=closest_embed(viewer_id, close, club))


async def setup(bot: Projectionist) -> None:
    await bot.add_cog(DiaryCog(bot))
