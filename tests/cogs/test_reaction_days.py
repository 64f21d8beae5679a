"""The reactions counted per day (migration 0021), kept by the database's triggers, against a
full count of every stored reaction after each way reactions change: storms over several days,
removals, clears of one emoji and of all, a post edited to show another section, forget-me, and
reconciliation after downtime; and `/stats server` and `/quote top` reading them."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from tests.cogs.test_diary import advance_to
from tests.cogs.test_reactions import section_post, stored
from tests.conftest import SERA
from tests.helpers import reaction_burst, refusal

BY_SHOWN = (
    "SELECT t.guild_id, r.created_at / 86400, coalesce(t.section_id, 0), "
    "coalesce(t.quote_id, 0), count(*) FROM reactions r "
    "JOIN tracked_messages t ON t.message_id = r.message_id WHERE t.guild_id IS NOT NULL "
    "GROUP BY 1, 2, 3, 4"
)
BY_MEMBER = (
    "SELECT t.guild_id, r.created_at / 86400, r.user_id, count(*) FROM reactions r "
    "JOIN tracked_messages t ON t.message_id = r.message_id WHERE t.guild_id IS NOT NULL "
    "GROUP BY 1, 2, 3"
)


async def kept_and_counted(env) -> tuple[tuple[set, set], tuple[set, set]]:
    await env.bot.recorder.flush()
    db = env.bot.db
    kept = (
        {tuple(r) for r in await db.fetchall("SELECT * FROM reaction_days")},
        {tuple(r) for r in await db.fetchall("SELECT * FROM member_reaction_days")},
    )
    counted = (
        {tuple(r) for r in await db.fetchall(BY_SHOWN)},
        {tuple(r) for r in await db.fetchall(BY_MEMBER)},
    )
    return kept, counted


async def test_the_daily_counts_match_a_full_count_after_every_kind_of_change(club, make_bot):
    env = club.env
    await advance_to(env, datetime(2026, 3, 1, 23, 0, tzinfo=UTC))

    async def check() -> None:
        kept, counted = await kept_and_counted(env)
        assert kept == counted
        assert kept[0], "something is counted"

    members = [club.guild.add_member(env.create_user(f"m{i}")) for i in range(30)]
    emojis = ["🎬", "🔥", "❤️", "👍"]
    rng = random.Random(3)
    said = await club.bob.send(club.general, "The motel scene is the whole film.")
    await club.alice.context_menu(club.general, "Save as quote", said)
    card = (await club.alice.slash(club.general, "quote show", number=1)).response.message
    posts = [await section_post(club, section=str(n)) for n in (1, 2, 3)] + [card]
    # Storms on three days (the first one hour before midnight UTC, so it spans two).
    for _ in range(3):
        for post in posts:
            events = [
                (rng.choice(members).id, rng.choice(emojis), rng.random() < 0.8) for _ in range(120)
            ]
            await reaction_burst(env, post, events)
            await env.advance_time(20 * 60)
        await check()
        await env.advance_time(86400)

    first = posts[0]
    await club.alice.react(first, "🎬")
    await club.alice.unreact(first, "🎬")
    await first.clear_reaction("🔥")
    await check()
    await posts[1].clear_reactions()
    await check()

    # The third section's post, edited in place to the contents, then to section 5.
    r = await club.alice.slash(club.general, "essay read", essay=SERA, section="3")
    post = r.response.message
    for m in members[:5]:
        await m.react(post, "🍿")
    await club.alice.click(r.response, label="Contents")
    await check()
    essay = env.bot.library.resolve_essay(club.guild.id, SERA)
    picked = await club.alice.select(post, [str(essay.sections[4].id)])
    assert picked.response.message.id == post.id  # the same post, now showing section 5
    await check()
    shown = await env.bot.db.fetchval(
        "SELECT sum(reactions) FROM reaction_days WHERE section_id = ?", (essay.sections[4].id,)
    )
    assert shown == 5

    # Reactions changed while the bot was away, reconciled on its return.
    await env.bot.ws.close()
    await members[0].react(first, "👀")
    await members[1].react(posts[2], "👀")
    for m in members[3:5]:
        await m.unreact(post, "🍿")
    await env.restart_bot(make_bot())
    await env.settle()
    assert (first.id, members[0].id, "👀") in await stored(env)
    await check()

    for m in members[:3]:
        ask = await m.slash(club.general, "privacy forget-me")
        await m.click(ask.response, label="Delete my data")
    await check()
    kept, _ = await kept_and_counted(env)
    assert not {row for row in kept[1] if row[2] in {m.id for m in members[:3]}}
    assert all(row[4] > 0 for row in kept[0]) and all(row[3] > 0 for row in kept[1])


async def test_stats_server_and_quote_top_count_whole_days(club):
    env = club.env
    await advance_to(env, datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    said = await club.bob.send(club.general, "Sera never asks him to stop.")
    await club.alice.context_menu(club.general, "Save as quote", said)
    card = (await club.alice.slash(club.general, "quote show", number=1)).response.message
    post = await section_post(club)
    await club.alice.react(post, "🎬")  # 10 March, 12:00 UTC
    await club.bob.react(card, "🔥")
    await env.advance_time(86400 + 6 * 3600)  # 11 March, 18:00
    await club.bob.react(post, "🎬")
    await env.advance_time(86400)  # 12 March, 18:00

    one = (await club.alice.slash(club.general, "stats server", days=1)).response.embeds[0]
    # The last day is counted from midnight UTC of the day before: 11 and 12 March.
    assert one.footer.text == "Counted from 11 March 2026, 00:00 UTC"
    assert one.description.startswith("1 reaction ·")
    two = (await club.alice.slash(club.general, "stats server", days=2)).response.embeds[0]
    assert two.footer.text == "Counted from 10 March 2026, 00:00 UTC"
    assert two.description.startswith("3 reactions ·")
    assert "— 1" in two.fields[1].value  # the quote's reaction

    top = await club.alice.slash(club.general, "quote top", days=1)
    assert "No quote got a reaction in the last day" in refusal(env, top)
    top = (await club.alice.slash(club.general, "quote top", days=2)).response.embeds[0]
    assert "Sera never asks him to stop." in top.description
    assert top.footer.text == "Counted from 10 March 2026, 00:00 UTC"
