"""Reconciling reactions after downtime, in proportion to it, through simcord: what was missed is
found, newest first; a prompt falling due meanwhile is posted on time; a restart goes on where
the last process stopped; an unsharded bot's lost gateway session is read like a downtime."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace
from datetime import UTC, datetime

from tests.cogs.test_films import advance_to, go_offline, prompts_in, start_week
from tests.cogs.test_reactions import section_post, stored
from tests.conftest import SERA

FETCH = re.compile(r"^/channels/\d+/messages/(\d+)$")


def fetched(env, since: int = 0) -> list[int]:
    """The posts the bot read from Discord (GET of one message), in order."""
    found = []
    for request in env.http_requests[since:]:
        match = FETCH.match(request.path)
        if request.method == "GET" and match:
            found.append(int(match.group(1)))
    return found


async def until_stored(env, reaction: tuple[int, int, str]) -> bool:
    """Whether `reaction` is stored within 10 s of real time: a reconciliation plans on the
    database's thread, so each step gives it real time as well as virtual."""
    for _ in range(200):
        if reaction in await stored(env):
            return True
        await asyncio.to_thread(time.sleep, 0.05)
        await env.advance_time(0.5)
    return reaction in await stored(env)


async def posts_with_a_reaction(club, count: int, member=None) -> list:
    posts = []
    for n in range(count):
        post = await section_post(club, section=str(n % 8 + 1))
        await (member or club.bob).react(post, "🔥")
        posts.append(post)
    return posts


async def test_after_a_short_downtime_only_posts_alive_near_the_stop_are_read_newest_first(
    club, make_bot
):
    env = club.env
    quiet = await section_post(club)
    await club.bob.react(quiet, "🔥")
    await env.advance_time(2 * 86400)  # two days without a sign of life on it
    older, newer = await posts_with_a_reaction(club, 2)
    await env.advance_time(60)
    await go_offline(env)
    await env.advance_time(10)
    for post in (quiet, older, newer):
        await club.alice.react(post, "🎬")
    await env.advance_time(10)
    mark = len(env.http_requests)
    await env.restart_bot(make_bot())
    await env.settle()
    assert fetched(env, mark) == [newer.id, older.id]
    assert await stored(env) == {
        (quiet.id, club.bob.id, "🔥"),
        *{
            (post.id, member.id, emoji)
            for post in (older, newer)
            for member, emoji in ((club.bob, "🔥"), (club.alice, "🎬"))
        },
    }


async def test_after_a_long_downtime_every_post_with_life_is_read_newest_first(club, make_bot):
    env = club.env
    first = await section_post(club)
    await club.bob.react(first, "🔥")
    await env.advance_time(3 * 86400)
    second = await section_post(club, section="2")
    await env.advance_time(3600)
    third = await section_post(club, section="3")
    await club.bob.react(third, "👍")
    await env.advance_time(60)
    await go_offline(env)
    await env.advance_time(2 * 86400)
    await club.alice.react(first, "🎬")
    await club.alice.react(second, "🎬")
    await club.bob.unreact(third, "👍")
    mark = len(env.http_requests)
    await env.restart_bot(make_bot())
    await env.settle()
    assert fetched(env, mark) == [third.id, second.id, first.id]
    assert await stored(env) == {
        (first.id, club.bob.id, "🔥"),
        (first.id, club.alice.id, "🎬"),
        (second.id, club.alice.id, "🎬"),
    }


async def test_a_prompt_due_during_reconciliation_is_posted_on_time(club, make_bot, config):
    env = club.env
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    thread = await start_week(club, essay=SERA)
    posts = await posts_with_a_reaction(club, 24)
    await advance_to(env, datetime(2026, 1, 5, 17, tzinfo=UTC))
    await go_offline(env)
    for post in posts:  # each post needs two calls: the post, then who reacted with 🎬
        await club.alice.react(post, "🎬")
    await advance_to(env, datetime(2026, 1, 5, 17, 59, 40, tzinfo=UTC))
    mark = len(env.http_requests)
    await env.restart_bot(make_bot(replace(config, reconcile_rate=1)))
    await advance_to(env, datetime(2026, 1, 5, 18, 0, 5, tzinfo=UTC))
    prompts = prompts_in(thread)
    assert len(prompts) == 1
    assert abs((prompts[0].created_at - datetime(2026, 1, 5, 18, tzinfo=UTC)).total_seconds()) < 1
    # Reconciliation is still under way, at its pace of one call a second.
    assert 10 <= len(fetched(env, mark)) < len(posts)
    calls = [r for r in env.http_requests[mark:] if r.method == "GET" and "/messages/" in r.path]
    assert len(calls) <= 25 + 1
    await env.advance_time(60)
    assert {post.id for post in posts} <= set(fetched(env, mark))
    assert {(p.id, club.alice.id, "🎬") for p in posts} <= await stored(env)


async def test_a_restart_mid_reconciliation_goes_on_where_it_was(club, make_bot, config):
    env = club.env
    slow = replace(config, reconcile_rate=0.5, process_name="projectionist")
    await env.restart_bot(make_bot(slow))
    posts = await posts_with_a_reaction(club, 12)
    await env.advance_time(86400)
    await go_offline(env)
    await env.advance_time(2 * 86400)
    for post in posts[:3]:  # the oldest posts, which come last
        await club.alice.react(post, "🎬")
    mark = len(env.http_requests)
    await env.restart_bot(make_bot(slow))
    # The plan reads the database first (and the recorder sums any week over, beside it),
    # which a busy machine slows: each step gives the database's thread real time as well,
    # up to 10 s. The wait ends at the first post read, so few are read before it whenever
    # the plan is done. (A start's first heartbeat used to hide the gap from the plan, which
    # then read nothing at all: see `Reconciliation.beat`.)
    for _ in range(200):
        await asyncio.to_thread(time.sleep, 0.05)
        await env.advance_time(0.5)
        if fetched(env, mark):
            break
    before = fetched(env, mark)
    assert before == [post.id for post in reversed(posts)][: len(before)], "newest first"
    assert 1 <= len(before) < 9
    row = await env.bot.db.fetchone("SELECT planned, posts FROM reconcile_runs")
    assert row["planned"] == 12
    await go_offline(env)  # a deploy: the process stops cleanly mid-way
    await env.advance_time(5)
    mark = len(env.http_requests)
    await env.restart_bot(make_bot(slow))
    await env.advance_time(120)
    after = fetched(env, mark)
    assert len(set(before) & set(after)) <= 1, "the post being read at the stop, at most"
    assert set(before) | set(after) == {post.id for post in posts}
    assert {(p.id, club.alice.id, "🎬") for p in posts[:3]} <= await stored(env)
    assert await env.bot.db.fetchval("SELECT count(*) FROM reconcile_runs") == 0


async def test_an_unsharded_bot_reads_what_a_lost_session_missed(club):
    env = club.env
    post = await section_post(club)
    await club.bob.react(post, "🔥")
    await env.advance_time(86400)  # the post is quiet for a day
    # The gateway drops (simcord's plain client has no reconnect: the events are dispatched as
    # discord.py dispatches them), a member reacts meanwhile, the process beats on.
    await env.bot.ws.close()
    env.bot.dispatch("disconnect")
    await env.settle()
    await club.alice.react(post, "🎬")
    await env.advance_time(3 * 3600)
    await env.bot.cluster.beat()
    assert (post.id, club.alice.id, "🎬") not in await stored(env)
    env.bot.dispatch("ready")  # a new session
    assert await until_stored(env, (post.id, club.alice.id, "🎬"))
