"""Embeds for the film of the week: kickoff, prompts, takes, digest, status and history."""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.diary import stars as diary_stars
from bot.embeds import COLOUR, TITLE_LIMIT, event_url, jump_url, when
from bot.essays.library import EssayInfo
from bot.films.schedule import describe_days
from bot.films.screenings import Screening
from bot.films.service import (
    Prompt,
    PromptQueue,
    Rating,
    RatingSummary,
    Settings,
    Week,
)
from bot.films.vote import Nomination, Poll
from bot.text import clip, film_line, fit_lines, literal, plural, truncate

SCHEDULE_LINES = 10


def stars(halves: int) -> str:
    """A rating in half stars (1 to 10) as members read it: `★★★½`."""
    return diary_stars.shown(halves)


def screening_text(screening: Screening, *, note: bool = True) -> str:
    """`<when> (<in 2 days>) in <#voice>`, its event link and the moderators' note."""
    text = f"{when(screening.starts_at)} ({when(screening.starts_at, 'R')}) in {screening.where}"
    if screening.event_id:
        text += f" · [the event]({event_url(screening.guild_id, screening.event_id)})"
    if note and screening.note:
        text += f"\n{truncate(screening.note, 300)}"
    return text


def interested(count: int, *, past: bool = False) -> str:
    """How many members said they are interested in a screening's event, as a sentence."""
    if not count:
        return (
            "nobody said they were interested"
            if past
            else "Nobody has said they are interested yet."
        )
    if past:
        return f"{plural(count, 'member was', 'members were')} interested"
    return f"{plural(count, 'member is', 'members are')} interested."


def kickoff_embed(
    week_title: str,
    year: int | None,
    essay: EssayInfo | None,
    settings: Settings,
    slots: list[int],
    ends_at: int,
    in_thread: bool = True,
    screening: Screening | None = None,
    planned: int | None = None,
) -> discord.Embed:
    """The week's kickoff; `planned` prompts (queued questions and essay sections) take the
    first prompt times, and only those are listed."""
    film = film_line(week_title, year)
    embed = discord.Embed(
        title=f"Film of the week: {literal(truncate(film, TITLE_LIMIT - 40))}", colour=COLOUR
    )
    if essay is not None:
        embed.add_field(
            name="Essay",
            value=f"{literal(truncate(essay.title, 900))} — {plural(len(essay.sections), 'section')}",
            inline=False,
        )
    used = slots if planned is None else slots[:planned]
    lines = [when(slot) for slot in used[:SCHEDULE_LINES]]
    if len(used) > SCHEDULE_LINES:
        lines.append(f"… and {len(used) - SCHEDULE_LINES} more")
    if not slots:
        lines = ["No prompt times fall inside this week."]
    elif len(used) < len(slots):
        lines.append(
            ("Then questions" if used else "Questions")
            + " moderators queue with `/film prompt add`, each at the next prompt time."
        )
    embed.add_field(
        name=f"Prompts ({settings.prompt_time} {settings.timezone}, {describe_days(settings.prompt_days)})",
        value="\n".join(lines),
        inline=False,
    )
    if screening is not None:
        embed.add_field(name="Screening", value=screening_text(screening), inline=False)
    embed.add_field(name="Ends", value=f"{when(ends_at)} ({when(ends_at, 'R')})", inline=False)
    embed.add_field(
        name="How to take part",
        value=(
            ("Talk in the thread below" if in_thread else "Talk here in the channel")
            + ", where the prompts appear.\n"
            "`/film rate` gives your stars (½ to 5) and an optional take; ratings are revealed "
            "when the week ends.\n"
            "`/film nominate` puts a film forward for next time."
        ),
        inline=False,
    )
    return embed


def prompt_embed(
    week: Week, number: int, text: str, excerpt: str | None, heading: str | None
) -> discord.Embed:
    embed = discord.Embed(colour=COLOUR)
    embed.set_author(name=truncate(f"Prompt {number} · {week.film_line}", 256))
    if excerpt is not None:
        embed.title = literal(truncate(heading or "From the essay", TITLE_LIMIT // 2))
        # The passage keeps its paragraphs; the question stands in a paragraph of its own.
        question = f"**{truncate(text, 500)}**"
        embed.description = f"{clip(excerpt, 4000 - len(question) - 2)}\n\n{question}"
    else:
        embed.description = truncate(text, 4000)
    return embed


def take_embed(author_name: str, week: Week, take: str, spoiler: bool = False) -> discord.Embed:
    """A member's take in the thread; as a spoiler while the week runs, when the server wants
    (shown as typed inside, so the whole take stays hidden)."""
    text = f"||{literal(take)}||" if spoiler else literal(take, spoilers=True)
    embed = discord.Embed(description=text, colour=COLOUR)
    embed.set_author(name=truncate(f"{author_name}'s take on {week.film_line}", 256))
    embed.set_footer(
        text="React to the takes you agree with. Stars are revealed at the end of the week."
    )
    return embed


@dataclass(frozen=True)
class TakeLine:
    name: str
    rating: Rating
    reactions: int


@dataclass(frozen=True)
class Highlight:
    label: str
    reactions: int
    replies: int
    url: str | None


def spread_lines(summary: RatingSummary) -> str:
    top = max(summary.spread.values(), default=0) or 1
    lines = []
    for n in range(10, 0, -1):
        count = summary.spread.get(n, 0)
        bar = "█" * round(10 * count / top) if count else ""
        lines.append(f"`{stars(n)}` {bar} {count}")
    return "\n".join(lines)


def digest_embed(
    week: Week,
    summary: RatingSummary,
    takes: list[TakeLine],
    highlight: Highlight | None,
    participants: int,
    thread_url: str | None,
    screening: Screening | None = None,
) -> discord.Embed:
    embed = discord.Embed(title=f"The week of {week.film_shown(200)} is over", colour=COLOUR)
    if summary.count and summary.average is not None:
        embed.description = (
            f"**{diary_stars.average_shown(summary.average)}** average from "
            f"{plural(summary.count, 'rating')}"
            f"\n\n{spread_lines(summary)}"
        )
    else:
        embed.description = "Nobody rated this one."
    if takes:
        lines = []
        for line in takes[:5]:
            reacted = f" · {plural(line.reactions, 'reaction')}" if line.reactions else ""
            lines.append(
                f"{line.name} {stars(line.rating.stars)}{reacted}\n{literal(truncate(line.rating.take or '', 160), spoilers=True)}"
            )
        embed.add_field(name="Takes", value=clip("\n".join(lines), 1024), inline=False)
    if highlight is not None:
        where = f" ([jump]({highlight.url}))" if highlight.url else ""
        embed.add_field(
            name="Drew the most response",
            value=clip(
                f"{truncate(highlight.label, 300)}{where}\n"
                f"{plural(highlight.reactions, 'reaction')}, "
                f"{plural(highlight.replies, 'reply', 'replies')}",
                1024,
            ),
            inline=False,
        )
    if screening is not None and screening.interested is not None:
        embed.add_field(
            name="Screening",
            value=f"{when(screening.starts_at)}: {interested(screening.interested, past=True)}",
            inline=False,
        )
    footer = f"{plural(participants, 'member')} took part" if participants else "Nobody took part"
    embed.add_field(
        name="Taking part",
        value=footer
        + (
            f" · [the {'thread' if week.has_thread else 'discussion'}]({thread_url})"
            if thread_url
            else ""
        ),
        inline=False,
    )
    return embed


def now_embed(
    week: Week,
    essay: EssayInfo | None,
    next_prompt: int | None,
    rated: int,
    screening: Screening | None = None,
    queue: PromptQueue | None = None,
) -> discord.Embed:
    embed = discord.Embed(title=f"Film of the week: {week.film_shown(200)}", colour=COLOUR)
    if essay is not None:
        embed.add_field(name="Essay", value=literal(truncate(essay.title, 500)), inline=False)
    if week.thread_id:
        embed.add_field(name="Discussion", value=f"<#{week.thread_id}>")
    if queue is not None and queue.empty:
        upcoming = "None queued: moderators add questions with `/film prompt add`"
    elif next_prompt:
        upcoming = f"{when(next_prompt)} ({when(next_prompt, 'R')})"
    else:
        upcoming = "None scheduled"
    embed.add_field(name="Next prompt", value=upcoming)
    embed.add_field(name="Rated so far", value=plural(rated, "member") if rated else "Nobody yet")
    if screening is not None:
        embed.add_field(name="Screening", value=screening_text(screening), inline=False)
    embed.add_field(
        name="Ends", value=f"{when(week.ends_at)} ({when(week.ends_at, 'R')})", inline=False
    )
    return embed


def settings_embed(settings: Settings) -> discord.Embed:
    embed = discord.Embed(title="Film of the week settings", colour=COLOUR)
    embed.add_field(
        name="Channel",
        value=f"<#{settings.channel_id}>" if settings.channel_id else "Where `/film start` is used",
    )
    embed.add_field(name="Time zone", value=settings.timezone)
    embed.add_field(
        name="Prompts", value=f"{settings.prompt_time}, {describe_days(settings.prompt_days)}"
    )
    embed.add_field(name="Week length", value=plural(settings.length_days, "day"))
    embed.add_field(
        name="Discussion",
        value="A thread for each week" if settings.threads else "In the channel itself",
    )
    embed.add_field(
        name="Takes", value="Hidden as spoilers" if settings.spoiler_takes else "Shown as written"
    )
    embed.add_field(
        name="Moderators",
        value="Manage Server"
        + (f" and <@&{settings.moderator_role_id}>" if settings.moderator_role_id else ""),
    )
    return embed


def queued_reply(position: int, queue: PromptQueue) -> str:
    """What a moderator who queued a question reads: the number it will post as, and when."""
    turn = queue.turns[position - 1] if 0 < position <= len(queue.turns) else None
    where = f"number {position} in `/film prompt list`"
    if turn is None:
        return f"Queued ({where}). `/film prompt now` posts the next one now."
    if turn.at is None:
        return (
            f"Queued as prompt {turn.number} ({where}), but no prompt time is left this week: "
            "post it with `/film prompt now`."
        )
    return (
        f"Queued: it will be posted as prompt {turn.number} at {when(turn.at)} "
        f"({when(turn.at, 'R')}), or now with `/film prompt now`. It is {where}."
    )


def prompt_line(prompt: Prompt, essay: EssayInfo | None, limit: int) -> str:
    """A prompt as a list shows it: an essay prompt by its section's heading."""
    if prompt.kind == "section" and essay is not None:
        index = essay.section_index(prompt.section_id) if prompt.section_id else None
        if index is not None:
            heading = truncate(essay.sections[index].heading, limit)
            return f"Section {index + 1} of the essay: “{literal(heading)}”"
    return truncate(prompt.text, limit)


def prompt_list_embed(
    week: Week,
    queue: PromptQueue,
    posted: list[Prompt],
    guild_id: int,
    essay: EssayInfo | None = None,
) -> discord.Embed:
    embed = discord.Embed(title=f"Prompts for {week.film_shown(200)}", colour=COLOUR)
    queued = []
    for i, turn in enumerate(queue.turns, 1):
        at = f"{when(turn.at)}" if turn.at else "no prompt time left this week"
        queued.append(f"{i}. {truncate(turn.prompt.text, 150)} — prompt {turn.number}, {at}")
    if queue.next_section is not None:
        after = "Then the essay" if queued else "Nothing queued: the essay comes next"
        heading = literal(truncate(queue.next_section.heading, 150))
        left = plural(queue.sections_left, "section")
        queued.append(f"{after}, from “{heading}” ({left} left).")
    elif not queued:
        queued.append(
            "The queue is empty, so nothing will be posted at the prompt times. "
            "Queue a question with `/film prompt add`."
        )
    embed.add_field(name="Queued", value=fit_lines(queued, 1024), inline=False)
    done = []
    for i, p in enumerate(posted, 1):
        link = (
            f" ([jump]({jump_url(guild_id, week.thread_id, p.message_id)}))"
            if week.thread_id and p.message_id
            else ""
        )
        done.append(f"{p.number or i}. {prompt_line(p, essay, 120)}{link}")
    embed.add_field(
        name="Posted", value=fit_lines(done, 1024) or "Nothing posted yet.", inline=False
    )
    return embed


def history_embed(weeks: list[Week], guild_id: int) -> discord.Embed:
    embed = discord.Embed(title="Past films of the week", colour=COLOUR)
    if not weeks:
        embed.description = "No week has finished yet."
        return embed
    lines = []
    for week in weeks:
        rating = (
            f"{diary_stars.average_shown(week.average_rating)} ({week.rating_count})"
            if week.rating_count and week.average_rating is not None
            else "no ratings"
        )
        link = (
            f" · [digest]({jump_url(guild_id, week.digest_channel_id, week.digest_message_id)})"
            if week.digest_message_id and week.digest_channel_id
            else ""
        )
        lines.append(
            f"**{week.film_shown(120)}** — {rating} · {when(week.ended_at or week.ends_at, 'D')}{link}"
        )
    embed.description = "\n".join(lines)
    return embed


def nominations_embed(nominations: list[Nomination], poll: Poll | None = None) -> discord.Embed:
    embed = discord.Embed(title="Nominations for the next film", colour=COLOUR)
    if poll is not None and poll.message_id is not None:
        embed.add_field(
            name="The poll is open",
            value=(
                f"[Vote for the next film]({jump_url(poll.guild_id, poll.channel_id, poll.message_id)})"
                f" until {when(poll.ends_at)} ({when(poll.ends_at, 'R')})"
            ),
            inline=False,
        )
    if not nominations:
        embed.description = (
            "Nothing else nominated yet." if poll is not None else "Nothing nominated yet."
        ) + " Put a film forward with `/film nominate`."
        return embed
    embed.description = "\n".join(
        f"{i}. **{n.film_shown(120)}** — {plural(n.nominators, 'nomination')}"
        for i, n in enumerate(nominations[:25], 1)
    )
    return embed


def screened_note(week: Week) -> str:
    """ " (screened <date>, rated 4.2)" for a film the server has had its week for."""
    rated = f", rated {week.average_rating:.1f}" if week.rating_count else ""
    return f" (screened {when(week.ended_at or week.ends_at, 'D')}{rated})"
