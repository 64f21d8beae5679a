"""Embeds for quotes and stats. Quotes render literally: no markup, links or mentions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import discord

from bot.embeds import COLOUR, TITLE_LIMIT
from bot.essays.library import EssayInfo
from bot.quotes.service import Quote
from bot.text import clip, plural, truncate
from bot.text import literal as shown


def literal(text: str) -> str:
    """A quote's text as written, its spoilers kept (see bot.embeds.literal)."""
    return shown(text, spoilers=True)


def attribution(quote: Quote) -> str:
    if quote.author_id:
        return f"<@{quote.author_id}>"
    if quote.author_name:
        return literal(quote.author_name)
    return "an essay" if quote.essay_id else "someone"


def essay_source(quote: Quote, essays: Mapping[int, EssayInfo]) -> str | None:
    """“From *essay*, “section”” for a quote from an essay the library still holds."""
    essay = essays.get(quote.essay_id) if quote.essay_id else None
    if essay is None:
        return None
    index = essay.section_index(quote.section_id) if quote.section_id else None
    where = f", “{essay.sections[index].heading}”" if index is not None else ""
    return f"From *{shown(essay.title)}*{shown(where)}"


def credit(quote: Quote, source: str | None = None, sep: str = "\n") -> str:
    """Who a quote is by and, for an essay's, where it comes from: the one credit a card and a
    list both show. The source stands alone when the essay names no author."""
    if source and not (quote.author_id or quote.author_name):
        return f"— {source}"
    return f"— {attribution(quote)}" + (f"{sep}{source}" if source else "")


def quote_embed(quote: Quote, source: str | None = None) -> discord.Embed:
    """A quote; `source` (`essay_source`) names where an essay quote comes from."""
    embed = discord.Embed(description=literal(quote.text), colour=COLOUR)
    lines = [credit(quote, source)]
    if quote.jump_url:
        lines.append(f"[Original message]({quote.jump_url})")
    embed.add_field(name="\u200b", value=clip("\n".join(lines), 1024), inline=False)
    embed.set_footer(text=f"Quote #{quote.number}")
    if quote.said_at or quote.saved_at:
        embed.timestamp = datetime.fromtimestamp(quote.said_at or quote.saved_at, tz=UTC)
    return embed


def quote_lines(
    quotes: list[Quote],
    essays: Mapping[int, EssayInfo],
    counts: dict[int, int] | None = None,
) -> str:
    lines = []
    for quote in quotes:
        extra = (
            f" · {plural(counts[quote.id], 'reaction')}" if counts and quote.id in counts else ""
        )
        by = credit(quote, essay_source(quote, essays), sep=" · ")
        lines.append(f"**#{quote.number}** {literal(truncate(quote.text, 140))} {by}{extra}")
    return clip("\n".join(lines), 4000)


def quote_list_embed(
    title: str,
    quotes: list[Quote],
    essays: Mapping[int, EssayInfo],
    page: int,
    pages: int,
    total: int,
) -> discord.Embed:
    embed = discord.Embed(title=truncate(title, TITLE_LIMIT), colour=COLOUR)
    embed.description = quote_lines(quotes, essays) if quotes else "No quotes yet."
    embed.set_footer(text=f"{plural(total, 'quote')} · Page {page + 1} of {pages}")
    return embed
