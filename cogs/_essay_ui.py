"""Buttons and menus of the essay commands. Every one is a DynamicItem whose custom_id carries
what it needs (essay, section, page, owner), so they keep working after a restart."""

from __future__ import annotations

import re
from collections.abc import Callable

import discord

from bot.errors import NotFound, UserError
from bot.essays.embeds import (
    contents_embed,
    essay_list_embed,
    list_page_count,
    section_embed,
    section_pages,
)
from bot.essays.library import EssayInfo, Library, SearchHit
from bot.interactions import Interaction, guild_id_of, now_epoch, services, track
from bot.text import literal, plural, truncate
from cogs._common import (
    Confirmation,
    ConfirmButton,
    PageButton,
    SafeItem,
    deliver,
    require_here,
    require_moderator,
)

SELECT_CHUNK = 25


def library_of(interaction: Interaction) -> Library:
    return services(interaction).library


def chosen_value(interaction: Interaction) -> str:
    """The option a member picked in a select menu."""
    values = interaction.data.get("values") if interaction.data is not None else None
    if not isinstance(values, list) or not values:
        raise UserError("Pick one of the options in the menu.")
    return str(values[0])


# --- reading a section --------------------------------------------------------------------


ViewBuilder = Callable[[int], discord.ui.View]


async def section_reply(
    library: Library, essay: EssayInfo, section_id: int, page: int
) -> tuple[discord.Embed, ViewBuilder]:
    """The embed for one page of a section, and a builder of its buttons for a given owner."""
    text = await library.section_text(essay, section_id)
    pages = section_pages(text.body)
    page = max(0, min(page, len(pages) - 1))
    embed = section_embed(text, page, pages)
    return embed, lambda owner: section_view(essay, text.index, page, len(pages), owner)


def section_view(
    essay: EssayInfo, index: int, page: int, page_count: int, owner_id: int
) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    sections = essay.sections
    current = sections[index].id
    previous_id = sections[index - 1].id if index > 0 else current
    next_id = sections[index + 1].id if index + 1 < len(sections) else current
    buttons = [("ps", "◀ Previous section", previous_id, 0, index == 0)]
    if page_count > 1:
        buttons.append(("pp", "Previous page", current, page - 1, page == 0))
        buttons.append(("np", "Next page", current, page + 1, page + 1 >= page_count))
    buttons.append(("ns", "Next section ▶", next_id, 0, index + 1 >= len(sections)))
    for action, label, section_id, target_page, disabled in buttons:
        view.add_item(
            SectionButton(action, label, essay.id, section_id, target_page, owner_id, disabled)
        )
    view.add_item(ContentsButton(essay.id, owner_id))
    return view


class SectionButton(
    SafeItem,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"pj:sec:(?P<action>\w+):(?P<essay>\d+):(?P<section>\d+):(?P<page>\d+):(?P<owner>\d+)",
):
    def __init__(
        self,
        action: str,
        label: str,
        essay_id: int,
        section_id: int,
        page: int,
        owner_id: int,
        disabled: bool = False,
    ) -> None:
        self.essay_id, self.section_id, self.page, self.owner_id = (
            essay_id,
            section_id,
            max(page, 0),
            owner_id,
        )
        style = (
            discord.ButtonStyle.primary if action in ("pp", "np") else discord.ButtonStyle.secondary
        )
        super().__init__(
            discord.ui.Button(
                label=label,
                style=style,
                disabled=disabled,
                custom_id=f"pj:sec:{action}:{essay_id}:{section_id}:{max(page, 0)}:{owner_id}",
            )
        )

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str], /):
        return cls(
            match["action"],
            item.label or "",
            int(match["essay"]),
            int(match["section"]),
            int(match["page"]),
            int(match["owner"]),
        )

    async def run(self, interaction: Interaction) -> None:
        library = library_of(interaction)
        essay = library.get(self.essay_id, interaction.guild_id)
        embed, build = await section_reply(library, essay, self.section_id, self.page)
        shown = await deliver(interaction, self.owner_id, embed, build)
        await track(interaction, shown, "section", essay_id=essay.id, section_id=self.section_id)


class ContentsButton(
    SafeItem,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"pj:toc:(?P<essay>\d+):(?P<owner>\d+)",
):
    def __init__(self, essay_id: int, owner_id: int) -> None:
        self.essay_id, self.owner_id = essay_id, owner_id
        super().__init__(
            discord.ui.Button(
                label="Contents",
                style=discord.ButtonStyle.secondary,
                custom_id=f"pj:toc:{essay_id}:{owner_id}",
            )
        )

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str], /):
        return cls(int(match["essay"]), int(match["owner"]))

    async def run(self, interaction: Interaction) -> None:
        library = library_of(interaction)
        essay = library.get(self.essay_id, interaction.guild_id)
        embed = contents_embed(essay, await library.section_openings(essay))
        shown = await deliver(
            interaction, self.owner_id, embed, lambda owner: contents_view(essay, owner)
        )
        await track(interaction, shown, "section", essay_id=essay.id)


# --- contents -----------------------------------------------------------------------------


def contents_view(essay: EssayInfo, owner_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for chunk in range(0, min(len(essay.sections), SELECT_CHUNK * 5), SELECT_CHUNK):
        view.add_item(SectionPicker(essay, chunk // SELECT_CHUNK, owner_id))
    return view


class SectionPicker(
    SafeItem,
    discord.ui.DynamicItem[discord.ui.Select],
    template=r"pj:pick:(?P<essay>\d+):(?P<chunk>\d+):(?P<owner>\d+)",
):
    def __init__(self, essay: EssayInfo | None, chunk: int, owner_id: int, *, essay_id: int = 0):
        self.essay_id = essay.id if essay else essay_id
        self.owner_id = owner_id
        options = []
        placeholder = "Open a section…"
        if essay is not None:
            sections = essay.sections[chunk * SELECT_CHUNK : (chunk + 1) * SELECT_CHUNK]
            options = [
                discord.SelectOption(
                    label=truncate(f"{s.position}. {s.heading}", 100), value=str(s.id)
                )
                for s in sections
            ]
            if len(essay.sections) > SELECT_CHUNK:
                first = chunk * SELECT_CHUNK + 1
                placeholder = f"Open a section ({first}–{first + len(sections) - 1})…"
        super().__init__(
            discord.ui.Select(
                placeholder=placeholder,
                options=options or [discord.SelectOption(label="…", value="0")],
                custom_id=f"pj:pick:{self.essay_id}:{chunk}:{owner_id}",
            )
        )

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str], /):
        return cls(None, int(match["chunk"]), int(match["owner"]), essay_id=int(match["essay"]))

    async def run(self, interaction: Interaction) -> None:
        library = library_of(interaction)
        essay = library.get(self.essay_id, interaction.guild_id)
        section_id = int(chosen_value(interaction))
        embed, build = await section_reply(library, essay, section_id, 0)
        shown = await deliver(interaction, self.owner_id, embed, build)
        await track(interaction, shown, "section", essay_id=essay.id, section_id=section_id)


# --- opening a section from an excerpt or a search hit ------------------------------------


class OpenSectionButton(
    SafeItem,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"pj:open:(?P<essay>\d+):(?P<section>\d+):(?P<owner>\d+)",
):
    def __init__(self, essay_id: int, section_id: int, owner_id: int) -> None:
        self.essay_id, self.section_id, self.owner_id = essay_id, section_id, owner_id
        super().__init__(
            discord.ui.Button(
                label="Read the whole section",
                style=discord.ButtonStyle.primary,
                custom_id=f"pj:open:{essay_id}:{section_id}:{owner_id}",
            )
        )

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str], /):
        return cls(int(match["essay"]), int(match["section"]), int(match["owner"]))

    async def run(self, interaction: Interaction) -> None:
        await open_section(interaction, self.essay_id, self.section_id, self.owner_id)


async def open_section(
    interaction: Interaction, essay_id: int, section_id: int, owner_id: int
) -> None:
    """A new message with the section: public for the owner, private for anyone else."""
    library = library_of(interaction)
    essay = library.get(essay_id, interaction.guild_id)
    embed, build = await section_reply(library, essay, section_id, 0)
    shown = await deliver(interaction, owner_id, embed, build, new_message=True)
    await track(interaction, shown, "section", essay_id=essay.id, section_id=section_id)


def search_view(hits: list[SearchHit], owner_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SearchHitPicker(hits, owner_id))
    return view


class SearchHitPicker(
    SafeItem,
    discord.ui.DynamicItem[discord.ui.Select],
    template=r"pj:hit:(?P<owner>\d+)",
):
    def __init__(self, hits: list[SearchHit], owner_id: int) -> None:
        self.owner_id = owner_id
        options = [
            discord.SelectOption(
                label=truncate(f"{i}. {hit.section.heading}", 100),
                description=truncate(hit.essay.title, 100),
                value=f"{hit.essay.id}:{hit.section.id}",
            )
            for i, hit in enumerate(hits, 1)
        ]
        super().__init__(
            discord.ui.Select(
                placeholder="Open a result…",
                options=options or [discord.SelectOption(label="…", value="0:0")],
                custom_id=f"pj:hit:{owner_id}",
            )
        )

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str], /):
        return cls([], int(match["owner"]))

    async def run(self, interaction: Interaction) -> None:
        essay_id, section_id = (int(part) for part in chosen_value(interaction).split(":"))
        await open_section(interaction, essay_id, section_id, self.owner_id)


# --- the essay list -----------------------------------------------------------------------


async def essay_list_page(
    interaction: Interaction, _arg: int, page: int
) -> tuple[discord.Embed, int, int]:
    essays = library_of(interaction).visible(interaction.guild_id)
    count = list_page_count(essays)
    page = min(page, count - 1)
    return essay_list_embed(essays, page), page, count


# --- moderators: publishing an upload, removing an essay ----------------------------------


def buttons_view(*items: discord.ui.Item) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view


class UploadButton(
    SafeItem,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"pj:upload:(?P<token>[0-9a-f]+):(?P<action>publish|cancel)",
):
    def __init__(self, token: str, action: str) -> None:
        self.token, self.action = token, action
        publish = action == "publish"
        super().__init__(
            discord.ui.Button(
                label="Publish" if publish else "Cancel",
                style=discord.ButtonStyle.success if publish else discord.ButtonStyle.secondary,
                custom_id=f"pj:upload:{token}:{action}",
            )
        )

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str], /):
        return cls(match["token"], match["action"])

    async def run(self, interaction: Interaction) -> None:
        from cogs.essays import EssaysCog  # the cog imports this module

        cog = interaction.client.get_cog("Essays")
        if not isinstance(cog, EssaysCog):
            raise UserError("Uploading essays is not available right now; try again later.")
        pending = cog.pending_uploads.get(self.token)
        if pending is None:
            await interaction.response.edit_message(
                content="This preview has expired. Upload the file again with `/essay add`.",
                embed=None,
                view=None,
            )
            return
        require_here(interaction, pending.guild_id)
        if pending.user_id != interaction.user.id:
            raise UserError("Only the moderator who uploaded this essay can publish it.")
        if self.action == "cancel":
            cog.pending_uploads.pop(self.token, None)
            await interaction.response.edit_message(
                content="Cancelled: nothing was added.", embed=None, view=None
            )
            return
        require_moderator(interaction, "publish essays")
        essay, updated = await library_of(interaction).publish_upload(
            pending.guild_id,
            pending.essay,
            digest=pending.digest,
            user_id=pending.user_id,
            now=now_epoch(),
        )
        cog.pending_uploads.pop(self.token, None)
        verb = "Updated" if updated else "Published"
        await interaction.response.edit_message(
            content=(
                f"{verb} **{literal(essay.title)}** ({literal(essay.film_line)}), {plural(len(essay.sections), 'section')}. "
                f"Members can read it with `/essay read`."
            ),
            embed=None,
            view=None,
        )


async def load_essay(interaction: Interaction, essay_id: int) -> EssayInfo | None:
    return library_of(interaction).essays.get(essay_id)


def require_essay_remover(interaction: Interaction, _essay: EssayInfo) -> None:
    require_moderator(interaction, "remove essays")


async def remove_essay(interaction: Interaction, essay: EssayInfo) -> str:
    library = library_of(interaction)
    if not library.is_visible(essay, interaction.guild_id):
        raise NotFound("That essay is no longer in this server's library.")
    await library.hide(
        guild_id_of(interaction), essay, user_id=interaction.user.id, now=now_epoch()
    )
    return (
        f"Removed **{literal(essay.title)}** from this server's library. Reactions and quotes tied to it "
        "are kept."
    )


REMOVE_ESSAY = Confirmation(
    "Remove",
    "Keep it",
    "Kept: nothing was removed.",
    load=load_essay,
    server_of=lambda essay: essay.guild_id,  # None: a bundled essay, in every server's library
    may=require_essay_remover,
    act=remove_essay,
    gone="That essay is no longer in the library; nothing was removed.",
)


DYNAMIC_ITEMS = (
    SectionButton,
    ContentsButton,
    SectionPicker,
    OpenSectionButton,
    SearchHitPicker,
    PageButton,
    UploadButton,
    ConfirmButton,
)
