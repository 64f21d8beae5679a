"""Embeds for the stats: an essay's sections, a member, a server's period."""

from __future__ import annotations

import discord

from bot.embeds import COLOUR, jump_url
from bot.stats.service import MemberStats, SectionStats, ServerStats
from bot.stats.year import TAKE_LABEL, YearInFilm
from bot.text import clip, counted_from, last_days, literal, plural, truncate


def emoji_summary(by_emoji: dict[str, int], names: dict[str, str], limit: int = 4) -> str:
    top = sorted(by_emoji.items(), key=lambda item: -item[1])[:limit]
    return " ".join(f"{names.get(key, key)} {count}" for key, count in top)


def essay_stats_embed(
    title: str, sections: list[SectionStats], names: dict[str, str], image_name: str
) -> discord.Embed:
    embed = discord.Embed(
        title=f"What moved people: {literal(truncate(title, 200))}", colour=COLOUR
    )
    lines = []
    for s in sections:
        emoji = emoji_summary(s.by_emoji, names)
        parts = [plural(s.reactions, "reaction") + (f" ({emoji})" if emoji else "")]
        parts.append(plural(s.quotes, "quote"))
        if s.prompt_reactions:
            parts.append(f"{s.prompt_reactions} on its prompt")
        lines.append(f"**{s.position}. {literal(truncate(s.heading, 80))}** — {', '.join(parts)}")
    best = max(sections, key=lambda s: (s.score, -s.position), default=None)
    summary = (
        f"Moved people most: **{best.position}. {literal(truncate(best.heading, 100))}**\n\n"
        if best is not None and best.score > 0
        else "No reactions or quotes yet.\n\n"
    )
    embed.description = clip(summary + "\n".join(lines), 4000)
    embed.set_image(url=f"attachment://{image_name}")
    return embed


def member_stats_embed(name: str, stats: MemberStats) -> discord.Embed:
    embed = discord.Embed(title=f"{literal(truncate(name, 200))} in this server", colour=COLOUR)
    for label, value in (
        ("Quotes saved", stats.quotes_saved),
        ("Quoted", stats.quoted),
        ("Reactions given", stats.reactions_given),
        ("Takes posted", stats.takes),
        ("Weeks joined", stats.weeks_joined),
    ):
        embed.add_field(name=label, value=str(value))
    return embed


def server_stats_embed(days: int, since: int, stats: ServerStats) -> discord.Embed:
    period = last_days(days)
    embed = discord.Embed(title=period[0].upper() + period[1:], colour=COLOUR)
    embed.set_footer(text=counted_from(since))
    taking_part = plural(stats.members, "member") if stats.members else "nobody"
    embed.description = (
        f"{plural(stats.reactions, 'reaction')} · {plural(stats.quotes, 'quote')} saved · "
        f"{plural(stats.ratings, 'rating')} · {taking_part} taking part"
    )
    sections = "\n".join(
        f"{i}. {literal(truncate(heading, 60))} ({literal(truncate(title, 40))}) — {n}"
        for i, (title, heading, n) in enumerate(stats.top_sections, 1)
    )
    quotes = "\n".join(
        f"#{number} {literal(truncate(text, 80), spoilers=True)} — {n}"
        for number, text, n in stats.top_quotes
    )
    members = "\n".join(f"{i}. <@{user}> — {n}" for i, (user, n) in enumerate(stats.top_members, 1))
    embed.add_field(
        name="Top sections",
        value=clip(sections, 1024) or f"No section was reacted to in {period}.",
        inline=False,
    )
    embed.add_field(
        name="Top quotes", value=clip(quotes, 1024) or no_top_quotes(stats, period), inline=False
    )
    embed.add_field(
        name="Most involved",
        value=clip(members, 1024) or f"Nobody reacted, saved a quote or rated in {period}.",
        inline=False,
    )
    return embed


def no_top_quotes(stats: ServerStats, period: str) -> str:
    """What is true of the period's quotes when none was reacted to."""
    if stats.quotes:
        saved = "was" if stats.quotes == 1 else "were"
        return (
            f"{plural(stats.quotes, 'quote')} {saved} saved in {period}; "
            "none has a reaction yet. `/quote list` lists every quote."
        )
    return f"No quote was saved or reacted to in {period}."


def year_embed(
    guild_id: int, title: str, y: YearInFilm, lines: list[tuple[str, str]], image_name: str
) -> discord.Embed:
    embed = discord.Embed(title=literal(truncate(title, 200)), colour=COLOUR)
    if y.empty:
        who = "The club has" if y.member_id is None else f"<@{y.member_id}> has"
        embed.description = (
            f"{who} nothing logged, rated, reacted to or quoted in {y.year} yet: "
            "`/diary log` adds a film watched."
        )
        return embed
    for label, fact in lines:
        if label == TAKE_LABEL and y.take is not None:
            fact += f" · [read it]({jump_url(guild_id, y.take.channel_id, y.take.message_id)})"
        embed.add_field(name=label, value=truncate(fact, 1024), inline=False)
    embed.set_image(url=f"attachment://{image_name}")
    return embed
