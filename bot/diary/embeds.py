"""Embeds of members' film life: a page of a diary, a watchlist, the club's watchlist, taste
matches, the club's films by their ratings."""

from __future__ import annotations

from datetime import date

import discord
from discord.utils import escape_mentions

from bot.diary.service import PAGE_SIZE, Entry, Wanted, WatchlistLine
from bot.diary.stars import average_shown, shown
from bot.diary.taste import (
    MIN_RATERS,
    MIN_SHARED,
    PRIOR,
    Close,
    ClubFilms,
    Match,
    Rater,
    Shared,
)
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
    body = "\n".join(f"{i}. **{line.film.film_shown(120)}**" for i, line in enumerate(lines, 1))
    embed.description = clip(f"{head}\n\n{body}", 4096)
    return embed


def club_watchlist_embed(wanted: list[Wanted]) -> discord.Embed:
    embed = discord.Embed(title="What the club wants to see", colour=COLOUR)
    if not wanted:
        embed.description = "No one has a film on their watchlist yet; `/watchlist add` starts one."
        return embed
    lines = []
    for i, w in enumerate(wanted, 1):
        who = [f"<@{m}>" for m in w.members]
        others = w.count - len(who)
        if others:
            who.append(plural(others, "other"))
        lines.append(
            f"{i}. **{w.film.film_shown(120)}** — {plural(w.count, 'member')}: {', '.join(who)}"
        )
    embed.description = clip("\n".join(lines), 4096)
    return embed


def interest_line(wanted: int, seen: int) -> str:
    """`on 2 members' watchlists, seen by 1 member`; empty when neither."""
    parts = []
    if wanted:
        parts.append("on " + plural(wanted, "member's watchlist", "members' watchlists"))
    if seen:
        parts.append("seen by " + plural(seen, "member"))
    return ", ".join(parts)


# --- taste ---------------------------------------------------------------------------------


def whole(value: float) -> int:
    """A score as shown: to the nearest whole number, halves up."""
    return int(value + 0.5)


def shared_line(shared: Shared, viewer_id: int, member_id: int) -> str:
    return (
        f"**{shared.film.film_shown(100)}** — <@{viewer_id}> "
        f"{shown(shared.mine)}, <@{member_id}> {shown(shared.theirs)}"
    )


def taste_embed(viewer_id: int, match: Match) -> discord.Embed:
    embed = discord.Embed(title="Taste match", colour=COLOUR)
    pair = f"<@{viewer_id}> and <@{match.member_id}>"
    if match.score is None or match.raw is None:
        so_far = plural(match.films, "film") + " in common so far"
        embed.description = (
            f"{pair}: {so_far}. A score needs {MIN_SHARED} films you both rated; "
            "`/diary log` adds yours."
        )
        return embed
    lines = [
        f"{pair}: **{whole(match.score)}/100** from {plural(match.films, 'film')} both rated.",
        f"-# {whole(match.raw)} on those films alone"
        + (
            f", drawn toward the club's typical {whole(match.club)} while few films are shared."
            if match.club is not None
            else "."
        ),
    ]
    embed.description = "\n".join(lines)
    for name, films in (("Both loved", match.loved), ("Most apart", match.apart)):
        if films:
            lines = [shared_line(s, viewer_id, match.member_id) for s in films]
            embed.add_field(name=name, value=clip("\n".join(lines), 1024), inline=False)
    return embed


def closest_embed(viewer_id: int, close: list[Close], club: float | None) -> discord.Embed:
    embed = discord.Embed(title="Closest tastes", colour=COLOUR)
    if not close:
        embed.description = (
            f"No member shares {MIN_SHARED} rated films with <@{viewer_id}> yet; "
            "`/diary log` rates the films you watched."
        )
        return embed
    lines = [
        f"{i}. <@{c.member_id}> — **{whole(c.score)}/100** from {plural(c.films, 'film')}"
        for i, c in enumerate(close, 1)
    ]
    head = f"Members whose ratings are closest to <@{viewer_id}>'s"
    if club is not None:
        head += f" (the club's typical agreement: {whole(club)})"
    embed.description = clip(head + "\n\n" + "\n".join(lines), 4096)
    return embed


# --- the club's films ----------------------------------------------------------------------


def stars_number(halves: float) -> str:
    return f"{halves / 2:.1f}"


def rater_line(rater: Rater, word: str) -> str:
    who = "A member who keeps their diary private" if rater.private else f"<@{rater.member_id}>"
    return (
        f"{who} — {stars_number(abs(rater.lean))} stars {word} the others' average, "
        f"over {plural(rater.films, 'film')}"
    )


def club_films_embed(club: ClubFilms) -> discord.Embed:
    embed = discord.Embed(title="The club's films", colour=COLOUR)
    if club.mean is None:
        embed.description = "No one has rated a film yet; `/diary log` and `/film rate` do."
        return embed
    embed.description = (
        f"From {plural(club.ratings, 'rating')} (each member's latest of each film); "
        f"the club's mean is {average_shown(club.mean / 2)}."
    )
    if club.divisive is not None:
        f = club.divisive
        embed.add_field(
            name="Most divisive",
            value=f"**{f.film.film_shown(100)}** — "
            f"{plural(f.count, 'rating')} from {shown(f.lowest)} to {shown(f.highest)}, "
            f"a spread of {stars_number(f.spread)} stars",
            inline=False,
        )
    if club.unanimous:
        embed.add_field(
            name="Unanimous",
            value="\n".join(
                f"**{f.film.film_shown(100)}** — {shown(f.lowest)} from all {f.count}"
                for f in club.unanimous
            ),
            inline=False,
        )
    if club.best:
        embed.add_field(
            name="Best rated",
            value="\n".join(
                f"{i}. **{f.film.film_shown(100)}** — "
                f"{average_shown(f.weighted / 2)} weighted, from {plural(f.count, 'rating')} "
                f"averaging {stars_number(f.mean)}"
                for i, f in enumerate(club.best, 1)
            ),
            inline=False,
        )
    if club.harshest:
        embed.add_field(
            name="Harshest raters",
            value="\n".join(rater_line(r, "below") for r in club.harshest),
            inline=False,
        )
    if club.generous:
        embed.add_field(
            name="Most generous raters",
            value="\n".join(rater_line(r, "above") for r in club.generous),
            inline=False,
        )
    embed.set_footer(
        text=f"Spread: the standard deviation of a film's ratings ({MIN_RATERS} at least). "
        f"Weighted: (n × its mean + {PRIOR} × the club's mean) / (n + {PRIOR}), "
        "two ratings at least."
    )
    return embed
