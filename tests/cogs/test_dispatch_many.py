"""Many servers whose prompts fall due at the same minute, through simcord, with Discord's
answers taking a while (each request waits a quarter of a virtual second, as the real Discord's
answers take their time): every server gets its prompt, and the last is late by a few seconds,
not by the sum of all the others' posts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import discord
import pytest

from tests.cogs.test_films import advance_to, prompts_in
from tests.conftest import SERA

SERVERS = 40
LATENCY = 0.25  # virtual seconds before each of Discord's answers


def slow_discord(bot) -> None:
    """Every request of the bot answered after LATENCY (virtual time, as the clock runs)."""
    request = bot.http.request

    async def answered_later(route, **kwargs):
        await asyncio.sleep(LATENCY)
        return await request(route, **kwargs)

    bot.http.request = answered_later


# The time allowed is simcord's real-time bound for each step to settle, not a figure of the
# bot's: a round of posts on PostgreSQL takes longer than its default five seconds on a busy
# machine, and the virtual lateness asserted below does not depend on it.
@pytest.mark.simcord(settle_timeout=60)
async def test_prompts_of_many_servers_due_at_once_are_all_posted_within_seconds(simcord_env):
    env = simcord_env
    await advance_to(env, datetime(2026, 1, 5, 12, tzinfo=UTC))
    threads = []
    for n in range(SERVERS):
        guild = env.create_guild(f"Club {n}")
        channel = guild.create_text_channel("films")
        mods = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
        mia = guild.add_member(env.create_user(f"mia{n}"), roles=[mods])
        r = await mia.slash(channel, "film start", title="Leaving Las Vegas", essay=SERA)
        assert r.response.content.startswith("Started"), r.response.content
        threads.append(channel.threads[-1])
    slow_discord(env.bot)
    due = datetime(2026, 1, 5, 18, tzinfo=UTC)
    await advance_to(env, due - timedelta(seconds=1))
    # A quarter second at a time, so that each step's real work (the database's part of a
    # round of posts) stays well within simcord's five real seconds per step.
    for _ in range(48):
        await env.advance_time(LATENCY)
    await env.advance_time(60)

    posted = [prompts_in(thread) for thread in threads]
    assert all(len(prompts) == 1 for prompts in posted), "every server got its prompt, once"
    last = max(prompts[0].created_at for prompts in posted)
    # One server after another: 40 posts of a quarter second each, 10 s and more. Sixteen at
    # a time: about three rounds.
    assert last - due < timedelta(seconds=3), last - due
