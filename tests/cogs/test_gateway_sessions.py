"""A gateway connection that drops while the bot runs (a sharded bot, through simcord's shards):
a resumed session loses nothing, a new session has what happened meanwhile read like a
downtime's, and the heartbeats never mark the servers as followed while it is down."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.cogs.test_reactions import section_post, stored
from tests.cogs.test_reconcile import until_stored
from tests.conftest import film_club

pytestmark = pytest.mark.simcord(strict_sync=False)


@pytest.fixture
def simcord_bot(make_bot, config):
    return make_bot(replace(config, shard_count=2))


@pytest.fixture
def club(simcord_env):
    return film_club(simcord_env, shard_id=1)


async def test_a_new_session_after_a_drop_reads_what_was_missed(club):
    env = club.env
    post = await section_post(club)
    await club.bob.react(post, "🔥")
    await env.advance_time(86400)  # the post is quiet for a day
    shard = env.bot.get_shard(1)
    await shard.disconnect()
    await env.settle()
    await club.alice.react(post, "🎬")  # never reaches the bot
    await env.advance_time(3 * 3600)
    await env.bot.cluster.beat()  # the process's heartbeat goes on meanwhile
    assert (post.id, club.alice.id, "🎬") not in await stored(env)
    await shard.reconnect()  # a new session: READY, the server again
    # discord.py says the shard is ready a moment after its servers came.
    assert await until_stored(env, (post.id, club.alice.id, "🎬"))


async def test_a_resumed_session_keeps_the_beats_going(club):
    env = club.env
    await section_post(club)
    shard = env.bot.get_shard(1)
    await shard.disconnect()
    await env.settle()
    await env.advance_time(600)
    await env.bot.cluster.beat()
    seen = await env.bot.db.fetchval("SELECT seen_at FROM reconcile_servers")
    assert seen < env.now().timestamp() - 500, "a beat while the shard is down marks nothing"
    # The session resumed: Discord replays what it missed. (simcord's shards come back with a
    # new session only; the event is dispatched as discord.py dispatches a RESUMED.)
    env.bot.dispatch("shard_resumed", 1)
    await env.settle()
    await env.advance_time(600)
    await env.bot.cluster.beat()
    assert await env.bot.db.fetchval("SELECT seen_at FROM reconcile_servers") == int(
        env.now().timestamp()
    )
