"""/quote and "Save as quote": the lines that struck people, kept and given back."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Projectionist
from bot.errors import UserError
from bot.interactions import (
    Interaction,
    answered_soon,
    guild_id_of,
    now_epoch,
    reply,
    services,
    track,
)
from bot.quotes.embeds import essay_source, quote_embed, quote_lines, quote_list_embed
from bot.quotes.service import PAGE_SIZE, Quote, Quotes
from bot.reactions.recorder import counted_since
from bot.text import clean, counted_from, last_days, literal, plural, truncate
from cogs._common import (
    CONFIRMATIONS,
    PAGERS,
    Confirmation,
    ConfirmButton,
    PageButton,
    Text,
    confirm_view,
    essay_choices,
    is_moderator,
    only_themselves,
    pager_view,
    section_choices,
)


def quotes_of(interaction: Interaction) -> Quotes:
    return services(interaction).quotes


async def show_quote(interaction: Interaction, quote: Quote, source: str | None = None) -> None:
    sent = await interaction.response.send_message(embed=quote_embed(quote, source))
    await track(
        interaction,
        sent.message_id,
        "quote",
        quote_id=quote.id,
        essay_id=quote.essay_id,
        section_id=quote.section_id,
    )


def source_of(interaction: Interaction, quote: Quote) -> str | None:
    return essay_source(quote, services(interaction).library.essays)


async def quote_list_page(
    interaction: Interaction, member_id: int, page: int
) -> tuple[discord.Embed, int, int]:
    """A page of the server's quotes, or of one member's (`member_id` 0: everyone's)."""
    guild_id = guild_id_of(interaction)
    author = member_id or None
    quotes, total = await quotes_of(interaction).page(guild_id, author, page)
    pages = max(1, -(-total // PAGE_SIZE))
    if page >= pages:
        page = pages - 1
        quotes, total = await quotes_of(interaction).page(guild_id, author, page)
    title = "Quotes" if author is None else "Quotes of a member"
    embed = quote_list_embed(
        title, quotes, services(interaction).library.essays, page, pages, total
    )
    if author is not None:
        embed.description = f"Quotes of <@{author}>\n\n" + (embed.description or "")
    return embed, page, pages


def require_quote_remover(interaction: Interaction, quote: Quote) -> None:
    """Who may remove a quote: its saver, the member quoted, or a moderator."""
    user = interaction.user.id
    if user not in (quote.saved_by, quote.author_id) and not is_moderator(interaction):
        raise UserError(
            "Only the member who saved it, the member quoted, or a moderator can remove a quote."
        )


async def load_quote(interaction: Interaction, quote_id: int) -> Quote | None:
    return await quotes_of(interaction).by_id(quote_id)


async def remove_quote(interaction: Interaction, quote: Quote) -> str:
    if not await quotes_of(interaction).remove(quote.id, guild_id_of(interaction)):
        return f"Quote #{quote.number} was already removed."
    return "Removed."


async def the_member(interaction: Interaction, member_id: int) -> int:
    return member_id


async def forget_member(interaction: Interaction, member_id: int) -> str:
    bot = interaction.client
    forgotten = await bot.services.members.forget(member_id, now_epoch())
    counts = forgotten.counts
    removed = [await bot.jobs.run(job_id) for job_id in forgotten.jobs]
    left = sum(1 for job in removed if job is None or not job.done)
    takes = ""
    if left:
        takes = (
            f" {plural(left, 'take')} could not be removed from the threads yet; "
            "the bot keeps trying and moderators see it in `/film now`."
        )
    return (
        f"Done. Deleted {plural(counts['quotes'], 'quote')}, "
        f"{plural(counts['reactions'], 'reaction')}, "
        f"{plural(counts['ratings'], 'rating')} (with any takes), "
        f"{plural(counts['diary'], 'diary entry', 'diary entries')}, "
        f"{plural(counts['watchlist'], 'film')} of your watchlist, and "
        f"{plural(counts['nominations'], 'nomination')}.{takes} "
        "Reactions you add to the bot's posts from now on are kept again; "
        "`/quote optout` keeps others from quoting you."
    )


OWN_CONFIRMATIONS: dict[str, Confirmation[Any]] = {
    "quote-remove": Confirmation(
        "Remove",
        "Keep it",
        "Kept: nothing was removed.",
        load=load_quote,
        server_of=lambda quote: quote.guild_id,
        may=require_quote_remover,
        act=remove_quote,
        gone="That quote was already removed.",
    ),
    # A member's data is theirs in every server; only they may delete it.
    "forget-me": Confirmation(
        "Delete my data",
        "Cancel",
        "Cancelled: nothing was deleted.",
        load=the_member,
        server_of=lambda _member_id: None,
        may=only_themselves,
        act=forget_member,
    ),
}


DYNAMIC_ITEMS = (PageButton, ConfirmButton)


class QuotesCog(commands.Cog, name="Quotes"):
    quote = app_commands.Group(
        name="quote", description="Quotes saved by the community", guild_only=True
    )
    privacy = app_commands.Group(
        name="privacy", description="Your data in this bot", guild_only=True
    )

    def __init__(self, bot: Projectionist) -> None:
        self.bot = bot
        self.save_menu = app_commands.ContextMenu(
            name="Save as quote",
            callback=self.save_as_quote,
            extras={"description": "Save a member's message as a numbered quote"},
        )
        self.save_menu.guild_only = True

    @property
    def quotes(self) -> Quotes:
        return self.bot.quotes

    async def cog_load(self) -> None:
        CONFIRMATIONS.update(OWN_CONFIRMATIONS)
        PAGERS["quotes"] = quote_list_page
        self.bot.tree.add_command(self.save_menu)
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        for action in OWN_CONFIRMATIONS:
            CONFIRMATIONS.pop(action, None)
        PAGERS.pop("quotes", None)
        self.bot.tree.remove_command(self.save_menu.name, type=self.save_menu.type)

    async def save_as_quote(self, interaction: Interaction, message: discord.Message) -> None:
        if message.author.bot:
            raise UserError("Quotes are for what members say; bot messages can't be saved.")
        text = clean(message.content, lines=True)
        if not text:
            raise UserError("That message has no text to quote.")
        quote, created = await self.quotes.save_message(
            guild_id_of(interaction),
            text=text,
            author_id=message.author.id,
            author_name=message.author.display_name,
            channel_id=message.channel.id,
            message_id=message.id,
            jump_url=message.jump_url,
            said_at=int(message.created_at.timestamp()),
            saved_by=interaction.user.id,
            now=now_epoch(),
        )
        text = (
            f"Saved as quote #{quote.number}."
            if created
            else f"That message is already quote #{quote.number}."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @quote.command(name="add", description="Save a quote by hand, or a passage of an essay")
    @app_commands.describe(
        text="The words (at most 1,000 characters)",
        author="Who said or wrote it",
        essay="The essay it comes from",
        section="The section it comes from",
    )
    @app_commands.autocomplete(essay=essay_choices, section=section_choices)
    async def add(
        self,
        interaction: Interaction,
        text: app_commands.Transform[str, Text("quote", 1000, lines=True)],
        author: app_commands.Transform[str, Text("author", 100)] | None = None,
        essay: str | None = None,
        section: str | None = None,
    ) -> None:
        essay_id = section_id = None
        if section and not essay:
            raise UserError("Name the essay too when you give a section.")
        if essay:
            found = self.bot.library.resolve_essay(interaction.guild_id, essay)
            named = self.bot.library.resolve_section(found, section) if section else None
            passage = await self.bot.library.find_passage(found, text, named)
            if passage is None:
                where = f"“{literal(named.heading if named else found.title)}”"
                raise UserError(
                    f"Those words are not in {where}. Quotes from essays must match the text "
                    "(spacing and quote marks aside)."
                )
            essay_id, section_id = found.id, passage.id
            author = author or found.author
        quote = await self.quotes.add_typed(
            guild_id_of(interaction),
            text=text,
            author_name=author,
            essay_id=essay_id,
            section_id=section_id,
            saved_by=interaction.user.id,
            now=now_epoch(),
        )
        await show_quote(interaction, quote, source_of(interaction, quote))

    # --- reading ----------------------------------------------------------------------

    @quote.command(name="random", description="A random quote")
    @app_commands.describe(member="Only quotes of this member", essay="Only quotes from this essay")
    @app_commands.autocomplete(essay=essay_choices)
    async def random(
        self,
        interaction: Interaction,
        member: discord.Member | None = None,
        essay: str | None = None,
    ) -> None:
        essay_id = self.bot.library.resolve_essay(interaction.guild_id, essay).id if essay else None
        quote = await self.quotes.random(
            guild_id_of(interaction), author_id=member.id if member else None, essay_id=essay_id
        )
        await show_quote(interaction, quote, source_of(interaction, quote))

    @quote.command(name="show", description="A quote by its number")
    async def show(
        self, interaction: Interaction, number: app_commands.Range[int, 1, 10**9]
    ) -> None:
        quote = await self.quotes.get(guild_id_of(interaction), number)
        await show_quote(interaction, quote, source_of(interaction, quote))

    @quote.command(name="search", description="Search the quotes")
    async def search(
        self, interaction: Interaction, query: app_commands.Range[str, 1, 200]
    ) -> None:
        found = await self.quotes.search(guild_id_of(interaction), query)
        if not found:
            raise UserError(f"No quote matches “{truncate(query, 100)}”.")
        embed = discord.Embed(
            title=f"Quotes: {literal(truncate(query, 200))}",
            description=quote_lines(found, self.bot.library.essays),
        )
        await interaction.response.send_message(embed=embed)

    @quote.command(name="list", description="Every quote, newest first")
    @app_commands.describe(member="Only quotes of this member")
    async def list_quotes(
        self, interaction: Interaction, member: discord.Member | None = None
    ) -> None:
        member_id = member.id if member else 0
        embed, page, pages = await quote_list_page(interaction, member_id, 0)
        view = pager_view("quotes", member_id, page, pages, interaction.user.id)
        kwargs: dict[str, Any] = {"view": view} if view else {}
        await interaction.response.send_message(embed=embed, **kwargs)

    @quote.command(name="top", description="The most-reacted quotes")
    @app_commands.describe(days="Reactions of the last this many days (default 30)")
    async def top(
        self, interaction: Interaction, days: app_commands.Range[int, 1, 3650] = 30
    ) -> None:
        guild_id = guild_id_of(interaction)
        since = counted_since(now_epoch(), days)
        recorder = self.bot.recorder
        # The first page writes every reaction received first, which a storm makes long.
        ranked = await answered_soon(
            interaction,
            self.quotes.top(
                guild_id,
                lambda count, offset: recorder.leading_quotes(
                    guild_id, since, count, offset, latest=offset == 0
                ),
            ),
        )
        if not ranked:
            raise UserError(f"No quote got a reaction in {last_days(days)}.")
        counts = {quote.id: n for quote, n in ranked}
        embed = discord.Embed(
            title=f"Most-reacted quotes, {last_days(days)}",
            description=quote_lines(
                [quote for quote, _ in ranked], self.bot.library.essays, counts
            ),
        )
        embed.set_footer(text=counted_from(since))
        await reply(interaction, embed=embed)

    # --- removing and privacy ---------------------------------------------------------

    @quote.command(
        name="remove", description="Remove a quote (its saver, the quoted member or a moderator)"
    )
    async def remove(
        self, interaction: Interaction, number: app_commands.Range[int, 1, 10**9]
    ) -> None:
        quote = await self.quotes.get(guild_id_of(interaction), number)
        require_quote_remover(interaction, quote)
        view = confirm_view("quote-remove", quote.id, interaction.user.id)
        await interaction.response.send_message(
            f"Remove quote #{quote.number}?",
            embed=quote_embed(quote, source_of(interaction, quote)),
            view=view,
            ephemeral=True,
        )

    @quote.command(name="optout", description="Stop (or allow again) others quoting you")
    async def optout(self, interaction: Interaction) -> None:
        out = await self.quotes.toggle_optout(interaction.user.id, now_epoch())
        text = (
            "Others can no longer save your messages as quotes. Quotes already saved stay; "
            "`/privacy forget-me` deletes them."
            if out
            else "Others can quote you again."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @privacy.command(
        name="forget-me", description="Delete your quotes, reactions, ratings and takes"
    )
    async def forget_me(self, interaction: Interaction) -> None:
        view = confirm_view("forget-me", interaction.user.id, interaction.user.id)
        await interaction.response.send_message(
            "This deletes every quote of you and by you, your reactions, your ratings and takes, "
            "your diary and watchlist, and your nominations, in every server. It cannot be undone.",
            view=view,
            ephemeral=True,
        )


async def setup(bot: Projectionist) -> None:
    await bot.add_cog(QuotesCog(bot))
