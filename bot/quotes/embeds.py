"""Embeds for quotes and stats. Quotes render literally: no markup, links or mentions."""

from __future__ import annotations

from datetime import UTC, datetime

import discord

from bot.embeds import COLOUR, TITLE_LIMIT
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


def quote_embed(quote: Quote, source: str | None = None) -> discord.Embed:
    """A quote; `source` ("From *essay*, “section”") names where an essay quote comes from, and
    stands alone when the essay names no author."""
    embed = discord.Embed(description=literal(quote.text), colour=COLOUR)
    if source and not (quote.author_id or quote.author_name):
        lines = [f"— {source}"]
    else:
        lines = [f"— {attribution(quote)}", *([source] if source else [])]
    if quote.jump_url:
        lines.append(f"[Original message]({quote.jump_url})")
    embed.add_field(name="\u200b", value=clip("\n".join(lines), 1024), inline=False)
    embed.set_footer(text=f"Quote #{quote.number}")
    if quote.said_at or quote.saved_at:
        embed.timestamp = datetime.fromtimestamp(quote.said_at or quote.saved_at, tz=UTC)
    return embed


def quote_lines(quotes: list[Quote], counts: dict[int, int] | None = None) -> str:
    lines = []
    for quote in quotes:
        extra = (
            f" · {plural(counts[quote.id], 'reaction')}" if counts and quote.id in counts else ""
        )
        lines.append(
            f"**#{quote.number}** {literal(truncate(quote.text, 140))} — {attribution(quote)}{extra}"
        )
    return clip("\n".join(lines), 4000)


def quote_list_embed(
    title: str, quotes: list[Quote], page: int, pages: int, total: int
) -> discord.Embed:
    embed = discord.Embed(title=truncate(title, TITLE_LIMIT), colour=COLOUR)
    embed.description = quote_lines(quotes) if quotes else "No quotes yet."
    embed.set_footer(text=f"{plural(total, 'quote')} · Page {page + 1} of {pages}")
    return embed
