"""A week's screening: a Discord scheduled event, reminders in the thread at the right local
times, through simcord with virtual time; forum weeks."""

from __future__ import annotations

from datetime import UTC, datetime

import discord

from tests.cogs.test_films import (
    NY,
    advance_to,
    digests_in,
    end_week,
    go_offline,
    new_york_evenings,
    prompts_in,
    start_week,
)
from tests.helpers import missing, refusal


def screening_posts(thread) -> list[discord.Message]:
    return [
        m
        for m in thread.history()
        if m.embeds and (m.embeds[0].title or "").startswith(("Screening", "Starting in", "The sc"))
    ]


def local(message: discord.Message) -> str:
    return message.created_at.astimezone(NY).strftime("%m-%d %H:%M")


def kickoff(channel) -> discord.Embed:
    return next(
        m.embeds[0]
        for m in channel.history()
        if m.embeds and (m.embeds[0].title or "").startswith("Film of the week")
    )


def fields(embed: discord.Embed) -> dict[str, str]:
    return {f.name: f.value for f in embed.fields}


async def test_a_screening_across_the_clock_change_reminds_at_local_times_once_across_a_restart(
    club, make_bot
):
    env, guild = club.env, club.guild
    room = guild.create_voice_channel("Screening Room")
    await new_york_evenings(club)
    await advance_to(env, datetime(2026, 3, 5, 15, tzinfo=UTC))  # Thursday 10:00 in New York
    thread = await start_week(club, title="Leaving Las Vegas", year=1995)

    r = await club.mia.slash(
        club.general, "film screening set", when="sunday 20:00", where="Screening Room"
    )
    events = list(env.backend.get_guild(guild.id).scheduled_events.values())
    assert len(events) == 1
    event = events[0]
    starts = datetime(2026, 3, 9, 0, tzinfo=UTC)  # Sunday 8 March, 20:00 EDT (clocks went forward)
    assert datetime.fromisoformat(event.scheduled_start_time) == starts
    assert (event.name, event.channel_id, event.entity_type) == (
        "Screening: Leaving Las Vegas (1995)",
        room.id,
        2,
    )
    assert f"/{thread.id}" in event.description
    assert r.response.ephemeral
    assert not missing(
        r.response.content,
        "**Leaving Las Vegas (1995)**",
        "Sunday 8 March 2026, 20:00 (America/New_York)",
        f"<#{room.id}>",
        "the day before at the same time",
        "15 minutes before",
        f"https://discord.com/events/{guild.id}/{event.id}",
    )
    await env.advance_time(30)
    note = screening_posts(thread)[-1].embeds[0]
    assert note.title == "Screening: Leaving Las Vegas (1995)"
    assert note.description.startswith(f"<t:{int(starts.timestamp())}:F>")
    assert f"https://discord.com/events/{guild.id}/{event.id}" in note.description
    shown = fields(kickoff(club.general))["Screening"]
    assert shown.startswith(f"<t:{int(starts.timestamp())}:F>") and f"<#{room.id}>" in shown
    now = await club.alice.slash(club.general, "film now")
    assert f"<#{room.id}>" in fields(now.response.embeds[0])["Screening"]

    await club.alice.subscribe_event(event.id)
    await advance_to(env, datetime(2026, 3, 8, 1, 1, tzinfo=UTC))  # Saturday 20:01 EST
    day = screening_posts(thread)[-1]
    assert day.embeds[0].title == "Screening tomorrow: Leaving Las Vegas (1995)"
    assert local(day) == "03-07 20:00"
    assert "1 member is interested." in day.embeds[0].description

    await env.restart_bot(make_bot())
    await club.bob.subscribe_event(event.id)
    await advance_to(env, datetime(2026, 3, 9, 1, tzinfo=UTC))
    reminders = [m for m in screening_posts(thread) if m.embeds[0].title != note.title]
    assert [(m.embeds[0].title.split(":")[0], local(m)) for m in reminders] == [
        ("Screening tomorrow", "03-07 20:00"),
        ("Starting in 15 minutes", "03-08 19:45"),
    ]
    assert "2 members are interested." in reminders[1].embeds[0].description
    await env.restart_bot(make_bot())
    await env.advance_time(86400)
    assert len(screening_posts(thread)) == 3

    await end_week(club)
    digest = fields(digests_in(club.general)[0].embeds[0])
    assert digest["Screening"] == f"<t:{int(starts.timestamp())}:F>: 2 members were interested"


async def test_a_screening_moved_keeps_its_event_and_a_cancelled_one_reminds_nobody(club):
    env, guild = club.env, club.guild
    await new_york_evenings(club)
    await advance_to(env, datetime(2026, 1, 5, 15, tzinfo=UTC))  # Monday 10:00 in New York
    thread = await start_week(club, title="Heat")
    await club.mia.slash(
        club.general,
        "film screening set",
        when="2026-01-08 21:00",
        where="The Roxy, 8 Main St",
        note="Bring snacks.",
    )
    [event] = env.backend.get_guild(guild.id).scheduled_events.values()
    assert (event.entity_type, event.entity_metadata) == (3, {"location": "The Roxy, 8 Main St"})
    assert event.description.startswith("Bring snacks.")

    moved = await club.mia.slash(club.general, "film screening set", when="friday 8pm")
    assert moved.response.content.startswith(
        "Moved the screening of **Heat** to Friday 9 January 2026, 20:00 (America/New_York), "
        "in The Roxy, 8 Main St."
    )
    assert list(env.backend.get_guild(guild.id).scheduled_events.values()) == [event]
    assert datetime.fromisoformat(event.scheduled_start_time) == datetime(
        2026, 1, 10, 1, tzinfo=UTC
    )
    await env.advance_time(30)
    assert screening_posts(thread)[-1].embeds[0].title == "The screening of Heat has moved"
    assert "Bring snacks." in fields(kickoff(club.general))["Screening"]

    cancelled = await club.mia.slash(club.general, "film screening cancel")
    assert not missing(cancelled.response.content, "Cancelled", "**Heat**", "no reminders")
    assert event.status == 4  # cancelled in Discord
    await env.advance_time(30)
    assert screening_posts(thread)[-1].embeds[0].title == "The screening of Heat is cancelled"
    assert "Screening" not in fields(kickoff(club.general))
    await advance_to(env, datetime(2026, 1, 11, tzinfo=UTC))
    titles = [m.embeds[0].title for m in screening_posts(thread)]
    assert not any(t.startswith(("Screening tomorrow", "Starting in")) for t in titles)
    again = await club.mia.slash(club.general, "film screening cancel")
    assert refusal(env, again).startswith("This week has no screening to cancel")


async def test_a_screening_nobody_is_interested_in_says_nobody_not_zero(club):
    env = club.env
    await new_york_evenings(club)
    await advance_to(env, datetime(2026, 1, 5, 15, tzinfo=UTC))  # Monday 10:00 in New York
    thread = await start_week(club, title="Heat")
    await club.mia.slash(
        club.general, "film screening set", when="2026-01-08 21:00", where="The Roxy"
    )
    await advance_to(env, datetime(2026, 1, 8, 2, 1, tzinfo=UTC))  # Wednesday 21:01 EST
    day = screening_posts(thread)[-1].embeds[0]
    assert day.title == "Screening tomorrow: Heat"
    assert "Nobody has said they are interested yet." in day.description
    assert "0 members" not in day.description
    await advance_to(env, datetime(2026, 1, 9, 3, tzinfo=UTC))  # after the screening
    await end_week(club)
    digest = fields(digests_in(club.general)[0].embeds[0])
    assert digest["Screening"].endswith(": nobody said they were interested")
    assert digest["Taking part"].startswith("Nobody took part")


async def test_a_screening_refused_by_discord_is_kept_shown_to_moderators_and_still_reminded(club):
    env, guild = club.env, club.guild
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    thread = await start_week(club, title="Heat")
    env.inject_error(
        "POST",
        f"/guilds/{guild.id}/scheduled-events",
        status=403,
        code=50013,
        message="Missing Permissions",
        times=None,
    )
    r = await club.mia.slash(club.general, "film screening set", when="2026-01-07 20:00")
    assert r.response.content.endswith(
        "⚠️ Its Discord event could not be made: I am not allowed to create events in this "
        "server: give me Create Events (Server Settings → Roles)."
    )
    now = await club.mia.slash(club.general, "film now")
    assert (
        "The screening's Discord event was not made to match: I am not allowed to create events"
        in now.followups[-1].content
    )
    await advance_to(env, datetime(2026, 1, 7, 20, tzinfo=UTC))
    titles = [m.embeds[0].title for m in screening_posts(thread)]
    assert titles == [
        "Screening: Heat",
        "Screening tomorrow: Heat",
        "Starting in 15 minutes: Heat",
    ]


async def test_screening_times_and_places_that_cannot_be_are_refused_privately(club):
    env = club.env
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    none = await club.mia.slash(club.general, "film screening set", when="friday 20:00")
    assert refusal(env, none).startswith("No film of the week is running.")
    await start_week(club, title="Heat")
    member = await club.alice.slash(club.general, "film screening set", when="friday 20:00")
    assert not missing(refusal(env, member), "moderators", "Manage Server", "plan the screening")
    unreadable = await club.mia.slash(club.general, "film screening set", when="soonish")
    assert refusal(env, unreadable).startswith(
        "“soonish” is not a date and time I can read. Write it in the server's time zone (UTC)"
    )
    past = await club.mia.slash(club.general, "film screening set", when="2026-01-04 20:00")
    assert refusal(env, past).startswith("Sunday 4 January 2026, 20:00 has already passed in UTC.")
    late = await club.mia.slash(club.general, "film screening set", when="2026-02-20 20:00")
    assert refusal(env, late).startswith("The screening must be before the week ends")
    text_channel = await club.mia.slash(
        club.general, "film screening set", when="friday 20:00", where=club.general.mention
    )
    assert refusal(env, text_channel).startswith("A screening in Discord is in a voice or stage")
    assert await env.bot.db.fetchval("SELECT count(*) FROM screenings") == 0
    assert env.backend.get_guild(club.guild.id).scheduled_events == {}


async def weeks_in_a_forum(club, *tags: str):
    """A forum named film-weeks with `tags` available, set as where the club's weeks go."""
    forum = club.guild.create_forum_channel("film-weeks")
    if tags:
        with_tags(club.env, forum, *tags)
        await club.env.settle()
    await club.mia.slash(club.general, "film settings", channel=forum)
    return forum


def with_tags(env, forum, *names: str) -> None:
    env.backend.edit_channel(
        forum.id,
        {
            "available_tags": [
                {
                    "id": str(env.backend.snowflake()),
                    "name": name,
                    "moderated": False,
                    "emoji_id": None,
                    "emoji_name": None,
                }
                for name in names
            ]
        },
    )


async def test_a_week_in_a_forum_is_a_post_tagged_running_then_ended(club):
    env, guild = club.env, club.guild
    forum = await weeks_in_a_forum(club, "Running", "Ended", "Classic")
    started = await club.mia.slash(club.general, "film start", title="Heat (1995)")
    [post] = forum.threads
    assert not missing(started.response.content, "**Heat (1995)**", forum.mention, f"<#{post.id}>")
    tags = {int(t["id"]): t["name"] for t in env.backend.get_channel(forum.id).available_tags}
    assert post.name == "Heat (1995)"
    assert [tags[t] for t in env.backend.get_channel(post.id).applied_tags] == ["Running"]
    assert kickoff(post).title == "Film of the week: Heat (1995)"

    await club.mia.slash(club.general, "film prompt add", text="Which heist scene stays with you?")
    await club.mia.slash(club.general, "film prompt now")
    assert len(prompts_in(post)) == 1
    await club.alice.slash(club.general, "film rate", stars=5, take="The diner scene.")
    edited = await club.mia.slash(club.general, "film edit", title="Heat", year=1995)
    assert not missing(edited.response.content, "**Heat (1995)**")

    await end_week(club)
    await env.advance_time(30)
    assert len(digests_in(post)) == 1
    assert [tags[t] for t in env.backend.get_channel(post.id).applied_tags] == ["Ended"]
    week = (await env.bot.films.history(guild.id))[0]
    assert week.digest_message_id == digests_in(post)[0].id
    for member, title in ((club.alice, "Thief"), (club.bob, "Collateral")):
        await member.slash(club.general, "film nominate", title=title)
    in_forum = await club.mia.slash(post, "film poll")
    assert refusal(env, in_forum).startswith(
        f"A poll cannot be posted in the forum {forum.mention}"
    )
    await club.mia.slash(club.general, "film poll")
    assert [m.poll is not None for m in club.general.history()][-1]


async def test_editing_the_week_brings_its_kickoff_up_to_date(club):
    await start_week(club, title="Leaving Las Vegas")
    await club.mia.slash(club.general, "film edit", title="Leaving Las Vegas (1995)")
    await club.env.advance_time(5)
    assert kickoff(club.general).title == "Film of the week: Leaving Las Vegas (1995)"


async def test_a_reminder_missed_while_down_is_posted_on_return_but_never_after_the_start(
    club, make_bot
):
    env = club.env
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    thread = await start_week(club, title="Heat")
    await club.mia.slash(club.general, "film screening set", when="2026-01-07 20:00")
    await go_offline(env)
    await advance_to(env, datetime(2026, 1, 6, 22, tzinfo=UTC))  # the day-before one, 2 h ago
    await env.restart_bot(make_bot())
    assert [m.embeds[0].title for m in screening_posts(thread)][-1] == "Screening tomorrow: Heat"
    assert screening_posts(thread)[-1].created_at.hour == 22
    await go_offline(env)
    await advance_to(env, datetime(2026, 1, 7, 20, 30, tzinfo=UTC))  # down past the start
    await env.restart_bot(make_bot())
    await env.advance_time(3600)
    titles = [m.embeds[0].title for m in screening_posts(thread)]
    assert titles == ["Screening: Heat", "Screening tomorrow: Heat"]


async def test_an_event_made_just_before_a_failure_is_not_made_twice(club):
    env, guild = club.env, club.guild
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    await start_week(club, title="Heat")
    screenings = env.bot.screenings
    record = screenings.event_made

    async def failing(*args, **kwargs):
        raise RuntimeError("the bot failed here")

    screenings.event_made = failing  # Discord made the event; the bot did not record it
    r = await club.mia.slash(club.general, "film screening set", when="2026-01-07 20:00")
    assert "Its Discord event will be made when Discord accepts it" in r.response.content
    assert len(env.backend.get_guild(guild.id).scheduled_events) == 1
    screenings.event_made = record
    await env.advance_time(60)  # tried again: it looks for the event before making one
    [event] = env.backend.get_guild(guild.id).scheduled_events.values()
    assert (await screenings.of_week(1)).event_id == event.id
    assert (
        await env.bot.db.fetchval(
            "SELECT count(*) FROM jobs WHERE kind = 'screening_event' AND done_at IS NULL"
        )
        == 0
    )
