"""Embeds for what the bot shows, within Discord's limits. Pure functions of domain values."""

from __future__ import annotations

import discord

from bot.embeds import COLOUR, TITLE_LIMIT
from bot.essays.library import EssayInfo, Passage, SearchHit, SectionText
from bot.text import clip, literal, paginate, plural, truncate

PAGE_LIMIT = 3800  # under the 4,096 description limit, leaving room for the 6,000 embed total
LIST_PAGE_SIZE = 10


def section_pages(body: str) -> list[str]:
    return paginate(body, PAGE_LIMIT)


def essay_byline(essay: EssayInfo) -> str:
    return truncate(f"{essay.title} · {essay.film_line}", TITLE_LIMIT)


def section_embed(text: SectionText, page: int, pages: list[str]) -> discord.Embed:
    essay = text.essay
    embed = discord.Embed(
        title=literal(truncate(text.section.heading, 200)), description=pages[page], colour=COLOUR
    )
    embed.set_author(name=essay_byline(essay))
    footer = f"Section {text.index + 1} of {len(essay.sections)}"
    if len(pages) > 1:
        footer += f" · Page {page + 1} of {len(pages)}"
    embed.set_footer(text=footer)
    return embed


def contents_embed(essay: EssayInfo, openings: dict[int, str]) -> discord.Embed:
    embed = discord.Embed(title=literal(truncate(essay.title, 200)), colour=COLOUR)
    embed.set_author(name=truncate(essay.film_line, TITLE_LIMIT))
    lines = []
    used = 0
    for i, section in enumerate(essay.sections, 1):
        preview = truncate(openings.get(section.id, "").replace("\n", " "), 90)
        line = f"**{i}. {literal(truncate(section.heading, 120))}**\n{preview}"
        if used + len(line) + 60 > 4000:
            lines.append(f"… and {len(essay.sections) - i + 1} more: pick them from the menu.")
            break
        lines.append(line)
        used += len(line) + 1
    embed.description = "\n".join(lines)
    credits = [f"Directed by {essay.director}" if essay.director else None]
    credits.append(f"Essay by {essay.author}" if essay.author else None)
    footer = " · ".join(c for c in credits if c)
    embed.set_footer(
        text=(footer + " · " if footer else "") + plural(len(essay.sections), "section")
    )
    return embed


def essay_list_embed(essays: list[EssayInfo], page: int) -> discord.Embed:
    pages = max(1, -(-len(essays) // LIST_PAGE_SIZE))
    shown = essays[page * LIST_PAGE_SIZE : (page + 1) * LIST_PAGE_SIZE]
    embed = discord.Embed(title="Essays", colour=COLOUR)
    if not essays:
        embed.description = "The library is empty. Moderators can add an essay with `/essay add`."
        return embed
    lines = []
    for essay in shown:
        director = f", dir. {literal(essay.director)}" if essay.director else ""
        count = len(essay.sections)
        lines.append(
            f"**{literal(truncate(essay.title, 150))}**\n{literal(truncate(essay.film_line, 120))}{director}"
            f" · {plural(count, 'section')}"
        )
    embed.description = "\n\n".join(lines)
    embed.set_footer(text=f"{plural(len(essays), 'essay')} · Page {page + 1} of {pages}")
    return embed


def list_page_count(essays: list[EssayInfo]) -> int:
    return max(1, -(-len(essays) // LIST_PAGE_SIZE))


def excerpt_embed(passage: Passage) -> discord.Embed:
    embed = discord.Embed(description=passage.text, colour=COLOUR)
    embed.set_author(name=essay_byline(passage.essay))
    index = passage.essay.section_index(passage.section.id) or 0
    embed.set_footer(
        text=truncate(
            f"From “{passage.section.heading}” · Section {index + 1} of "
            f"{len(passage.essay.sections)}",
            2000,
        )
    )
    return embed


def search_embed(query: str, hits: list[SearchHit]) -> discord.Embed:
    embed = discord.Embed(title=truncate(f"Search: {query}", TITLE_LIMIT), colour=COLOUR)
    for i, hit in enumerate(hits, 1):
        embed.add_field(
            name=literal(truncate(f"{i}. {hit.section.heading} — {hit.essay.title}", 200)),
            value=truncate(hit.snippet.replace("\n", " "), 1000) or "…",
            inline=False,
        )
    embed.set_footer(text="Open a result from the menu below.")
    return embed


def essay_preview_embed(
    title: str,
    film_line: str,
    director: str | None,
    sections: list[tuple[str, int]],
    warnings: list[str],
    updates: str | None,
) -> discord.Embed:
    embed = discord.Embed(title=f"Preview: {literal(truncate(title, 200))}", colour=COLOUR)
    embed.add_field(name="Film", value=literal(truncate(film_line, 500)))
    embed.add_field(name="Director", value=literal(truncate(director or "—", 500)))
    lines = [
        f"{i}. {truncate(h, 80)} — {plural(n, 'character')}" for i, (h, n) in enumerate(sections, 1)
    ]
    embed.add_field(
        name=plural(len(sections), "section"), value=clip("\n".join(lines), 1024), inline=False
    )
    notes = list(warnings)
    if updates:
        notes.insert(0, updates)
    if notes:
        embed.add_field(
            name="Notes", value=clip("\n".join(f"• {n}" for n in notes), 1024), inline=False
        )
    embed.set_footer(text="Publish to add it to this server's library, or Cancel.")
    return embed
