"""The film of the week through simcord, with virtual time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import discord
import pytest

from tests.conftest import SERA
from tests.helpers import missing, refusal

NY = ZoneInfo("America/New_York")


async def advance_to(env, when: datetime) -> None:
    await env.advance_time((when - env.now()).total_seconds() + 0.001)


def prompts_in(thread) -> list[discord.Message]:
    return [
        m
        for m in thread.history()
        if m.embeds and (m.embeds[0].author.name or "").startswith("Prompt ")
    ]


def digests_in(channel) -> list[discord.Message]:
    return [
        m for m in channel.history() if m.embeds and (m.embeds[0].title or "").endswith(" is over")
    ]


async def start_week(club, member=None, **options):
    member = member or club.mia
    options.setdefault("title", "Leaving Las Vegas")
    r = await member.slash(club.general, "film start", **options)
    assert r.response.content.startswith("Started"), r.response.content
    return club.general.threads[-1]


async def end_week(club, member=None):
    """`/film end` and its confirmation, as a moderator does it."""
    member = member or club.mia
    asked = await member.slash(club.general, "film end")
    assert asked.response.ephemeral and "End the week" in str(asked.response.components)
    return await member.click(asked.response, label="End the week")


async def new_york_evenings(club):
    await club.mia.slash(
        club.general, "film settings", timezone="America/New_York", prompt_time="18:00"
    )


async def test_a_week_across_daylight_saving_posts_at_18_local_every_day(club):
    await new_york_evenings(club)
    await advance_to(club.env, datetime(2026, 3, 5, 15, tzinfo=UTC))
    thread = await start_week(club, year=1995, essay=SERA)

    kickoff = next(
        m for m in club.general.history() if m.embeds and m.embeds[0].title.startswith("Film of")
    )
    embed = kickoff.embeds[0]
    assert embed.title == "Film of the week: Leaving Las Vegas (1995)"
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Essay"] == "Sera: Elisabeth Shue in Leaving Las Vegas — 8 sections"
    schedule = fields["Prompts (18:00 America/New_York, every day)"].splitlines()
    assert (
        len(schedule) == 7
        and schedule[0] == f"<t:{int(datetime(2026, 3, 5, 23, tzinfo=UTC).timestamp())}:F>"
    )
    assert thread.name == "Leaving Las Vegas"

    await advance_to(club.env, datetime(2026, 3, 13, tzinfo=UTC))
    prompts = prompts_in(thread)
    assert [m.created_at.astimezone(NY).strftime("%m-%d %H:%M") for m in prompts] == [
        f"03-{d:02} 18:00" for d in range(5, 12)
    ]
    assert [m.embeds[0].author.name for m in prompts] == [
        f"Prompt {n} · Leaving Las Vegas (1995)" for n in range(1, 8)
    ]
    assert prompts[0].embeds[0].title == "Opening"
    assert prompts[6].embeds[0].title == "Elisabeth Shue’s Masterpiece"
    assert "Reply here" in prompts[1].embeds[0].description
    passage, question = prompts[1].embeds[0].description.rsplit("\n\n", 1)
    assert question.startswith("**From the essay, “") and question.endswith("Reply here.**")
    assert passage and not passage.endswith("**")
    assert [c["label"] for row in prompts[0].components for c in row.to_dict()["components"]] == [
        "Read the whole section"
    ]
    assert len(digests_in(club.general)) == 1 and len(digests_in(thread)) == 1
    end = digests_in(club.general)[0]
    assert end.created_at.astimezone(NY).strftime("%m-%d %H:%M") == "03-12 10:00"


async def test_a_restart_mid_week_neither_repeats_nor_loses_a_prompt(club, make_bot):
    thread = await start_week(club, essay=SERA)
    await club.env.advance_time(3 * 86400)
    assert len(prompts_in(thread)) == 3
    await club.env.restart_bot(make_bot())
    await club.env.advance_time(5 * 86400)
    prompts = prompts_in(thread)
    assert [m.embeds[0].author.name.split(" ·")[0] for m in prompts] == [
        f"Prompt {n}" for n in range(1, 8)
    ]
    titles = [m.embeds[0].title for m in prompts]
    assert len(set(titles)) == 7
    assert len(digests_in(club.general)) == 1


async def go_offline(env):
    old = env.bot
    await old.close()  # the process is gone: no gateway, no timers
    return old


async def test_two_hours_down_posts_the_missed_prompt_once(club, make_bot):
    await advance_to(club.env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    thread = await start_week(club, essay=SERA)
    await advance_to(club.env, datetime(2026, 1, 5, 17, tzinfo=UTC))
    await go_offline(club.env)
    await advance_to(club.env, datetime(2026, 1, 5, 20, tzinfo=UTC))
    assert prompts_in(thread) == []
    await club.env.restart_bot(make_bot())
    prompts = prompts_in(thread)
    assert len(prompts) == 1
    assert prompts[0].created_at.replace(microsecond=0) == datetime(2026, 1, 5, 20, tzinfo=UTC)
    await advance_to(club.env, datetime(2026, 1, 6, 19, tzinfo=UTC))
    assert [m.created_at.hour for m in prompts_in(thread)] == [20, 18]


async def test_three_days_down_posts_no_backlog_and_ends_the_week_once(club, make_bot):
    await advance_to(club.env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    thread = await start_week(club, essay=SERA)
    await advance_to(club.env, datetime(2026, 1, 10, 12, tzinfo=UTC))
    assert len(prompts_in(thread)) == 5
    await go_offline(club.env)
    await advance_to(club.env, datetime(2026, 1, 13, 12, tzinfo=UTC))
    await club.env.restart_bot(make_bot())
    assert len(prompts_in(thread)) == 5
    assert len(digests_in(club.general)) == 1
    await club.env.advance_time(2 * 86400)
    assert len(prompts_in(thread)) == 5 and len(digests_in(club.general)) == 1
    history = await club.alice.slash(club.general, "film history")
    assert "**Leaving Las Vegas**" in history.response.embeds[0].description


async def test_one_server_without_send_messages_does_not_stop_another(club):
    env = club.env
    other = env.create_guild("Cinema Club")
    other_channel = other.create_text_channel("films")
    mods = other.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
    otto = other.add_member(env.create_user("otto"), roles=[mods])
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    thread = await start_week(club, essay=SERA)
    r = await otto.slash(other_channel, "film start", title="Heat", essay=SERA)
    assert r.response.content.startswith("Started")
    other_thread = other_channel.threads[0]
    env.inject_error(
        "POST",
        f"/channels/{thread.id}/messages",
        status=403,
        code=50013,
        message="Missing Permissions",
        times=1,
    )
    await advance_to(env, datetime(2026, 1, 5, 19, tzinfo=UTC))
    assert prompts_in(thread) == []
    assert len(prompts_in(other_thread)) == 1

    now = await club.mia.slash(club.general, "film now")
    warning = now.followups[-1]
    assert warning.ephemeral
    assert "I am not allowed to post in the thread of Leaving Las Vegas" in warning.content
    assert "Send Messages in Threads" in warning.content
    member_view = await club.alice.slash(club.general, "film now")
    assert member_view.followups == []

    await advance_to(env, datetime(2026, 1, 6, 19, tzinfo=UTC))
    retried = prompts_in(thread)
    assert len(retried) == 1 and retried[0].embeds[0].title == "Opening"
    assert len(prompts_in(other_thread)) == 2
    settled = await club.mia.slash(club.general, "film now")
    assert settled.followups == []


MODERATOR_COMMANDS = [
    ("film settings", {"timezone": "Europe/Paris"}),
    ("film start", {"title": "Heat"}),
    ("film end", {}),
    ("film edit", {"title": "Heat"}),
    ("film prompt add", {"text": "What about the score?"}),
    ("film prompt list", {}),
    ("film prompt remove", {"number": 1}),
    ("film prompt now", {}),
    ("film poll", {}),
]


@pytest.mark.parametrize(("command", "options"), MODERATOR_COMMANDS)
async def test_members_are_refused_every_moderator_command(club, command, options):
    thread = await start_week(club, essay=SERA)
    await club.mia.slash(club.general, "film prompt add", text="First question")
    r = await club.alice.slash(club.general, command, **options)
    assert refusal(club.env, r).startswith("Only moderators (Manage Server) can ")
    assert prompts_in(thread) == []
    week = await club.env.bot.films.running_week(club.guild.id)
    assert week is not None and week.title == "Leaving Las Vegas"
    assert (await club.env.bot.films.settings(club.guild.id)).timezone == "UTC"
    assert len(await club.env.bot.films.queued_prompts(week.id)) == 1


async def test_a_moderator_role_lets_its_members_run_moderator_commands(club, make_bot):
    env = club.env
    hosts = club.guild.create_role("Film Hosts")
    noor = club.guild.add_member(env.create_user("noor"), roles=[hosts])
    before = await noor.slash(club.general, "film start", title="Heat")
    assert not missing(refusal(env, before), "moderators", "Manage Server", "start a film week")

    set_role = await club.mia.slash(club.general, "film settings", moderator_role=hosts)
    fields = {f.name: f.value for f in set_role.response.embeds[0].fields}
    assert fields["Moderators"] == f"Manage Server and <@&{hosts.id}>"
    await env.restart_bot(make_bot())  # kept in the database, not only in memory

    await start_week(club, member=noor, title="Heat")
    refused = await club.alice.slash(club.general, "film prompt add", text="The score?")
    assert not missing(refusal(env, refused), "Manage Server", f"<@&{hosts.id}>", "queue prompts")

    # The role decides who moderates, so only Manage Server may change it.
    grab = await noor.slash(club.general, "film settings", remove_moderator_role=True)
    assert not missing(refusal(env, grab), "Manage Server", "moderator role")
    assert env.bot.films.moderator_role(club.guild.id) == hosts.id

    everyone = await club.mia.slash(
        club.general, "film settings", moderator_role=club.guild.default_role
    )
    assert "@everyone cannot be the moderator role" in refusal(env, everyone)
    both = await club.mia.slash(
        club.general, "film settings", moderator_role=hosts, remove_moderator_role=True
    )
    assert not missing(refusal(env, both), "not both")
    assert env.bot.films.moderator_role(club.guild.id) == hosts.id

    await club.mia.slash(club.general, "film settings", remove_moderator_role=True)
    after = await noor.slash(club.general, "film end")
    assert not missing(refusal(env, after), "moderators", "Manage Server", "end the film week")
    assert (await env.bot.films.running_week(club.guild.id)).title == "Heat"


async def test_the_digest_reports_the_ratings_given(club):
    env = club.env
    carol = club.guild.add_member(env.create_user("carol"))
    thread = await start_week(club, year=1995, essay=SERA)
    await club.mia.slash(club.general, "film prompt now")
    prompt = prompts_in(thread)[0]
    await club.alice.react(prompt, "🎬")
    await club.bob.react(prompt, "🔥")

    r = await club.alice.slash(club.general, "film rate", stars=5, take="Shue is devastating.")
    assert (
        r.ephemeral
        and "★★★★★" in r.response.content
        and "revealed when the week ends" in r.response.content
    )
    await club.bob.slash(club.general, "film rate", stars=3)
    await club.mia.slash(club.general, "film rate", stars=4, take="Figgis's @everyone best.")
    await carol.slash(club.general, "film rate", stars=1, take="Too bleak.")
    await carol.slash(club.general, "film rate", stars=4, take="Bleak, but true.")
    takes = [
        m for m in thread.history() if m.embeds and "'s take on" in (m.embeds[0].author.name or "")
    ]
    assert len(takes) == 3
    carol_take = next(m for m in takes if m.embeds[0].author.name.startswith("carol"))
    assert carol_take.embeds[0].description == "||Bleak, but true.||"  # hidden while it runs
    alice_take = next(m for m in takes if m.embeds[0].author.name.startswith("alice"))
    await club.bob.react(alice_take, "👍")
    await carol.react(alice_take, "👍")
    await club.bob.react(carol_take, "👍")

    now = await club.bob.slash(club.general, "film now")
    fields = {f.name: f.value for f in now.response.embeds[0].fields}
    assert fields["Rated so far"] == "4 members"
    assert "★" not in str(now.response.embeds[0].to_dict())
    assert now.followups[0].ephemeral
    assert now.followups[0].content.startswith("Your rating: ★★★ (only you can see this")

    ended = await end_week(club)
    assert ended.response.content.startswith("Ended **Leaving Las Vegas (1995)**")
    digest = digests_in(club.general)[0].embeds[0]
    assert digest.description.startswith("**4.0 ★★★★** average from 4 ratings")
    assert "`★★★★★` █████ 1" in digest.description
    assert "`★★★★` ██████████ 2" in digest.description
    assert "`★★★` █████ 1" in digest.description
    assert "`★`  0" in digest.description
    fields = {f.name: f.value for f in digest.fields}
    take_lines = fields["Takes"].splitlines()
    assert take_lines[0] == f"<@{club.alice.id}> ★★★★★ · 2 reactions"
    assert take_lines[1] == "Shue is devastating."
    assert take_lines[2] == f"<@{carol.id}> ★★★★ · 1 reaction"
    assert (
        "Prompt 1:" in fields["Drew the most response"]
        and "2 reactions" in fields["Drew the most response"]
    )
    assert fields["Taking part"].startswith("4 members took part")
    assert len(digests_in(thread)) == 1
    rows = await env.bot.db.fetchall("SELECT user_id, rating FROM viewings ORDER BY rating")
    assert sorted(row["rating"] for row in rows) == [6, 8, 8, 10]

    history = await club.alice.slash(club.general, "film history")
    line = history.response.embeds[0].description
    assert line.startswith("**Leaving Las Vegas (1995)** — 4.0 ★★★★ (4)")
    assert f"/{club.general.id}/{digests_in(club.general)[0].id})" in line
    late = await club.alice.slash(club.general, "film rate", stars=2)
    assert refusal(env, late).startswith("No film of the week is running.")


async def test_one_week_at_a_time(club):
    await start_week(club)
    r = await club.mia.slash(club.general, "film start", title="Heat")
    assert "already running" in refusal(club.env, r) and "/film end" in refusal(club.env, r)


async def test_queued_questions_go_first_then_essay_sections(club):
    thread = await start_week(club, essay=SERA)
    await club.mia.slash(club.general, "film prompt add", text="Was Ben ever going to stop?")
    added = await club.mia.slash(
        club.general, "film prompt add", text="Which scene stayed with you?"
    )
    # Two questions queued, none posted: the second will be posted as prompt 2, tomorrow.
    assert "posted as prompt 2 at <t:1767376800:F>" in added.response.content
    assert "number 2 in `/film prompt list`" in added.response.content
    removed = await club.mia.slash(club.general, "film prompt remove", number=1)
    assert not missing(removed.response.content, "Was Ben ever going to stop?")
    posted = await club.mia.slash(club.general, "film prompt now")
    assert not missing(posted.response.content, "prompt 1", f"<#{thread.id}>")
    await club.mia.slash(club.general, "film prompt now")
    first, second = prompts_in(thread)
    assert first.embeds[0].description == "Which scene stayed with you?"
    assert second.embeds[0].title == "Opening"
    listing = await club.mia.slash(club.general, "film prompt list")
    fields = {f.name: f.value for f in listing.response.embeds[0].fields}
    assert fields["Queued"].startswith("Nothing queued: the essay comes next")
    assert "“The Introduction: A Woman in Control" in fields["Queued"]
    assert "(7 sections left)" in fields["Queued"]
    assert fields["Posted"].startswith("1. Which scene stayed with you?")
    # The essay's prompt is named by its section, not by the question all of them share.
    assert fields["Posted"].splitlines()[1].startswith("2. Section 1 of the essay: “Opening”")


async def test_a_queued_question_names_the_prompt_number_it_will_post_as(club):
    thread = await start_week(club, essay=SERA)
    for _ in range(7):
        await club.mia.slash(club.general, "film prompt now")
    assert len(prompts_in(thread)) == 7
    added = await club.mia.slash(club.general, "film prompt add", text="Who was Sera?")
    # First in the queue, but the week's eighth prompt, at the next prompt time (18:00 UTC).
    assert "posted as prompt 8 at <t:1767290400:F>" in added.response.content
    assert "number 1 in `/film prompt list`" in added.response.content
    listing = await club.mia.slash(club.general, "film prompt list")
    fields = {f.name: f.value for f in listing.response.embeds[0].fields}
    assert fields["Queued"].splitlines()[0] == "1. Who was Sera? — prompt 8, <t:1767290400:F>"
    assert fields["Queued"].splitlines()[1].startswith("Then the essay")
    assert "(1 section left)" in fields["Queued"]
    await club.mia.slash(club.general, "film prompt now")
    assert prompts_in(thread)[-1].embeds[0].author.name.startswith("Prompt 8 ·")


async def test_a_long_prompt_list_says_how_many_more_it_does_not_show(club):
    await start_week(club)
    for i in range(1, 13):
        await club.mia.slash(
            club.general, "film prompt add", text=f"Question {i}: " + "what did the light do? " * 6
        )
    listing = await club.mia.slash(club.general, "film prompt list")
    queued = {f.name: f.value for f in listing.response.embeds[0].fields}["Queued"].splitlines()
    shown = queued[:-1]
    assert shown and all(line.startswith(f"{i}. Question {i}:") for i, line in enumerate(shown, 1))
    assert queued[-1] == f"… and {12 - len(shown)} more"
    assert shown[0].endswith("— prompt 1, <t:1767290400:F>")


async def test_a_week_without_essay_or_questions_lists_no_prompt_times(club):
    await start_week(club)
    kickoff = next(
        m for m in club.general.history() if m.embeds and m.embeds[0].title.startswith("Film of")
    )
    fields = {f.name: f.value for f in kickoff.embeds[0].fields}
    schedule = fields["Prompts (18:00 UTC, every day)"]
    assert "<t:" not in schedule and "`/film prompt add`" in schedule
    listing = await club.mia.slash(club.general, "film prompt list")
    queued = {f.name: f.value for f in listing.response.embeds[0].fields}["Queued"]
    assert queued.startswith("The queue is empty") and "`/film prompt add`" in queued
    now = await club.alice.slash(club.general, "film now")
    fields = {f.name: f.value for f in now.response.embeds[0].fields}
    assert "<t:" not in fields["Next prompt"] and "`/film prompt add`" in fields["Next prompt"]
    assert fields["Rated so far"] == "Nobody yet"


async def test_a_week_without_essay_posts_nothing_when_the_queue_is_empty(club):
    thread = await start_week(club)
    r = await club.mia.slash(club.general, "film prompt now")
    assert refusal(club.env, r).startswith("Nothing is left to post")
    await club.env.advance_time(2 * 86400)
    assert prompts_in(thread) == []


async def test_settings_show_defaults_and_refuse_unknown_zones(club):
    r = await club.alice.slash(club.general, "film settings")
    fields = {f.name: f.value for f in r.response.embeds[0].fields}
    assert fields == {
        "Channel": "Where `/film start` is used",
        "Time zone": "UTC",
        "Prompts": "18:00, every day",
        "Week length": "7 days",
        "Discussion": "A thread for each week",
        "Takes": "Hidden as spoilers",
        "Moderators": "Manage Server",
    }
    bad = await club.mia.slash(club.general, "film settings", timezone="America/NewYork")
    assert "Did you mean `America/New_York`" in refusal(club.env, bad)
    choices = await club.mia.autocomplete(club.general, "film settings", "timezone", "new_y")
    assert choices[0] == {"name": "America/New_York", "value": "America/New_York"}
    ok = await club.mia.slash(
        club.general, "film settings", prompt_time="7pm", prompt_days="mon,fri", length_days=5
    )
    fields = {f.name: f.value for f in ok.response.embeds[0].fields}
    assert fields["Prompts"] == "19:00, Mon, Fri" and fields["Week length"] == "5 days"


async def test_changing_the_time_reschedules_the_running_week(club):
    await advance_to(club.env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    thread = await start_week(club, essay=SERA)
    r = await club.mia.slash(club.general, "film settings", prompt_time="13:00")
    assert f"<t:{int(datetime(2026, 1, 5, 13, tzinfo=UTC).timestamp())}:F>" in r.response.content
    await advance_to(club.env, datetime(2026, 1, 5, 19, tzinfo=UTC))
    assert [m.created_at.hour for m in prompts_in(thread)] == [13]


async def test_nominations_merge_cap_at_three_and_a_poll_picks_the_next_film(club):
    env = club.env
    first = await club.alice.slash(club.general, "film nominate", title="Heat", year=1995)
    assert not missing(first.response.content, club.alice.mention, "nominated", "**Heat (1995)**")
    second = await club.bob.slash(club.general, "film nominate", title="heat (1995)")
    assert not missing(
        second.response.content, club.bob.mention, "seconded", "**Heat (1995)**", "2 nominations"
    )
    dup = await club.bob.slash(club.general, "film nominate", title="Heat")
    assert not missing(refusal(env, dup), "already nominated", "**Heat (1995)**")
    for title in ("Thief", "Collateral"):
        await club.alice.slash(club.general, "film nominate", title=title)
    over = await club.alice.slash(club.general, "film nominate", title="Ali")
    assert refusal(env, over).startswith("You have nominated 3 films already")
    listing = await club.alice.slash(club.general, "film nominations")
    assert (
        listing.response.embeds[0].description.splitlines()[0]
        == "1. **Heat (1995)** — 2 nominations"
    )

    r = await club.mia.slash(club.general, "film poll", hours=12)
    assert r.response.content.startswith(f"The poll is up in {club.general.mention}")
    poll_message = next(m for m in club.general.history() if m.poll is not None)
    assert [a.text for a in poll_message.poll.answers] == ["Heat (1995)", "Thief", "Collateral"]
    await club.alice.vote(poll_message, answer=2)
    await club.bob.vote(poll_message, answer=2)
    await club.mia.vote(poll_message, answer=1)
    await env.advance_time(12 * 3600 + 10)
    announcement = club.general.history()[-1]
    assert announcement.content.startswith(
        "🏆 **Thief** won the poll for the next film with 2 votes."
    )
    choices = await club.mia.autocomplete(club.general, "film start", "title", "")
    assert choices[0] == {"name": "Thief — poll winner", "value": "Thief"}
    fresh = await club.alice.slash(club.general, "film nominate", title="Ali")
    assert not missing(fresh.response.content, club.alice.mention, "nominated", "**Ali**")


async def test_a_poll_needs_two_nominations(club):
    r = await club.mia.slash(club.general, "film poll")
    assert refusal(club.env, r).startswith("A poll needs at least two nominations")


async def test_start_in_a_channel_the_bot_cannot_post_in_changes_nothing(club):
    club.env.inject_error(
        "POST",
        f"/channels/{club.general.id}/messages",
        status=403,
        code=50013,
        message="Missing Permissions",
        times=None,
    )
    r = await club.mia.slash(club.general, "film start", title="Heat")
    assert refusal(club.env, r).startswith(f"I am not allowed to post in {club.general.mention}.")
    assert await club.env.bot.films.running_week(club.guild.id) is None


async def test_a_vanished_thread_is_reported_with_what_to_do(club):
    await advance_to(club.env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    thread = await start_week(club, essay=SERA)
    club.env.inject_error(
        "POST",
        f"/channels/{thread.id}/messages",
        status=404,
        code=10003,
        message="Unknown Channel",
        times=None,
    )
    await advance_to(club.env, datetime(2026, 1, 7, 19, tzinfo=UTC))
    now = await club.mia.slash(club.general, "film now")
    assert "The thread of Leaving Las Vegas no longer exists" in now.followups[-1].content
    assert "/film settings channel:" in now.followups[-1].content
    week = await club.env.bot.films.running_week(club.guild.id)
    assert await club.env.bot.films.posted_prompts(week.id) == []
    pending = await club.env.bot.scheduler.pending("film_prompt", week_id=week.id)
    assert (
        len(pending) == 1
        and pending[0].due_at == int(datetime(2026, 1, 7, 18, tzinfo=UTC).timestamp()) + 86400
    )


async def test_a_week_without_a_thread_runs_in_its_channel(club):
    env = club.env
    r = await club.mia.slash(club.general, "film settings", threads=False)
    fields = {f.name: f.value for f in r.response.embeds[0].fields}
    assert fields["Discussion"] == "In the channel itself"
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    started = await club.mia.slash(club.general, "film start", title="Heat", essay=SERA)
    assert not missing(started.response.content, "**Heat**", club.general.mention)
    assert "thread" not in started.response.content
    assert club.general.threads == []
    kickoff = next(m for m in club.general.history() if m.embeds and m.embeds[0].fields)
    how = {f.name: f.value for f in kickoff.embeds[0].fields}["How to take part"]
    assert how.startswith("Talk here in the channel, where the prompts appear.")
    await advance_to(env, datetime(2026, 1, 5, 19, tzinfo=UTC))
    assert [m.embeds[0].title for m in prompts_in(club.general)] == ["Opening"]
    rated = await club.alice.slash(
        club.general, "film rate", stars=4, take="Pacino at full volume."
    )
    assert f"Your take is in {club.general.mention}" in rated.response.content
    assert "thread" not in rated.response.content
    assert "thread" not in prompts_in(club.general)[0].embeds[0].description
    take = club.general.history()[-1]
    assert take.embeds[0].description == "||Pacino at full volume.||"
    ended = await end_week(club)
    assert not missing(ended.response.content, "**Heat**", "digest", club.general.mention)
    assert len(digests_in(club.general)) == 1
    fields = {f.name: f.value for f in digests_in(club.general)[0].embeds[0].fields}
    assert "[the discussion](" in fields["Taking part"]


async def test_takes_are_spoilers_while_the_week_runs_unless_the_server_says_no(club):
    thread = await start_week(club)
    await club.alice.slash(club.general, "film rate", stars=4, take="The ending ||hurts||.")
    take = [m for m in thread.history() if m.embeds][-1]
    assert take.embeds[0].description == "||The ending \\|\\|hurts\\|\\|.||"
    r = await club.mia.slash(club.general, "film settings", spoiler_takes=False)
    assert {f.name: f.value for f in r.response.embeds[0].fields}["Takes"] == "Shown as written"
    await club.bob.slash(club.general, "film rate", stars=3, take="Too long.")
    take = [m for m in thread.history() if m.embeds][-1]
    assert take.embeds[0].description == "Too long."


async def test_the_vote_names_what_a_poll_leaves_out_shows_the_open_poll_and_marks_screened_films(
    club,
):
    env = club.env
    await start_week(club, title="Heat", year=1995)
    await club.alice.slash(club.general, "film rate", stars=4)
    await end_week(club)
    again = await club.alice.slash(club.general, "film nominate", title="Heat", year=1995)
    ended = (await env.bot.films.history(club.guild.id))[0]
    assert not missing(
        again.response.content,
        "**Heat (1995)**",
        f"<t:{ended.ended_at}:D>",
        "rated 4.0",
        "seen by 1 member",  # alice's rating of its week
    )
    members = [club.guild.add_member(env.create_user(f"m{i}")) for i in range(4)]
    titles = [f"Film {n}" for n in range(1, 12)]  # eleven more, with Heat twelve
    for n, title in enumerate(titles):
        await members[n % 4].slash(club.general, "film nominate", title=title)
    await club.mia.slash(club.general, "film poll", hours=6)
    poll_message = next(m for m in club.general.history() if m.poll is not None)
    assert len(poll_message.poll.answers) == 10
    assert poll_message.content.startswith("A poll holds ten films: also nominated")
    assert "**Film 10**" in poll_message.content and "**Film 11**" in poll_message.content
    listing = await club.bob.slash(club.general, "film nominations")
    embed = listing.response.embeds[0]
    field = {f.name: f.value for f in embed.fields}["The poll is open"]
    assert f"/{club.general.id}/{poll_message.id})" in field
    assert embed.description.splitlines()[0].startswith("1. **Film 10**")


async def test_ending_a_week_asks_first_and_keeping_it_changes_nothing(club):
    await start_week(club)
    asked = await club.mia.slash(club.general, "film end")
    assert asked.response.content.startswith("End the week of **Leaving Las Vegas** now?")
    kept = await club.mia.click(asked.response, label="Keep it running")
    assert not missing(kept.response.content, "nothing was ended")
    assert await club.env.bot.films.running_week(club.guild.id) is not None
    assert digests_in(club.general) == []
    ended = await end_week(club)
    assert ended.response.content.startswith("Ended **Leaving Las Vegas**")
    assert len(digests_in(club.general)) == 1


async def test_nominations_that_did_not_win_carry_over_and_the_winner_closes_when_its_week_starts(
    club,
):
    env = club.env
    await club.alice.slash(club.general, "film nominate", title="Heat")
    await club.bob.slash(club.general, "film nominate", title="Thief")
    await club.bob.slash(club.general, "film nominate", title="Ali")
    await club.mia.slash(club.general, "film nominate", title="Heat")
    await club.mia.slash(club.general, "film poll", hours=1)
    poll_message = next(m for m in club.general.history() if m.poll is not None)
    await club.alice.vote(poll_message, answer=2)  # Thief
    await env.advance_time(3600 + 10)
    assert club.general.history()[-1].content.startswith("🏆 **Thief** won")
    listing = await club.alice.slash(club.general, "film nominations")
    assert listing.response.embeds[0].description.splitlines() == [
        "1. **Heat** — 2 nominations",
        "2. **Thief** — 1 nomination",
        "3. **Ali** — 1 nomination",
    ]
    await start_week(club, title="Thief")
    listing = await club.alice.slash(club.general, "film nominations")
    assert listing.response.embeds[0].description.splitlines() == [
        "1. **Heat** — 2 nominations",
        "2. **Ali** — 1 nomination",
    ]
    # A new round: what carried over does not count against a member's three.
    for title in ("Collateral", "Manhunter", "Miami Vice"):
        r = await club.bob.slash(club.general, "film nominate", title=title)
        assert r.response.content.endswith("nominated **" + title + "**.")


async def test_a_moderator_attaches_an_essay_to_a_running_week_and_prompts_draw_from_it(club):
    thread = await start_week(club, title="Leaving Las Vegas")
    nothing = await club.mia.slash(club.general, "film prompt now")
    assert refusal(club.env, nothing).startswith("Nothing is left to post")
    r = await club.mia.slash(club.general, "film edit", year=1995, essay=SERA)
    assert not missing(
        r.response.content,
        "**Leaving Las Vegas (1995)**",
        "*Sera: Elisabeth Shue in Leaving Las Vegas*",
    )
    await club.mia.slash(club.general, "film prompt now")
    assert [m.embeds[0].title for m in prompts_in(thread)] == ["Opening"]
    member = await club.alice.slash(club.general, "film edit", title="Heat")
    assert not missing(
        refusal(club.env, member), "moderators", "Manage Server", "change the film week"
    )


async def test_the_digest_counts_only_the_weeks_own_talk_in_a_busy_channel(club):
    env = club.env
    await club.mia.slash(club.general, "film settings", threads=False)
    for n in range(3):  # the channel's past: members talking before any week
        await club.alice.send(club.general, f"Before the week, message {n}.")
        await club.bob.send(club.general, f"Also before, {n}.")
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    await club.mia.slash(club.general, "film start", title="Heat")
    ended = await end_week(club)
    assert ended.response.content.startswith("Ended **Heat**")
    fields = {f.name: f.value for f in digests_in(club.general)[-1].embeds[0].fields}
    assert fields["Taking part"].startswith("Nobody took part")

    await advance_to(env, datetime(2026, 1, 6, 12, tzinfo=UTC))
    await club.mia.slash(club.general, "film start", title="Thief")
    await club.bob.send(club.general, "The safe-cracking is the plot.")
    await end_week(club)
    await env.advance_time(5)
    await club.alice.send(club.general, "After the week ended.")
    fields = {f.name: f.value for f in digests_in(club.general)[-1].embeds[0].fields}
    assert fields["Taking part"].startswith("1 member took part")
