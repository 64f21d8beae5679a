"""Helpers shared by cogs: the moderator check and replying to the right person."""

from __future__ import annotations

import asyncio
import re
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import discord
from discord import app_commands

from bot.client import report_error
from bot.diary.taste import CLOSEST, Close, Taste
from bot.errors import UserError
from bot.interactions import Interaction, answered_soon, edit_clicked, services
from bot.text import clean, truncate


def moderator_role_id(interaction: Interaction) -> int | None:
    """The server's moderator role, if one is set (`/film settings moderator_role`)."""
    return interaction.client.films.moderator_role(interaction.guild_id)


def has_manage_server(interaction: Interaction) -> bool:
    member = interaction.user
    return isinstance(member, discord.Member) and member.guild_permissions.manage_guild


def is_moderator(interaction: Interaction) -> bool:
    if has_manage_server(interaction):
        return True
    member, role_id = interaction.user, moderator_role_id(interaction)
    return (
        isinstance(member, discord.Member)
        and role_id is not None
        and member.get_role(role_id) is not None
    )


def moderators_are(interaction: Interaction) -> str:
    role_id = moderator_role_id(interaction)
    return "Manage Server" + (f" or the <@&{role_id}> role" if role_id else "")


def require_moderator(interaction: Interaction, action: str) -> None:
    """Refuse a member who is not a moderator; nothing has changed when this raises."""
    if not is_moderator(interaction):
        raise UserError(f"Only moderators ({moderators_are(interaction)}) can {action}.")


def require_manage_server(interaction: Interaction, action: str) -> None:
    """For what decides who moderates: Manage Server only, never the moderator role itself."""
    if not has_manage_server(interaction):
        raise UserError(f"Only members with Manage Server can {action}.")


class Text(app_commands.Transformer):
    """A text option as the bot keeps it (`bot.text.clean`): control characters removed, newlines
    kept only where the text may have lines, and refused when nothing visible is left."""

    def __init__(self, what: str, max_length: int, *, lines: bool = False) -> None:
        self.what, self.max_length, self.lines = what, max_length, lines

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def min_value(self) -> int:
        return 1

    @property
    def max_value(self) -> int:
        return self.max_length

    async def transform(self, interaction: discord.Interaction, value: str) -> str:
        text = clean(value, lines=self.lines)
        if not text:
            raise UserError(
                f"The {self.what} is blank once spaces and invisible characters are set aside; "
                "nothing was saved."
            )
        return text


async def deliver(
    interaction: Interaction,
    owner_id: int,
    embed: discord.Embed,
    build_view: Callable[[int], discord.ui.View | None],
    *,
    new_message: bool = False,
) -> int | None:
    """Answer a click on a message that belongs to `owner_id`; the id of the public message
    that now shows `embed`, if any.

    The owner's click changes their message in place (or posts a new public one when
    `new_message`); anyone else gets a private copy they can page through themselves, so one
    member's click never moves another member's reading."""
    clicker = interaction.user.id
    if clicker == owner_id and not new_message:
        await interaction.response.edit_message(embed=embed, view=build_view(clicker))
        return interaction.message.id if interaction.message else None
    ephemeral = clicker != owner_id
    view = build_view(clicker)
    callback = await interaction.response.send_message(
        embed=embed,
        ephemeral=ephemeral,
        view=view if view is not None else discord.utils.MISSING,
    )
    return None if ephemeral else callback.message_id


async def essay_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete for an `essay` option, from the in-memory catalog."""
    library = services(interaction).library
    return [
        app_commands.Choice(name=truncate(f"{e.title} — {e.film_line}", 100), value=e.key[:100])
        for e in library.match_essays(interaction.guild_id, current)
    ]


async def section_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete for a `section` option, within the essay typed beside it."""
    library = services(interaction).library
    typed = getattr(interaction.namespace, "essay", None)
    if not typed:
        return []
    try:
        essay = library.resolve_essay(interaction.guild_id, str(typed))
    except UserError:
        return []
    return [
        app_commands.Choice(
            name=truncate(f"{s.position}. {s.heading}", 100),
            value=s.slug if len(s.slug) <= 100 else str(s.position),
        )
        for s in library.match_sections(essay, current)
    ]


class SafeItem:
    """Routes a callback's errors through the same handler as slash commands."""

    async def callback(self, interaction: discord.Interaction) -> Any:
        # discord.py types an item's interaction for any client; this bot's is a Projectionist.
        ours = cast(Interaction, interaction)
        try:
            await self.run(ours)
        except Exception as error:
            await report_error(interaction, error)

    async def run(self, interaction: Interaction) -> None:
        raise NotImplementedError


T = TypeVar("T")


@dataclass(frozen=True)
class Confirmation(Generic[T]):
    """A destructive action that waits for its asker to click the confirming button.

    A custom_id can be sent with any ids in it, and a moderator can lose the role between the
    question and the click, so the click checks again what the command checked, before acting:
    `load` reads the target afresh by its id, the button refuses it when `server_of` names a
    server other than the one the click comes from, `may` refuses a clicker who may not do this
    now, and only then `act` runs, on the loaded target. Every field is required: a confirmation
    cannot leave a check out."""

    yes: str  # the confirming button's label
    no: str  # the declining button's label
    declined: str  # what the message says when declined
    # The target by its id, or None once it is gone.
    load: Callable[[Interaction, int], Awaitable[T | None]]
    # The server the target belongs to; None for what belongs to every server (a bundled essay,
    # a member's own data).
    server_of: Callable[[T], int | None]
    may: Callable[[Interaction, T], None]  # raises UserError when the clicker may not, now
    act: Callable[[Interaction, T], Awaitable[str]]  # does it; returns what to say
    gone: str = "That is no longer here; nothing was changed."


async def checked_target(
    confirmation: Confirmation[T], interaction: Interaction, target_id: int
) -> T:
    """The target of a click, once everything its command checked holds again."""
    target = await confirmation.load(interaction, target_id)
    if target is None:
        raise UserError(confirmation.gone)
    require_here(interaction, confirmation.server_of(target))
    confirmation.may(interaction, target)
    return target


def require_here(interaction: Interaction, guild_id: int | None) -> None:
    """Refuse a click on something of another server (None: it belongs to every server)."""
    if guild_id is not None and guild_id != interaction.guild_id:
        raise UserError("That belongs to another server; nothing was changed.")


def only_themselves(interaction: Interaction, member_id: int) -> None:
    if member_id != interaction.user.id:
        raise UserError("Members can only do this for themselves; nothing was changed.")


CONFIRMATIONS: dict[str, Confirmation[Any]] = {}
# Per bot, the answers being given: question message id -> its answer.
ANSWERED: weakref.WeakKeyDictionary[discord.Client, dict[int, asyncio.Future[str]]] = (
    weakref.WeakKeyDictionary()
)


def confirm_view(action: str, target_id: int, owner_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ConfirmButton(action, target_id, owner_id, "yes"))
    view.add_item(ConfirmButton(action, target_id, owner_id, "no"))
    return view


class ConfirmButton(
    SafeItem,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"pj:confirm:(?P<action>[a-z-]+):(?P<target>\d+):(?P<owner>\d+):(?P<answer>yes|no)",
):
    def __init__(self, action: str, target_id: int, owner_id: int, answer: str) -> None:
        self.action, self.target_id, self.owner_id, self.answer = (
            action,
            target_id,
            owner_id,
            answer,
        )
        confirmation = CONFIRMATIONS.get(action)
        yes = answer == "yes"
        label = (confirmation.yes if yes else confirmation.no) if confirmation else answer
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.danger if yes else discord.ButtonStyle.secondary,
                custom_id=f"pj:confirm:{action}:{target_id}:{owner_id}:{answer}",
            )
        )

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str], /):
        return cls(match["action"], int(match["target"]), int(match["owner"]), match["answer"])

    async def run(self, interaction: Interaction) -> None:
        if interaction.user.id != self.owner_id:
            raise UserError("Only the member who asked can confirm this.")
        confirmation = CONFIRMATIONS.get(self.action)
        if confirmation is None:
            raise UserError("This question has expired; run the command again.")
        # A double click answers the question once: the second click waits for the first and
        # gets the same answer (its count is the true one, not "0 deleted").
        question = interaction.message.id if interaction.message else interaction.id
        answered = ANSWERED.setdefault(interaction.client, {})
        answer = answered.get(question)
        if answer is None:
            answer = answered[question] = asyncio.ensure_future(
                self._answer(confirmation, interaction)
            )
            if len(answered) > 1000:
                answered.pop(next(iter(answered)))
        try:
            # Forgetting a member or ending a week first writes every reaction received.
            text = await answered_soon(interaction, asyncio.shield(answer))
        except Exception:
            answered.pop(question, None)  # a failed answer may be tried again
            raise
        await edit_clicked(interaction, content=text, embed=None, view=None)

    async def _answer(self, confirmation: Confirmation[Any], interaction: Interaction) -> str:
        target = await checked_target(confirmation, interaction, self.target_id)
        if self.answer == "no":
            return confirmation.declined
        return await confirmation.act(interaction, target)


# A paged list: (interaction, argument, wanted page) -> (embed, page shown, page count).
Pager = Callable[[Interaction, int, int], Awaitable[tuple[discord.Embed, int, int]]]
PAGERS: dict[str, Pager] = {}


def pager_view(kind: str, arg: int, page: int, pages: int, owner_id: int) -> discord.ui.View | None:
    """Previous/Next page buttons for a list, or None when it fits on one page."""
    if pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(PageButton(kind, "prev", arg, page - 1, owner_id, disabled=page == 0))
    view.add_item(PageButton(kind, "next", arg, page + 1, owner_id, disabled=page + 1 >= pages))
    return view


class PageButton(
    SafeItem,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"pj:page:(?P<kind>[a-z-]+):(?P<dir>prev|next):(?P<arg>\d+):(?P<page>\d+):(?P<owner>\d+)",
):
    def __init__(
        self, kind: str, direction: str, arg: int, page: int, owner_id: int, disabled: bool = False
    ) -> None:
        self.kind, self.arg, self.page, self.owner_id = kind, arg, max(page, 0), owner_id
        super().__init__(
            discord.ui.Button(
                label="Previous page" if direction == "prev" else "Next page",
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=f"pj:page:{kind}:{direction}:{arg}:{max(page, 0)}:{owner_id}",
            )
        )

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str], /):
        return cls(
            match["kind"], match["dir"], int(match["arg"]), int(match["page"]), int(match["owner"])
        )

    async def run(self, interaction: Interaction) -> None:
        pager = PAGERS.get(self.kind)
        if pager is None:
            raise UserError("This list is no longer available; run the command again.")
        embed, page, pages = await pager(interaction, self.arg, self.page)
        await deliver(
            interaction,
            self.owner_id,
            embed,
            lambda owner: pager_view(self.kind, self.arg, page, pages, owner),
        )


ASK_AT_ONCE = 100  # user ids Discord answers in one request for members


async def members_in(
    guild: discord.Guild, ranked: list[int], wanted: int | None = None
) -> dict[int, discord.Member]:
    """Those of `ranked` who are members of the server now, asking Discord in order, a hundred
    ids at a time, until `wanted` are found. The bot runs without the privileged members intent,
    so its cache knows few members: a member who left is simply not found."""
    found: dict[int, discord.Member] = {}
    ids = list(dict.fromkeys(ranked))
    for start in range(0, len(ids), ASK_AT_ONCE):
        if wanted is not None and len(found) >= wanted:
            break
        batch = ids[start : start + ASK_AT_ONCE]
        unknown = [i for i in batch if guild.get_member(i) is None]
        asked = {}
        if unknown:
            replies = await guild.query_members(user_ids=unknown, limit=ASK_AT_ONCE, cache=False)
            asked = {member.id: member for member in replies}
        for i in batch:
            member = guild.get_member(i) or asked.get(i)
            if member is not None:
                found[i] = member
    return found


async def closest_present(
    tastes: Taste, guild: discord.Guild, viewer_id: int, wanted: int = CLOSEST, offset: int = 0
) -> tuple[list[Close], float | None]:
    """The `wanted` members closest by taste who are in the server now, from `offset` in the
    ranking, read a page at a time until enough are found (members who left are passed over; a
    member a rating moved between two pages is named once)."""
    close: list[Close] = []
    while True:
        page, club = await tastes.closest(guild.id, viewer_id, ASK_AT_ONCE, offset)
        named = {c.member_id for c in close}
        ranked = [c for c in page if c.member_id not in named]
        present = await members_in(guild, [c.member_id for c in ranked], wanted - len(close))
        close += [c for c in ranked if c.member_id in present]
        if len(close) >= wanted or len(page) < ASK_AT_ONCE:
            return close[:wanted], club
        offset += ASK_AT_ONCE
