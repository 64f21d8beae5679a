"""The reactions counted per day, per week and per quarter (migrations 0021, 0025, 0032), kept
from the notes the database's triggers write (0026, postgresql/0023), against a full count of
every stored reaction after each way reactions change: storms over several days and across a week's end,
removals, clears of one emoji and of all, a post edited to show another section, forget-me, and
reconciliation after downtime; and `/stats server` and `/quote top` reading them."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

from bot.interactions import now_epoch
from bot.reactions.counts import COUNT_TABLES, OPEN
from bot.text import plural
from tests.bot.test_quote_reactions import rows_follow_days
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
# Per week of seven UTC days, of the weeks sealed (0025).
SEALED = (
    "JOIN reaction_weeks_sealed s ON s.guild_id = t.guild_id AND r.created_at / 86400 / 7 < s.week "
    "WHERE"
)
BY_SHOWN_WEEK = BY_SHOWN.replace("r.created_at / 86400", "r.created_at / 86400 / 7").replace(
    "WHERE", SEALED
)
BY_MEMBER_WEEK = BY_MEMBER.replace("r.created_at / 86400", "r.created_at / 86400 / 7").replace(
    "WHERE", SEALED
)
# Per quarter of thirteen such weeks, of the weeks sealed (0032).
BY_SHOWN_QUARTER = BY_SHOWN.replace(
    "r.created_at / 86400", "r.created_at / 86400 / 7 / 13"
).replace("WHERE", SEALED)
BY_MEMBER_QUARTER = BY_MEMBER.replace(
    "r.created_at / 86400", "r.created_at / 86400 / 7 / 13"
).replace("WHERE", SEALED)


async def quote_card(club, words: str, number: int):
    """bob's `words`, saved as a quote by alice, and the card `/quote show` posts of it (the
    server's quote `number`)."""
    said = await club.bob.send(club.general, words)
    await club.alice.context_menu(club.general, "Save as quote", said)
    return (await club.alice.slash(club.general, "quote show", number=number)).response.message


async def kept_and_counted(env) -> tuple[tuple[set, ...], tuple[set, ...]]:
    await env.bot.recorder.flush()
    await env.bot.recorder.sealed()  # the weeks summed after the merge
    db = env.bot.db
    kept = [{tuple(r) for r in await db.fetchall(f"SELECT * FROM {t}")} for t in COUNT_TABLES]
    full = (BY_SHOWN, BY_MEMBER, BY_SHOWN_WEEK, BY_MEMBER_WEEK, BY_SHOWN_QUARTER, BY_MEMBER_QUARTER)
    counted = [{tuple(r) for r in await db.fetchall(sql)} for sql in full]
    return tuple(kept), tuple(counted)


async def quote_rows_follow(env) -> None:
    """Each quote's row (migration 0037) against a full count of its reactions: see
    `rows_follow_days`."""
    await env.bot.recorder.flush()
    assert await env.bot.db.fetchval("SELECT count(*) FROM quote_reactions"), "a quote counted"
    await rows_follow_days(env.bot.db)


async def test_the_daily_and_weekly_counts_match_a_full_count_after_every_kind_of_change(
    club, make_bot
):
    env = club.env
    # 4 March 2026 is the last day of a week of the counts (day 20516, 20516 % 7 == 6).
    await advance_to(env, datetime(2026, 3, 4, 23, 0, tzinfo=UTC))

    async def check() -> None:
        kept, counted = await kept_and_counted(env)
        assert kept == counted
        assert kept[0], "something is counted"
        await quote_rows_follow(env)
        # each member's reactions given, as `/stats member` tells them, from the same counts
        given = Counter(row[1] for row in await stored(env))
        for member in (*members, club.alice):
            told = await env.bot.recorder.given(club.guild.id, member.id)
            assert told == given[member.id]

    members = [club.guild.add_member(env.create_user(f"m{i}")) for i in range(30)]
    emojis = ["🎬", "🔥", "❤️", "👍"]
    rng = random.Random(3)
    card = await quote_card(club, "The motel scene is the whole film.", 1)
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
    await card.clear_reaction("❤️")
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
    forgotten = {m.id for m in members[:3]}
    assert not {row for row in kept[1] | kept[3] | kept[5] if row[2] in forgotten}
    assert all(row[4] > 0 for row in kept[0] | kept[2] | kept[4])
    assert all(row[3] > 0 for row in kept[1] | kept[3] | kept[5])
    # The storms' first week (2930) sealed once it was over, and counted by week since, and in
    # its quarter (225: weeks 2925 to 2937).
    assert await env.bot.db.fetchval("SELECT week FROM reaction_weeks_sealed") == 2931
    assert {row[1] for row in kept[2]} == {2930} and kept[3]
    assert {row[1] for row in kept[4]} == {row[1] for row in kept[5]} == {225}


async def test_stats_server_and_quote_top_count_whole_days(club):
    env = club.env
    await advance_to(env, datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    card = await quote_card(club, "Sera never asks him to stop.", 1)
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


async def test_quote_top_ranks_a_quote_whose_reactions_began_before_the_period(club):
    """A quote with reactions on both sides of a period's first day is ranked by those in the
    period alone, against one whose reactions are all in it; and again once the reactions of
    its first day are taken back, as a member would count them."""
    env = club.env
    await advance_to(env, datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    first = await quote_card(club, "Sera never asks him to stop.", 1)
    second = await quote_card(club, "He drinks; she stays.", 2)
    carol = club.guild.add_member(env.create_user("carol"))
    await club.alice.react(first, "🔥")  # 10 March
    await club.bob.react(first, "🎬")
    await env.advance_time(2 * 86400)  # 12 March
    await carol.react(first, "🔥")
    await club.alice.react(second, "🔥")
    await club.bob.react(second, "🔥")

    async def top(days: int) -> str:
        reply = await club.alice.slash(club.general, "quote top", days=days)
        return reply.response.embeds[0].description

    # From 11 March the first quote has carol's reaction alone; from 9 March, all three.
    lines = (await top(1)).splitlines()
    assert lines[0].startswith("**#2**") and lines[0].endswith("2 reactions")
    assert lines[1].startswith("**#1**") and lines[1].endswith("1 reaction")
    lines = (await top(3)).splitlines()
    assert lines[0].startswith("**#1**") and lines[0].endswith("3 reactions")
    assert lines[1].startswith("**#2**") and lines[1].endswith("2 reactions")

    # The reactions of 10 March taken back: the first quote keeps carol's alone.
    await club.alice.unreact(first, "🔥")
    await club.bob.unreact(first, "🎬")
    lines = (await top(3)).splitlines()
    assert lines[0].startswith("**#2**") and lines[0].endswith("2 reactions")
    assert lines[1].startswith("**#1**") and lines[1].endswith("1 reaction")


async def test_stats_server_counts_every_period_from_its_weeks_and_days(club):
    """A period is read as whole weeks and a few days added or taken away at its start
    (bot/reactions/counts.py): every length from 1 to 24 days, starting on each day of a week,
    counts what a member would count by hand."""
    env = club.env
    await advance_to(env, datetime(2026, 4, 1, 12, 0, tzinfo=UTC))
    post = await section_post(club)
    card = await quote_card(club, "Sera never asks him to stop.", 1)
    given: list[tuple[int, int, str]] = []  # (day, member, emoji) still there
    members = [club.guild.add_member(env.create_user(f"d{i}")) for i in range(24)]
    for day, member in enumerate(members):
        await member.react(post, "🎬")
        given.append((day, member.id, "🎬"))
        if day % 3 == 0:  # a second reaction that day, on the quote's card
            await member.react(card, "🔥")
            given.append((day, member.id, "🔥"))
        if day == 10:  # an old reaction taken back
            await members[4].unreact(post, "🎬")
            given.remove((4, members[4].id, "🎬"))
        await env.advance_time(86400)
    # Now noon of the 24th day after the first: `days` days back counts the days from 24 - days.
    # The weeks before this one are sealed (the first day, 1 April, ended week 2934).
    assert await env.bot.db.fetchval("SELECT week FROM reaction_weeks_sealed") == (20544 + 24) // 7
    for days in range(1, 25):
        counted = [g for g in given if g[0] >= 24 - days]
        involved = Counter(member for _, member, _ in counted)
        if days == 24:
            involved[club.alice.id] += 1  # the quote she saved on the first day
        reply = await club.alice.slash(club.general, "stats server", days=days)
        embed = reply.response.embeds[0]
        assert embed.description.startswith(f"{plural(len(counted), 'reaction')} ·"), days
        assert f"{plural(len(involved), 'member')} taking part" in embed.description, days
        cards = sum(1 for g in counted if g[2] == "🔥")
        assert (f"— {cards}" in embed.fields[1].value) == bool(cards), days
        leader = min(involved, key=lambda m: (-involved[m], m))
        assert embed.fields[2].value.startswith(f"1. <@{leader}> — {involved[leader]}"), days


async def test_a_long_period_is_counted_from_its_quarters_as_a_member_would_count_it(club):
    """Half a year and more is read as whole quarters of sealed weeks and the weeks and days at
    its ends (migration 0032): `/stats server` (its posts and its members), `/quote top` and the
    club's year count what a member would count by hand, a reaction taken back from a sealed
    quarter included, and the members taking part by saving a quote."""
    env = club.env
    await advance_to(env, datetime(2026, 1, 5, 12, 0, tzinfo=UTC))  # day 20458
    post = await section_post(club)
    card = await quote_card(club, "Sera never asks him to stop.", 1)
    given: list[tuple[int, int, str]] = []  # (days after 5 January, member, emoji) still there
    members = [club.guild.add_member(env.create_user(f"q{i}")) for i in range(63)]
    for step, member in enumerate(members):
        await member.react(post, "🎬")
        given.append((5 * step, member.id, "🎬"))
        if step % 3 == 0:
            await member.react(card, "🔥")
            given.append((5 * step, member.id, "🔥"))
        if step == 40:  # a reaction of January taken back in July
            await members[2].unreact(post, "🎬")
            given.remove((10, members[2].id, "🎬"))
        if step == 50:  # a quote saved in September: mia takes part in every period below
            said = await club.bob.send(club.general, "He drinks; she stays.")
            await club.mia.context_menu(club.general, "Save as quote", said)
        await env.advance_time(5 * 86400)
    # Now noon, 315 days after 5 January (16 November 2026). The weeks sealed reach into the
    # quarter going on (228, from week 2964): its row holds them, and the periods below, which
    # run to now, read it with the others, and the days after the weeks sealed (as does the
    # year, which runs to a day not reached yet).
    db = env.bot.db
    assert await db.fetchval("SELECT max(quarter) FROM reaction_quarters") == 228
    assert await db.fetchval("SELECT max(quarter) FROM member_reaction_quarters") == 228
    for days in (200, 241, 272, 300):
        period = await env.bot.recorder.period(club.guild.id, now_epoch() - days * 86400)
        assert period.quarters[0] < period.quarters[1] == OPEN, days  # by quarter, to now
        counted = [g for g in given if g[0] >= 315 - days]
        embed = (await club.alice.slash(club.general, "stats server", days=days)).response.embeds[0]
        assert embed.description.startswith(f"{plural(len(counted), 'reaction')} ·"), days
        cards = sum(1 for g in counted if g[2] == "🔥")
        assert f"— {cards}" in embed.fields[1].value, days
        # alice's quote was saved before each period; mia's within it (on SQLite, counted per
        # saver in saver order: migration 0033)
        involved = Counter(member for _, member, _ in counted) + Counter({club.mia.id: 1})
        assert f"{plural(len(involved), 'member')} taking part" in embed.description, days
        leader = min(involved, key=lambda m: (-involved[m], m))
        assert embed.fields[2].value.startswith(f"1. <@{leader}> — {involved[leader]}"), days
        top = (await club.alice.slash(club.general, "quote top", days=days)).response.embeds[0]
        assert f"{plural(cards, 'reaction')}" in top.description, (days, top.description)
    # A period that ended ten days ago is read within its ends: weeks after it may be sealed.
    ended = await env.bot.recorder.period(
        club.guild.id, now_epoch() - 300 * 86400, now_epoch() - 10 * 86400
    )
    assert ended.quarters[0] < ended.quarters[1] < OPEN and not ended.from_sealed
    year = await club.alice.slash(club.general, "stats year")
    section = {f.name: f.value for f in year.response.embeds[0].fields}[
        "Section that moved the club most"
    ]
    assert section.startswith(f"{plural(sum(1 for g in given if g[2] == '🎬'), 'reaction')}")


async def test_the_first_start_after_the_upgrade_sums_every_week_so_far(club, make_bot):
    # A server's reactions over three weeks, counted by day alone as before migration 0025.
    env = club.env
    await advance_to(env, datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    post = await section_post(club)
    members = [club.guild.add_member(env.create_user(f"w{i}")) for i in range(20)]
    for member in members:
        await member.react(post, "🎬")
        await env.advance_time(86400)
    before = (await club.alice.slash(club.general, "stats server", days=19)).response.embeds[0]
    await env.bot.recorder.flush()
    await env.bot.recorder.sealed()
    async with env.bot.db.transaction() as tx:
        for table in ("reaction_weeks", "member_reaction_weeks", "reaction_weeks_sealed"):
            await tx.execute(f"DELETE FROM {table}")
    unsealed = (await club.alice.slash(club.general, "stats server", days=19)).response.embeds[0]
    assert unsealed.to_dict() == before.to_dict()  # read by day alone meanwhile

    await env.restart_bot(make_bot())
    await env.settle()
    await env.bot.recorder.sealed()
    kept, counted = await kept_and_counted(env)
    assert kept == counted
    # 21 May 2026 (day 20594) is in week 2942: the weeks before it are summed.
    assert await env.bot.db.fetchval("SELECT week FROM reaction_weeks_sealed") == 2942
    assert {row[1] for row in kept[3]} == {2939, 2940, 2941}
    assert {row[1] for row in kept[4]} == {row[1] for row in kept[5]} == {226}  # weeks 2938-2950
    after = (await club.alice.slash(club.general, "stats server", days=19)).response.embeds[0]
    assert after.to_dict() == before.to_dict()
    assert after.description.startswith("19 reactions ·")
