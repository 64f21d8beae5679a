"""/essay: read, search and quote-hunt through the library; moderators add and remove essays."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import PurePath

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Projectionist
from bot.errors import UserError
from bot.essays.embeds import (
    contents_embed,
    essay_preview_embed,
    excerpt_embed,
    search_embed,
)
from bot.essays.library import MAX_ESSAY_BYTES, Library, content_hash, decode_essay_bytes
from bot.essays.parse import Essay, read_file
from bot.interactions import Interaction, guild_id_of, track
from bot.text import film_line, literal, shown, truncate
from cogs._common import (
    CONFIRMATIONS,
    PAGERS,
    ConfirmButton,
    PageButton,
    Text,
    confirm_view,
    essay_choices,
    pager_view,
    require_moderator,
    section_choices,
)
from cogs._essay_ui import (
    DYNAMIC_ITEMS,
    REMOVE_ESSAY,
    OpenSectionButton,
    UploadButton,
    buttons_view,
    contents_view,
    essay_list_page,
    search_view,
    section_reply,
)

UPLOAD_TTL = 15 * 60
ALLOWED_SUFFIXES = (".md", ".txt")


@dataclass(frozen=True)
class PendingUpload:
    essay: Essay
    digest: str
    user_id: int
    guild_id: int
    created: float


class EssaysCog(commands.Cog, name="Essays"):
    essay = app_commands.Group(
        name="essay", description="Read, search and add film essays", guild_only=True
    )

    def __init__(self, bot: Projectionist) -> None:
        self.bot = bot
        self.pending_uploads: dict[str, PendingUpload] = {}

    @property
    def library(self) -> Library:
        return self.bot.library

    async def cog_load(self) -> None:
        CONFIRMATIONS["essay-remove"] = REMOVE_ESSAY
        PAGERS["essays"] = essay_list_page
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        CONFIRMATIONS.pop("essay-remove", None)
        PAGERS.pop("essays", None)
        shared = (ConfirmButton, PageButton)
        self.bot.remove_dynamic_items(*(i for i in DYNAMIC_ITEMS if i not in shared))

    # --- autocomplete -----------------------------------------------------------------

    @essay.command(name="list", description="Every essay in this server's library")
    async def list_essays(self, interaction: Interaction) -> None:
        embed, page, pages = await essay_list_page(interaction, 0, 0)
        view = pager_view("essays", 0, page, pages, interaction.user.id)
        await interaction.response.send_message(
            embed=embed, view=view if view is not None else discord.utils.MISSING
        )

    @essay.command(name="read", description="Read an essay: its contents, or one section")
    @app_commands.describe(
        essay="The essay to read", section="A section (leave empty for contents)"
    )
    @app_commands.autocomplete(essay=essay_choices, section=section_choices)
    async def read(self, interaction: Interaction, essay: str, section: str | None = None) -> None:
        found = self.library.resolve_essay(interaction.guild_id, essay)
        owner = interaction.user.id
        if section is None:
            embed = contents_embed(found, await self.library.section_openings(found))
            await interaction.response.send_message(embed=embed, view=contents_view(found, owner))
            return
        chosen = self.library.resolve_section(found, section)
        embed, build = await section_reply(self.library, found, chosen.id, 0)
        sent = await interaction.response.send_message(embed=embed, view=build(owner))
        await track(
            interaction, sent.message_id, "section", essay_id=found.id, section_id=chosen.id
        )

    @essay.command(name="excerpt", description="A random passage from the library or one essay")
    @app_commands.describe(essay="Only from this essay")
    @app_commands.autocomplete(essay=essay_choices)
    async def excerpt(self, interaction: Interaction, essay: str | None = None) -> None:
        found = self.library.resolve_essay(interaction.guild_id, essay) if essay else None
        passage = await self.library.random_passage(interaction.guild_id, found)
        view = discord.ui.View(timeout=None)
        view.add_item(OpenSectionButton(passage.essay.id, passage.section.id, interaction.user.id))
        sent = await interaction.response.send_message(embed=excerpt_embed(passage), view=view)
        await track(
            interaction,
            sent.message_id,
            "excerpt",
            essay_id=passage.essay.id,
            section_id=passage.section.id,
        )

    @essay.command(name="search", description="Search every essay's text")
    @app_commands.describe(query="Words to look for")
    async def search(
        self, interaction: Interaction, query: app_commands.Range[str, 1, 200]
    ) -> None:
        hits = await self.library.search(interaction.guild_id, query)
        if not hits:
            raise UserError(
                f"Nothing found for “{truncate(query, 100)}”. Try fewer or different words."
            )
        await interaction.response.send_message(
            embed=search_embed(query, hits), view=search_view(hits, interaction.user.id)
        )

    # --- moderators -------------------------------------------------------------------

    @essay.command(name="add", description="Moderators: add or update an essay from a file")
    @app_commands.describe(
        file="A .md or .txt file, UTF-8, at most 512 KB",
        title="The essay's title (overrides the file's Title: line)",
        film="The film it is about",
        year="The film's year",
        director="The film's director",
    )
    async def add(
        self,
        interaction: Interaction,
        file: discord.Attachment,
        title: app_commands.Transform[str, Text("title", 200)] | None = None,
        film: app_commands.Transform[str, Text("film", 200)] | None = None,
        year: app_commands.Range[int, 1870, 2100] | None = None,
        director: app_commands.Transform[str, Text("director", 200)] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        require_moderator(interaction, "add essays")
        suffix = PurePath(file.filename).suffix.lower()
        if suffix not in ALLOWED_SUFFIXES:
            raise UserError(
                f"{shown(file.filename)} is not an essay file: upload a `.md` (Markdown) or `.txt` file."
            )
        if file.size > MAX_ESSAY_BYTES:
            raise UserError(
                f"{shown(file.filename)} is {file.size / 1024:,.0f} KB; essays can be at most 512 KB."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        text = decode_essay_bytes(data, file.filename)
        _markdown, essay = read_file(
            text, file.filename, title=title, film=film, year=year, director=director
        )
        target = self.library.upload_target(guild_id, essay.title)
        self._forget_stale_uploads()
        token = secrets.token_hex(8)
        self.pending_uploads[token] = PendingUpload(
            essay, content_hash(data), interaction.user.id, guild_id, time.monotonic()
        )
        embed = essay_preview_embed(
            essay.title,
            film_line(essay.film, essay.year),
            essay.director,
            [(s.heading, len(s.body)) for s in essay.sections],
            list(essay.warnings),
            f"Publishing updates the existing essay “{literal(target.title)}”." if target else None,
        )
        view = buttons_view(UploadButton(token, "publish"), UploadButton(token, "cancel"))
        await interaction.followup.send(embed=embed, view=view, ephemeral=True)

    def _forget_stale_uploads(self) -> None:
        cutoff = time.monotonic() - UPLOAD_TTL
        for token in [t for t, p in self.pending_uploads.items() if p.created < cutoff]:
            del self.pending_uploads[token]

    @essay.command(name="remove", description="Moderators: remove an essay from this server")
    @app_commands.describe(essay="The essay to remove")
    @app_commands.autocomplete(essay=essay_choices)
    async def remove(self, interaction: Interaction, essay: str) -> None:
        require_moderator(interaction, "remove essays")
        found = self.library.resolve_essay(interaction.guild_id, essay)
        view = confirm_view("essay-remove", found.id, interaction.user.id)
        await interaction.response.send_message(
            f"Remove **{literal(found.title)}** from this server's library? Reactions and quotes tied to "
            "it are kept.",
            view=view,
            ephemeral=True,
        )


async def setup(bot: Projectionist) -> None:
    await bot.add_cog(EssaysCog(bot))
