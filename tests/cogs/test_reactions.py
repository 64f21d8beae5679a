"""Reactions on the bot's posts, stored and reconciled, through simcord."""

from __future__ import annotations

import asyncio
import random

from bot.db import open_database
from tests.conftest import SERA
from tests.helpers import reaction_burst, reaction_rows


async def section_post(club, member=None, section="1"):
    r = await (member or club.alice).slash(club.general, "essay read", essay=SERA, section=section)
    return r.response.message


async def stored(env, message_id=None):
    await env.bot.recorder.flush()
    sql = "SELECT message_id, user_id, emoji FROM reactions"
    params = ()
    if message_id is not None:
        sql += " WHERE message_id = ?"
        params = (message_id,)
    return reaction_rows(await env.bot.db.fetchall(sql, params))


async def test_every_post_that_shows_something_is_tracked(club):
    post = await section_post(club)
    excerpt = (await club.alice.slash(club.general, "essay excerpt", essay=SERA)).response
    rows = await club.env.bot.db.fetchall(
        "SELECT message_id, kind, essay_id, section_id FROM tracked_messages ORDER BY created_at"
    )
    essay = club.env.bot.library.resolve_essay(club.guild.id, SERA)
    assert (post.id, "section", essay.id, essay.sections[0].id) == tuple(rows[0])
    assert rows[1]["message_id"] == excerpt.id and rows[1]["kind"] == "excerpt"
    moved = await club.alice.click(post, label="Next section ▶")
    row = await club.env.bot.db.fetchone(
        "SELECT section_id FROM tracked_messages WHERE message_id = ?", (post.id,)
    )
    assert row[0] == essay.sections[1].id and moved.response.id == post.id


async def test_adds_and_removes_are_stored_per_member_and_emoji(club):
    post = await section_post(club)
    await club.alice.react(post, "🎬")
    await club.bob.react(post, "🎬")
    await club.bob.react(post, "❤️")
    await club.alice.react(post, "❤")
    await club.bob.unreact(post, "🎬")
    assert await stored(club.env) == {
        (post.id, club.alice.id, "🎬"),
        (post.id, club.bob.id, "❤"),
        (post.id, club.alice.id, "❤"),
    }


async def test_hearts_with_and_without_variation_selector_are_one_emoji(club):
    post = await section_post(club)
    await club.alice.react(post, "❤️")
    await club.alice.unreact(post, "❤️")
    await club.bob.react(post, "❤")
    assert {e for _, _, e in await stored(club.env)} == {"❤"}


async def test_custom_emoji_are_keyed_by_id(club):
    emoji = club.guild.create_emoji("popcorn")
    post = await section_post(club)
    await club.alice.react(post, f"popcorn:{emoji.id}")
    assert await stored(club.env) == {(post.id, club.alice.id, f"c:{emoji.id}")}
    names = await club.env.bot.stats.emoji_names()
    assert names[f"c:{emoji.id}"] == f"<:popcorn:{emoji.id}>"
    await club.alice.unreact(post, f"popcorn:{emoji.id}")
    assert await stored(club.env) == set()


async def test_untracked_messages_and_the_bots_own_reactions_are_ignored(club):
    plain = await club.alice.send(club.general, "just chatting")
    await club.bob.react(plain, "🎬")
    post = await section_post(club)
    await post.add_reaction("🎬")  # the bot's own
    await club.env.settle()
    assert await stored(club.env) == set()


async def test_remove_all_remove_emoji_and_deletes(club):
    first = await section_post(club)
    second = await section_post(club, section="2")
    third = await section_post(club, section="3")
    for post in (first, second, third):
        await club.alice.react(post, "🎬")
        await club.bob.react(post, "🔥")
    await first.clear_reaction("🔥")
    await second.clear_reactions()
    await club.env.settle()
    assert await stored(club.env, first.id) == {(first.id, club.alice.id, "🎬")}
    assert await stored(club.env, second.id) == set()
    await third.delete()
    await club.env.settle()
    await club.env.bot.recorder.flush()
    deleted = await club.env.bot.db.fetchval(
        "SELECT deleted_at FROM tracked_messages WHERE message_id = ?", (third.id,)
    )
    assert deleted is not None
    assert third.id not in club.env.bot.recorder.tracked
    assert len(await stored(club.env, third.id)) == 2, "what members gave is kept for the stats"


async def test_reactions_on_a_post_from_before_a_restart_count(club, make_bot):
    post = await section_post(club)
    await club.env.restart_bot(make_bot())
    await club.alice.react(post, "🎬")
    assert await stored(club.env) == {(post.id, club.alice.id, "🎬")}


async def test_five_thousand_shuffled_events_end_in_exactly_the_right_rows(club):
    env = club.env
    posts = [await section_post(club, section=str(n)) for n in (1, 2, 3)]
    members = [club.guild.add_member(env.create_user(f"m{i}")) for i in range(40)]
    emojis = ["🎬", "🔥", "❤️", "👍", "🍿"]
    rng = random.Random(7)
    expected: set[tuple[int, int, str]] = set()
    bursts: dict[int, list] = {p.id: [] for p in posts}
    events = 0
    while events < 5000:
        post = rng.choice(posts)
        member = rng.choice(members)
        emoji = rng.choice(emojis)
        key = (post.id, member.id, emoji.replace("\ufe0f", ""))
        if rng.random() < 0.15:  # add, remove, add again by the same member
            for reacted in (True, False, True):
                bursts[post.id].append((member.id, emoji, reacted))
            expected.add(key)
            events += 3
            continue
        reacted = key not in expected if rng.random() < 0.8 else key in expected
        bursts[post.id].append((member.id, emoji, reacted))
        (expected.add if reacted else expected.discard)(key)
        events += 1
    for post in posts:
        await reaction_burst(env, post, bursts[post.id])
    assert await stored(env) == expected
    assert sum(len(b) for b in bursts.values()) >= 5000


async def test_offline_changes_are_reconciled_and_a_second_pass_changes_nothing(club, make_bot):
    env = club.env
    post = await section_post(club)
    await club.alice.react(post, "🎬")
    await club.bob.react(post, "🔥")
    await env.bot.ws.close()  # the bot stops hearing the gateway
    await club.alice.unreact(post, "🎬")
    await club.alice.react(post, "👍")
    carol = club.guild.add_member(env.create_user("carol"))
    await carol.react(post, "🔥")
    assert await stored(env) == {(post.id, club.alice.id, "🎬"), (post.id, club.bob.id, "🔥")}
    await env.restart_bot(make_bot())
    await env.settle()
    after = {
        (post.id, club.alice.id, "👍"),
        (post.id, club.bob.id, "🔥"),
        (post.id, carol.id, "🔥"),
    }
    assert await stored(env) == after
    cog = env.bot.get_cog("Reactions")
    assert await cog.reconcile() == (0, 0)
    assert await stored(env) == after


async def test_a_live_event_during_reconciliation_wins_and_duplicates_nothing(
    club, make_bot, monkeypatch
):
    env = club.env
    post = await section_post(club)
    await env.bot.ws.close()
    await club.alice.react(post, "🎬")
    await env.restart_bot(make_bot())
    await env.settle()
    cog = env.bot.get_cog("Reactions")
    original = cog._observe

    async def observe_then_live_event(message_id, channel_id):
        seen = await original(message_id, channel_id)
        env.bot.recorder.remove(post.id, club.alice.id, "🎬")  # arrives after Discord was read
        env.bot.recorder.add(post.id, club.bob.id, "🔥")
        return seen

    monkeypatch.setattr(cog, "_observe", observe_then_live_event)
    await cog.reconcile()
    assert await stored(env) == {(post.id, club.bob.id, "🔥")}


async def test_digest_and_stats_count_stored_reactions(club):
    post = await section_post(club, section="3")
    await club.alice.react(post, "🎬")
    await club.bob.react(post, "🎬")
    await club.bob.react(post, "🔥")
    r = await club.alice.slash(club.general, "stats essay", essay=SERA)
    embed = r.response.embeds[0]
    assert "Moved people most: **3. The Pact: Love Without Redemption**" in embed.description
    assert (
        "**3. The Pact: Love Without Redemption** — 3 reactions (🎬 2 🔥 1), 0 quotes"
        in embed.description
    )
    assert embed.image.url == "attachment://essay-stats.png"
    attachment = r.response.attachments[0]
    assert attachment.filename == "essay-stats.png"
    assert (await attachment.read()).startswith(b"\x89PNG")


async def test_closing_during_a_burst_commits_every_event_received(club):
    """What SIGTERM does (`python -m bot run` closes the bot on it: tests/test_cli.py sends a
    real one to a real process): closing while events are queued commits every one of them."""
    env = club.env
    post = await section_post(club)
    members = [club.guild.add_member(env.create_user(f"s{i}")) for i in range(300)]
    bot = env.bot
    bot.recorder.max_delay = 60  # the tests' bots commit within 2 ms (tests/conftest.py)
    for member in members:  # delivered to the bot, not yet committed
        env.backend.set_reaction(post.channel.id, post.id, "🎬", member.id, True)
    await asyncio.sleep(0)
    written = "SELECT count(*) FROM reactions WHERE message_id = ?"
    assert await bot.db.fetchval(written, (post.id,)) == 0  # all 300 wait for the close
    await bot.close()
    assert not bot.has_services, "the bot closed, its database too"
    db = await open_database(bot.config)
    count = await db.fetchval(written, (post.id,))
    await db.close()
    assert count == 300


async def test_a_forgotten_member_stays_forgotten_after_reconciliation(club, make_bot):
    env = club.env
    post = await section_post(club)
    await club.alice.react(post, "🎬")
    await club.bob.react(post, "🔥")
    ask = await club.alice.slash(club.general, "privacy forget-me")
    await club.alice.click(ask.response, label="Delete my data")
    assert await stored(env) == {(post.id, club.bob.id, "🔥")}
    await env.bot.ws.close()
    await env.restart_bot(make_bot())  # Discord still shows alice's 🎬 on the post
    await env.settle()
    assert await stored(env) == {(post.id, club.bob.id, "🔥")}
    # What she does after forgetting counts again, live and after downtime.
    await env.advance_time(60)
    later = await section_post(club, member=club.bob, section="2")
    await club.alice.react(later, "👍")
    await env.bot.ws.close()
    await club.alice.react(later, "🎬")
    await env.restart_bot(make_bot())
    await env.settle()
    assert await stored(env) == {
        (post.id, club.bob.id, "🔥"),
        (later.id, club.alice.id, "👍"),
        (later.id, club.alice.id, "🎬"),
    }


async def test_a_handler_that_raises_loses_neither_the_reaction_nor_the_listeners(club, caplog):
    """The reaction handlers run inside discord.py's dispatch; one that raises before them is
    logged, and the event still reaches them and discord.py's own listeners."""
    bot = club.env.bot
    post = await section_post(club)

    def broken(payload):
        raise RuntimeError("a broken handler")

    bot.listen_inline("raw_reaction_add", broken)
    await bot.reload_extension("cogs.reactions")  # its handlers now come after the broken one
    assert bot._inline["raw_reaction_add"][0] == broken
    assert len(bot._inline["raw_reaction_add"]) == 2  # the unloaded cog's handler is gone
    heard = asyncio.ensure_future(
        bot.wait_for("raw_reaction_add", check=lambda payload: payload.message_id == post.id)
    )
    await club.alice.react(post, "🎬")
    assert await stored(club.env, post.id) == {(post.id, club.alice.id, "🎬")}
    assert (await heard).user_id == club.alice.id
    assert "a broken handler" in caplog.text
