"""What the film week owes Discord is a durable job: through simcord, with Discord failing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import discord

from bot.films.service import DIGEST
from tests.cogs.test_films import advance_to, digests_in, end_week, prompts_in, start_week
from tests.conftest import SERA
from tests.helpers import missing, refusal


def kickoffs_in(channel) -> list[discord.Message]:
    return [
        m
        for m in channel.history()
        if m.embeds and any(f.name == "How to take part" for f in m.embeds[0].fields)
    ]


def takes_in(thread) -> list[discord.Message]:
    return [
        m for m in thread.history() if m.embeds and "'s take on" in (m.embeds[0].author.name or "")
    ]


def fail_posts(env, channel_id: int, status: int = 503, times: int | None = None) -> None:
    code, message = {
        503: (0, "Service Unavailable"),
        403: (50013, "Missing Permissions"),
        429: (0, "You are being rate limited."),
    }[status]
    env.inject_error(
        "POST",
        f"/channels/{channel_id}/messages",
        status=status,
        code=code,
        message=message,
        times=times,
    )


def stop_failing(env) -> None:
    env.backend.faults.clear()


async def test_a_digest_discord_refuses_is_owed_shown_to_moderators_and_posted_later(club):
    env = club.env
    thread = await start_week(club, year=1995)
    await club.alice.slash(club.general, "film rate", stars=4, take="Shue is devastating.")
    fail_posts(env, thread.id)
    fail_posts(env, club.general.id)
    ended = await end_week(club)
    text = ended.response.content
    assert text.startswith("Ended **Leaving Las Vegas (1995)**.")
    assert "The digest in the thread is not posted yet: Discord is not answering (HTTP 503)" in text
    assert "posted in" not in text
    assert digests_in(club.general) == [] and digests_in(thread) == []

    history = await club.mia.slash(club.general, "film history")
    warning = history.followups[-1]
    assert warning.ephemeral
    assert "The digest in the channel is not posted yet: Discord is not answering (HTTP 503)" in (
        warning.content
    )
    assert "next try <t:" in warning.content
    member = await club.alice.slash(club.general, "film history")
    assert member.followups == []

    now = await club.mia.slash(club.general, "film now")
    assert "No film of the week is running." in refusal(env, now)
    assert "The digest in the channel is not posted yet" in refusal(env, now)

    await env.advance_time(60)  # still failing: tried again, still owed
    assert digests_in(club.general) == []
    stop_failing(env)
    await env.advance_time(15 * 60)
    assert len(digests_in(club.general)) == 1 and len(digests_in(thread)) == 1
    digest = digests_in(club.general)[0].embeds[0]
    assert digest.description.startswith("**4.0 ★★★★** average from 1 rating")
    settled = await club.mia.slash(club.general, "film history")
    assert settled.followups == []
    assert f"/{digests_in(club.general)[0].id})" in settled.response.embeds[0].description
    await env.advance_time(86400)
    assert len(digests_in(club.general)) == 1 and len(digests_in(thread)) == 1


async def test_a_digest_posted_just_before_a_crash_is_not_posted_again(club, make_bot):
    env = club.env
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    thread = await start_week(club)
    bot = env.bot

    digest, transaction = bot.jobs.kinds[DIGEST], bot.jobs.transaction
    dying = []

    async def post_then_die(job):
        result = await digest.run(job)  # posted in Discord
        dying.append(job.id)  # the process is killed before it records so
        return result

    def dies_when_dying():
        if dying:
            dying.clear()
            raise RuntimeError("the process was killed here")
        return transaction()

    bot.jobs.register(DIGEST, replace(digest, run=post_then_die))
    bot.jobs.transaction = dies_when_dying
    await advance_to(env, datetime(2026, 1, 12, 13, tzinfo=UTC))
    assert len(digests_in(club.general)) == 1 and len(digests_in(thread)) == 1
    owed = await bot.db.fetchval(
        "SELECT count(*) FROM jobs WHERE kind = 'digest' AND done_at IS NULL"
    )
    assert owed == 2

    await env.restart_bot(make_bot())
    await env.advance_time(3600)
    assert len(digests_in(club.general)) == 1 and len(digests_in(thread)) == 1
    week = (await env.bot.films.history(club.guild.id))[0]
    assert week.digest_message_id == digests_in(club.general)[0].id
    assert await env.bot.db.fetchval("SELECT count(*) FROM jobs WHERE done_at IS NULL") == 0


async def test_a_kickoff_discord_fails_is_posted_later_with_its_thread(club):
    env = club.env
    fail_posts(env, club.general.id, times=1)
    started = await club.mia.slash(club.general, "film start", title="Heat", essay=SERA)
    assert not missing(
        started.response.content, "**Heat**", club.general.mention, "HTTP 503", "`/film now`"
    )
    assert kickoffs_in(club.general) == []
    now = await club.mia.slash(club.general, "film now")
    assert "The kickoff and its thread are not posted yet" in now.followups[-1].content
    await env.advance_time(20)
    assert len(kickoffs_in(club.general)) == 1
    thread = club.general.threads[0]
    assert thread.id == kickoffs_in(club.general)[0].id
    await club.mia.slash(club.general, "film prompt now")
    assert len(prompts_in(thread)) == 1
    settled = await club.mia.slash(club.general, "film now")
    assert settled.followups == []


async def test_a_kickoff_refused_for_good_after_the_start_is_told_to_moderators(club):
    env = club.env
    fail_posts(env, club.general.id, times=1)
    await club.mia.slash(club.general, "film start", title="Heat")
    fail_posts(env, club.general.id, status=403)
    await env.advance_time(20)
    assert kickoffs_in(club.general) == []
    now = await club.mia.slash(club.general, "film now")
    assert "The kickoff and its thread were not posted: I am not allowed to post in" in (
        now.followups[-1].content
    )


async def test_a_refused_thread_leaves_no_kickoff_and_a_second_try_makes_one(club):
    env = club.env
    env.inject_error(
        "POST",
        f"/channels/{club.general.id}/messages/*/threads",
        status=403,
        code=50013,
        message="Missing Permissions",
        times=1,
    )
    r = await club.mia.slash(club.general, "film start", title="Heat")
    text = refusal(env, r)
    assert text.startswith(
        f"I am not allowed to open a thread under the kickoff in {club.general.mention}."
    )
    assert text.endswith("Nothing was started.")
    assert "try again" not in text
    assert kickoffs_in(club.general) == []
    assert await env.bot.films.running_week(club.guild.id) is None
    await start_week(club, title="Heat")
    assert len(kickoffs_in(club.general)) == 1 and len(club.general.threads) == 1


async def test_a_take_discord_fails_is_promised_truthfully_and_posted_once(club):
    env = club.env
    thread = await start_week(club)
    fail_posts(env, thread.id, times=1)
    r = await club.alice.slash(club.general, "film rate", stars=5, take="Shue is devastating.")
    assert r.response.content.endswith(
        "Your take will be posted in the thread when Discord accepts it "
        "(Discord is not answering (HTTP 503))."
    )
    assert takes_in(thread) == []
    await env.advance_time(20)
    assert [m.embeds[0].description for m in takes_in(thread)] == ["||Shue is devastating.||"]
    await env.advance_time(3600)
    assert len(takes_in(thread)) == 1


async def test_a_take_refused_for_good_says_so_and_keeps_the_rating(club):
    env = club.env
    thread = await start_week(club)
    fail_posts(env, thread.id, status=403)
    r = await club.alice.slash(club.general, "film rate", stars=5, take="Shue is devastating.")
    assert "Your take could not be posted in the thread: I am not allowed to post" in (
        r.response.content
    )
    assert (
        await env.bot.films.rating(
            (await env.bot.films.running_week(club.guild.id)).id, club.alice.id
        )
    ).stars == 10
    now = await club.mia.slash(club.general, "film now")
    assert (
        f"<@{club.alice.id}>'s take was not posted: I am not allowed" in now.followups[-1].content
    )


async def test_a_prompt_discord_keeps_failing_is_given_up_and_comes_back_next_time(club):
    env = club.env
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    thread = await start_week(club, essay=SERA)
    fail_posts(env, thread.id)
    await advance_to(env, datetime(2026, 1, 6, 1, tzinfo=UTC))
    assert prompts_in(thread) == []
    now = await club.mia.slash(club.general, "film now")
    assert "A prompt was not posted: gave up after" in now.followups[-1].content
    stop_failing(env)
    await advance_to(env, datetime(2026, 1, 6, 19, tzinfo=UTC))
    prompts = prompts_in(thread)
    assert [m.embeds[0].author.name.split(" ·")[0] for m in prompts] == ["Prompt 1"]
    assert prompts[0].embeds[0].title == "Opening"


async def test_a_prompt_still_rate_limited_after_discord_py_s_retries_posts_once_that_hour(club):
    # discord.py waits out a 429 and tries again; a 429 that reaches the bot is its last answer.
    env = club.env
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    thread = await start_week(club, essay=SERA)
    fail_posts(env, thread.id, status=429, times=2)
    await advance_to(env, datetime(2026, 1, 5, 18, 0, 5, tzinfo=UTC))
    assert prompts_in(thread) == []
    now = await club.mia.slash(club.general, "film now")
    assert "Discord is not answering (HTTP 429)" in now.followups[-1].content
    await advance_to(env, datetime(2026, 1, 5, 19, tzinfo=UTC))
    prompts = prompts_in(thread)
    assert [m.embeds[0].author.name.split(" ·")[0] for m in prompts] == ["Prompt 1"]


async def test_a_poll_result_waits_for_discord_to_close_the_poll_and_a_tie_goes_to_a_runoff(club):
    env = club.env
    for member, title in ((club.alice, "Heat"), (club.bob, "Thief"), (club.mia, "Ali")):
        await member.slash(club.general, "film nominate", title=title)
    await club.alice.slash(club.general, "film nominate", title="Ali")
    r = await club.mia.slash(club.general, "film poll", hours=2, runoff_hours=1)
    assert r.response.content.startswith(f"The poll is up in {club.general.mention} until <t:")
    poll_message = next(m for m in club.general.history() if m.poll is not None)
    assert [a.text for a in poll_message.poll.answers] == ["Ali", "Heat", "Thief"]
    # Ali's nominators forget themselves while the poll runs: the answers keep their order.
    ask = await club.mia.slash(club.general, "privacy forget-me")
    await club.mia.click(ask.response, label="Delete my data")
    await club.alice.vote(poll_message, answer=2)
    await club.bob.vote(poll_message, answer=3)
    await env.advance_time(2 * 3600 + 10)
    announcement = club.general.history()[-2]
    assert announcement.content.startswith(
        "The poll for the next film is a tie between **Heat** and **Thief**, with 1 vote each: "
        "a runoff between them is open until <t:"
    )
    poll = await env.bot.db.fetchone("SELECT outcome, winner_title FROM polls WHERE id = 1")
    assert (poll["outcome"], poll["winner_title"]) == ("tie", None)
    runoff = club.general.history()[-1]
    assert str(runoff.poll.question) == "Runoff: which film next?"
    assert [a.text for a in runoff.poll.answers] == ["Heat", "Thief"]
    await club.alice.vote(runoff, answer=2)
    await env.advance_time(3600 + 10)  # a runoff as long as the moderator asked
    assert club.general.history()[-1].content.startswith(
        "🏆 **Thief** won the poll for the next film with 1 vote."
    )


async def test_a_poll_result_discord_cannot_read_at_first_is_read_later(club):
    env = club.env
    for member, title in ((club.alice, "Heat"), (club.bob, "Thief")):
        await member.slash(club.general, "film nominate", title=title)
    await club.mia.slash(club.general, "film poll", hours=1)
    poll_message = next(m for m in club.general.history() if m.poll is not None)
    await club.alice.vote(poll_message, answer=2)
    env.inject_error(
        "GET", f"/channels/{club.general.id}/messages/{poll_message.id}", status=503, times=2
    )
    await env.advance_time(3600 + 10)
    assert not club.general.history()[-1].content.startswith("🏆")
    await env.advance_time(20 * 60)
    assert club.general.history()[-1].content.startswith(
        "🏆 **Thief** won the poll for the next film with 1 vote."
    )
