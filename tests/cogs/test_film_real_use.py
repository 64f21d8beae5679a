"""Screenings, the vote, edits and spoilers as members, moderators and Discord really use them:
nothing stranded, doubled or leaked."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from simcord.backend.errors import BackendError

from tests.cogs.test_films import advance_to, end_week, go_offline, start_week
from tests.cogs.test_screenings import weeks_in_a_forum
from tests.helpers import missing, refusal


@pytest.mark.parametrize(
    "typed", ["²⁵ Dec 20:00", "２５ Dec 20:00", "٢٥ Dec 20:00", "25 Dec ２０:００"]
)
async def test_a_time_in_other_digits_is_refused_privately_like_any_unreadable_time(club, typed):
    env = club.env
    await advance_to(env, datetime(2026, 12, 21, 12, tzinfo=UTC))
    await start_week(club, title="Heat")
    r = await club.mia.slash(club.general, "film screening set", when=typed)
    assert refusal(env, r).startswith(f"“{typed}” is not a date and time I can read.")
    assert await env.bot.db.fetchval("SELECT count(*) FROM screenings") == 0
    settings = await club.mia.slash(club.general, "film settings", prompt_time="１８:００")
    assert "is not a time of day" in refusal(env, settings)


# --- what members typed, shown as typed -----------------------------------------------

NITRO = "[Free Nitro](https://evil.example/claim)"


def masked_link(text: str) -> bool:
    """The title's masked link as Discord would render it, clickable (an unescaped `[…](…)`)."""
    return re.search(r"(?<!\\)\[[^\]]*\]\(https://evil", text) is not None


async def test_a_title_written_as_a_masked_link_is_shown_as_typed_everywhere(club):
    env = club.env
    nominated = await club.alice.slash(club.general, "film nominate", title=NITRO)
    await club.bob.slash(club.general, "film nominate", title="Heat")
    assert not masked_link(nominated.response.content)
    again = await club.alice.slash(club.general, "film nominate", title=NITRO)
    assert "You already nominated" in refusal(env, again)
    assert not masked_link(refusal(env, again))
    listed = await club.alice.slash(club.general, "film nominations")
    assert "Free Nitro" in listed.response.embeds[0].description
    assert not masked_link(listed.response.embeds[0].description)

    thread = await start_week(club, title="Thief")
    edited = await club.mia.slash(club.general, "film edit", title=NITRO)
    assert not masked_link(edited.response.content)
    await env.advance_time(5)
    now = await club.alice.slash(club.general, "film now")
    assert not masked_link(now.response.embeds[0].title)
    await end_week(club)
    await env.advance_time(30)
    history = await club.alice.slash(club.general, "film history")
    assert "Free Nitro" in history.response.embeds[0].description
    assert not masked_link(history.response.embeds[0].description)
    posted = [e for m in [*club.general.history(), *thread.history()] for e in m.embeds]
    assert posted and not any(masked_link(f"{e.title or ''} {e.description or ''}") for e in posted)


@pytest.mark.parametrize(
    "quoted",
    [
        "Not a spoiler: \\|| and then ||secret ending||",
        "Code first: `||` and then ||secret ending||",
        "Code first: ``a`||`` and then ||secret ending||",
    ],
)
async def test_a_spoiler_after_escaped_bars_or_code_stays_hidden_in_every_view(club, quoted):
    env = club.env
    added = await club.alice.slash(club.general, "quote add", text=quoted)
    assert "||secret ending||" in added.response.embeds[0].description
    await club.bob.react(added.response.message, "🔥")
    views = [
        (await club.alice.slash(club.general, "quote show", number=1)).response.embeds[0],
        (await club.alice.slash(club.general, "quote random")).response.embeds[0],
        (await club.alice.slash(club.general, "quote list")).response.embeds[0],
        (await club.alice.slash(club.general, "quote search", query="secret")).response.embeds[0],
        (await club.alice.slash(club.general, "quote top", days=7)).response.embeds[0],
    ]
    stats = (await club.alice.slash(club.general, "stats server", days=7)).response.embeds[0]
    shown = [e.description for e in views] + [f.value for f in stats.fields if "quotes" in f.name]
    for text in shown:
        assert "||secret ending||" in text, text
        assert "secret ending\\|" not in text, text
    await env.bot.recorder.flush()


async def test_a_take_ending_in_a_backslash_stays_hidden(club):
    thread = await start_week(club, title="Heat")
    await club.alice.slash(club.general, "film rate", stars=4, take="The twist at the end \\")
    await club.env.advance_time(5)
    [take] = [
        m for m in thread.history() if m.embeds and "take on" in (m.embeds[0].author.name or "")
    ]
    description = take.embeds[0].description
    assert description.startswith("||") and description.endswith("\\\\||"), description


async def test_a_moderator_who_lost_the_role_cannot_end_the_week_from_an_old_confirmation(club):
    env = club.env
    await start_week(club, title="Heat")
    asked = await club.mia.slash(club.general, "film end")
    env.backend.remove_member_role(club.guild.id, club.mia.id, club.guild.roles["Mods"].id)
    await env.settle()
    clicked = await club.mia.click(asked.response, label="End the week")
    assert not missing(refusal(env, clicked), "moderators", "Manage Server", "end the film week")
    assert (await env.bot.films.running_week(club.guild.id)) is not None


async def test_a_forum_that_requires_tags_is_named_as_the_cause_with_its_fix(club):
    env = club.env
    forum = await weeks_in_a_forum(club, "Classic")
    # simcord does not enforce a forum's "require tags"; Discord's refusal is injected as sent.
    env.inject_error(
        "POST",
        f"/channels/{forum.id}/threads",
        status=400,
        code=40067,
        message="A tag is required to create a forum post in this channel",
        times=None,
    )
    started = await club.mia.slash(club.general, "film start", title="Heat")
    text = refusal(env, started)
    assert f"{forum.mention} requires a tag on every post" in text
    assert "Add tags named Running and Ended" in text and "Nothing was started." in text
    assert "post in a post" not in text and "(HTTP 400)" not in text
    assert await env.bot.films.running_week(club.guild.id) is None


async def test_a_forum_that_requires_tags_keeps_the_running_tag_when_it_has_no_ended_one(club):
    env = club.env
    forum = await weeks_in_a_forum(club, "Running")
    await club.mia.slash(club.general, "film start", title="Heat")
    [post] = forum.threads
    # simcord does not model channel flags: the bot's own view of the forum is given Discord's
    # REQUIRE_TAG flag ("Require people to select tags when posting").
    env.bot.get_channel(forum.id)._flags = 16
    await end_week(club)
    await env.advance_time(30)
    assert len(env.backend.get_channel(post.id).applied_tags) == 1  # not left with none


# --- the vote ---------------------------------------------------------------------------


def poll_in(channel):
    return next(m for m in reversed(channel.history()) if m.poll is not None)


async def listed(club) -> list[str]:
    r = await club.alice.slash(club.general, "film nominations")
    return (r.response.embeds[0].description or "").splitlines()


async def offered(club) -> list[str]:
    return [
        c["value"] for c in await club.mia.autocomplete(club.general, "film start", "title", "")
    ]


async def test_forget_me_during_a_poll_keeps_the_poll_fair_and_the_nominations_clean(club):
    env = club.env
    await club.alice.slash(club.general, "film nominate", title="Thief")
    await club.bob.slash(club.general, "film nominate", title="Heat")
    await club.bob.slash(club.general, "film nominate", title="Ali")
    await club.mia.slash(club.general, "film poll", hours=1)
    poll = poll_in(club.general)
    await club.bob.vote(poll, answer=2)  # Heat
    asked = await club.alice.slash(club.general, "privacy forget-me")
    await club.alice.click(asked.response, label="Delete my data")
    assert [a.text for a in poll_in(club.general).poll.answers] == ["Thief", "Heat", "Ali"]
    await env.advance_time(3600 + 10)
    assert club.general.history()[-1].content.startswith("🏆 **Heat** won")
    assert await listed(club) == ["1. **Heat** — 1 nomination", "2. **Ali** — 1 nomination"]
    assert "Thief" not in await offered(club)


async def test_a_film_whose_week_starts_during_its_poll_does_not_come_back_as_a_nomination(club):
    env = club.env
    await club.alice.slash(club.general, "film nominate", title="Thief")
    await club.bob.slash(club.general, "film nominate", title="Heat")
    await club.mia.slash(club.general, "film poll", hours=1)
    await club.bob.vote(poll_in(club.general), answer=1)  # Thief
    await start_week(club, title="Thief")
    await env.advance_time(3600 + 10)
    assert club.general.history()[-1].content.startswith("🏆 **Thief** won")
    assert await listed(club) == ["1. **Heat** — 1 nomination"]
    assert "Thief" not in await offered(club)


async def test_a_deleted_poll_ends_its_round_and_gives_the_nominations_back(club):
    env = club.env
    for member, title in ((club.alice, "Thief"), (club.bob, "Heat")):
        await member.slash(club.general, "film nominate", title=title)
    await club.mia.slash(club.general, "film poll", hours=24)
    poll = poll_in(club.general)
    env.backend.delete_message(club.general.id, poll.id)  # as a moderator deletes it
    await env.settle()
    r = await club.alice.slash(club.general, "film nominations")
    embed = r.response.embeds[0]
    assert "The poll is open" not in [f.name for f in embed.fields]
    assert embed.description.splitlines() == [
        "1. **Thief** — 1 nomination",
        "2. **Heat** — 1 nomination",
    ]
    again = await club.mia.slash(club.general, "film poll", hours=1)
    assert again.response.content.startswith("The poll is up")
    await env.advance_time(25 * 3600)  # the first poll's close finds nothing to read or blame
    given_up = await env.bot.db.fetchval("SELECT count(*) FROM jobs WHERE given_up_at IS NOT NULL")
    assert given_up == 0


async def test_a_poll_deleted_while_the_bot_was_away_ends_its_round_at_its_close(club, make_bot):
    env = club.env
    for member, title in ((club.alice, "Thief"), (club.bob, "Heat")):
        await member.slash(club.general, "film nominate", title=title)
    await club.mia.slash(club.general, "film poll", hours=1)
    poll = poll_in(club.general)
    await go_offline(env)  # the delete never reaches the bot
    env.backend.delete_message(club.general.id, poll.id)
    await env.restart_bot(make_bot())
    await env.advance_time(3600 + 10)
    assert await listed(club) == ["1. **Thief** — 1 nomination", "2. **Heat** — 1 nomination"]
    now = await club.mia.slash(club.general, "film nominations")
    assert "The poll is open" not in [f.name for f in now.response.embeds[0].fields]
    given_up = await env.bot.db.fetchall(
        "SELECT last_error FROM jobs WHERE given_up_at IS NOT NULL"
    )
    assert given_up == []


async def test_films_left_out_of_a_full_poll_go_first_in_the_next(club):
    env = club.env
    members = [club.guild.add_member(env.create_user(f"m{i}")) for i in range(5)]
    # Film 1 has two nominations: it is in every poll; Films 2-12 have one each.
    await members[0].slash(club.general, "film nominate", title="Film 1")
    for n in range(1, 13):
        r = await members[n % 5].slash(club.general, "film nominate", title=f"Film {n}")
        assert "nominat" in r.response.content or "seconded" in r.response.content
    await club.mia.slash(club.general, "film poll", hours=1)
    first = [a.text for a in poll_in(club.general).poll.answers]
    left_out = [f"Film {n}" for n in range(1, 13) if f"Film {n}" not in first]
    assert len(left_out) == 2
    await club.bob.vote(poll_in(club.general), answer=1)
    await env.advance_time(3600 + 10)
    await club.mia.slash(club.general, "film poll", hours=1)
    second = [a.text for a in poll_in(club.general).poll.answers]
    assert second[:2] == left_out


# --- screenings -------------------------------------------------------------------------


def made_then_500(env, operation: str, times: int = 1) -> None:
    """Discord does the write, then answers 500 (simcord does not model this: the backend's
    operation is wrapped so it happens and an error is raised after it)."""
    original = getattr(env.backend, operation)
    left = [times]

    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        if left[0] > 0:
            left[0] -= 1
            raise BackendError(500, 0, "Internal Server Error (after the write, simulated)")
        return result

    setattr(env.backend, operation, wrapped)


def events_of(env, guild):
    return list(env.backend.get_guild(guild.id).scheduled_events.values())


async def test_an_event_made_before_a_500_is_found_and_moved_not_left_behind(club):
    env, guild = club.env, club.guild
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    await start_week(club, title="Heat")
    made_then_500(env, "create_scheduled_event")
    r = await club.mia.slash(club.general, "film screening set", when="2026-01-07 20:00")
    assert "Its Discord event will be made when Discord accepts it" in r.response.content
    assert len(events_of(env, guild)) == 1  # Discord made it all the same
    await club.mia.slash(club.general, "film screening set", when="2026-01-08 21:00")
    await env.advance_time(120)
    [event] = events_of(env, guild)
    assert datetime.fromisoformat(event.scheduled_start_time) == datetime(
        2026, 1, 8, 21, tzinfo=UTC
    )
    assert (await env.bot.screenings.of_week(1)).event_id == event.id


async def test_an_event_made_before_a_500_is_cancelled_with_its_screening(club):
    env, guild = club.env, club.guild
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    await start_week(club, title="Heat")
    made_then_500(env, "create_scheduled_event")
    await club.mia.slash(club.general, "film screening set", when="2026-01-07 20:00")
    await club.mia.slash(club.general, "film screening cancel")
    await env.advance_time(120)
    [event] = events_of(env, guild)
    assert event.status == 4  # cancelled in Discord: no orphan left scheduled


@pytest.mark.parametrize(
    ("minutes", "promised"),
    [
        (1, "It starts too soon for reminders: none will be posted."),
        (20, "A reminder goes to the thread 15 minutes before"),
    ],
)
async def test_a_screening_minutes_away_says_which_reminders_will_come(club, minutes, promised):
    env = club.env
    await advance_to(env, datetime(2026, 1, 5, 19, 59 - minutes, tzinfo=UTC))
    thread = await start_week(club, title="Heat")
    r = await club.mia.slash(club.general, "film screening set", when="20:00")
    assert promised in r.response.content
    assert "the day before at the same time" not in r.response.content
    await advance_to(env, datetime(2026, 1, 5, 21, tzinfo=UTC))
    reminders = [
        m for m in thread.history() if m.embeds and (m.embeds[0].title or "").startswith("Start")
    ]
    assert len(reminders) == (0 if minutes == 1 else 1)


async def test_ending_the_week_before_its_screening_calls_it_off_and_posts_nothing_more(club):
    env, guild = club.env, club.guild
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    thread = await start_week(club, title="Heat")
    await club.mia.slash(club.general, "film screening set", when="2026-01-07 20:00")
    asked = await club.mia.slash(club.general, "film end")
    assert "Its screening (<t:" in asked.response.content
    assert "called off with it" in asked.response.content
    ended = await club.mia.click(asked.response, label="End the week")
    assert "Its screening is called off" in ended.response.content
    await env.advance_time(60)
    [event] = events_of(env, guild)
    assert event.status == 4
    before = len(thread.history())
    await advance_to(env, datetime(2026, 1, 8, tzinfo=UTC))
    assert len(thread.history()) == before  # no "tomorrow", no "starting in 15 minutes"


async def test_renaming_the_week_renames_its_thread_and_its_screenings_event(club):
    env, guild = club.env, club.guild
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    thread = await start_week(club, title="Heat")
    await club.mia.slash(club.general, "film screening set", when="2026-01-07 20:00")
    await club.mia.slash(club.general, "film edit", title="Thief (1981)")
    await env.advance_time(30)
    [event] = events_of(env, guild)
    assert event.name == "Screening: Thief (1981)"
    assert env.backend.get_channel(thread.id).name == "Thief"


async def test_renaming_a_forum_week_renames_its_post(club):
    env = club.env
    forum = await weeks_in_a_forum(club)
    await club.mia.slash(club.general, "film start", title="Heat")
    [post] = forum.threads
    await club.mia.slash(club.general, "film edit", title="Heat", year=1995)
    await env.advance_time(30)
    assert env.backend.get_channel(post.id).name == "Heat (1995)"


async def test_a_forum_post_made_before_a_500_and_renamed_before_the_retry_is_not_made_twice(club):
    env = club.env
    forum = await weeks_in_a_forum(club)
    made_then_500(env, "create_forum_post")
    started = await club.mia.slash(club.general, "film start", title="Heat")
    assert "when Discord accepts them" in started.response.content
    await club.mia.slash(club.general, "film edit", title="Heat", year=1995)
    await env.advance_time(120)
    [post] = forum.threads
    assert env.backend.get_channel(post.id).name == "Heat (1995)"
    starter = next(m for m in post.history() if m.embeds)
    assert starter.embeds[0].title == "Film of the week: Heat (1995)"


async def test_a_kickoff_deleted_before_its_thread_is_named_not_its_channel(club):
    env = club.env
    env.inject_error("POST", f"/channels/{club.general.id}/messages/*/threads", status=500)
    started = await club.mia.slash(club.general, "film start", title="Heat")
    assert "when Discord accepts them" in started.response.content
    [kickoff] = [m for m in club.general.history() if m.embeds]
    env.backend.delete_message(club.general.id, kickoff.id)  # a moderator deletes it
    await env.advance_time(120)
    [job] = await env.bot.db.fetchall("SELECT last_error FROM jobs WHERE kind = 'kickoff'")
    assert (
        job["last_error"]
        == f"The kickoff in {club.general.mention} was deleted before its thread was opened."
    )
    assert "no longer exists" not in job["last_error"]
