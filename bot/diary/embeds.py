"""Embeds of members' film life: a page of a diary, a watchlist, the club's watchlist."""

from __future__ import annotations

from datetime import date

import discord
from discord.utils import escape_mentions

from bot.diary.service import PAGE_SIZE, Entry, Wanted, WatchlistLine
from bot.diary.stars import shown
from bot.embeds import COLOUR
from bot.text import clip, literal, plural, truncate

REVIEW_IN_LIST = 300
REWATCH = "↻ rewatch"


def day_shown(watched_on: str | None) -> str:
    """`28 Nov 2026`, or `no date` for a film rated or watched with none."""
    if watched_on is None:
        return "no date"
    day = date.fromisoformat(watched_on)
    return f"{day.day} {day:%b %Y}"


def review_shown(entry: Entry, limit: int = REVIEW_IN_LIST) -> str:
    """A review as its member wrote it (an imported one keeps the Markdown it came as), the
    whole of it a spoiler where they flagged it."""
    text = truncate(entry.review or "", limit)
    body = escape_mentions(text) if entry.imported else literal(text)
    return f"||{body}||" if entry.spoilers else body


def entry_line(entry: Entry, own: bool) -> str:
    parts = [
        f"**{entry.number}.** {day_shown(entry.watched_on)}",
        f"**{literal(entry.film_line)}**",
    ]
    if entry.rating:
        parts.append(shown(entry.rating))
    if entry.rewatch:
        parts.append(REWATCH)
    if entry.week_id is not None:
        parts.append("film of the week")
    line = " · ".join(parts)
    if own and entry.week_running:
        line += " *(hidden from others until the week ends)*"
    if entry.tags:
        line += f"\n-# {literal(truncate(entry.tags, 120))}"
    if entry.review:
        line += f"\n> {review_shown(entry)}"
    return line


def diary_embed(
    member_id: int,
    entries: list[Entry],
    page: int,
    total: int,
    year: int | None,
    *,
    own: bool,
) -> discord.Embed:
    pages = max(1, -(-total // PAGE_SIZE))
    when = f" in {year}" if year else ""
    embed = discord.Embed(title=f"Diary{when}", colour=COLOUR)
    head = f"<@{member_id}> · {plural(total, 'entry', 'entries')}{when}"
    if not entries:
        hint = " `/diary log` adds a film you watched." if own else ""
        embed.description = f"{head}\n\nNothing logged{when} yet.{hint}"
        return embed
    body = "\n\n".join(entry_line(e, own) for e in entries)
    embed.description = clip(f"{head}\n\n{body}", 4096)
    embed.set_footer(text=f"Page {page + 1} of {pages} · newest first")
    return embed


def entry_reply(verb: str, entry: Entry) -> str:
    rating = f" {shown(entry.rating)}" if entry.rating else ""
    rewatch = f" ({REWATCH})" if entry.rewatch else ""
    return (
        f"{verb} entry {entry.number}: **{literal(entry.film_line)}**{rating}{rewatch}, "
        f"watched {day_shown(entry.watched_on)}."
    )


def watchlist_embed(member_id: int, lines: list[WatchlistLine]) -> discord.Embed:
    embed = discord.Embed(title="Watchlist", colour=COLOUR)
    head = f"<@{member_id}> · {plural(len(lines), 'film')}"
    if not lines:
        embed.description = f"{head}\n\nNothing on it yet; `/watchlist add` puts a film there."
        return embed
    body = "\n".join(
        f"{i}. **{literal(truncate(line.film.film_line, 120))}**" for i, line in enumerate(lines, 1)
    )
    embed.description = clip(f"{head}\n\n{body}", 4096)
    return embed


def club_watchlist_embed(wanted: list[Wanted]) -> discord.Embed:
    embed = discord.Embed(title="What the club wants to see", colour=COLOUR)
    if not wanted:
        embed.description = "No one has a film on their watchlist yet; `/watchlist add` starts one."
        return embed
    lines = []
    for i, w in enumerate(wanted, 1):
        who = [f"<@{m}>" for m in w.members[:8]]
        others = w.count - len(who)
        if others:
            who.append(plural(others, "other"))
        lines.append(
            f"{i}. **{literal(truncate(w.film.film_line, 120))}** — "
            f"{plural(w.count, 'member')}: {', '.join(who)}"
        )
    embed.description = clip("\n".join(lines), 4096)
    return embed
