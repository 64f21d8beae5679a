import random

from bot.quotes.service import Quotes
from bot.reactions.recorder import ReactionRecorder, Tracked, counted_since
from bot.stats.service import SAVERS_IN_ORDER_FROM, Stats
from bot.stats.year import Span, Years

DAY = 86400
GUILD, OTHER_GUILD = 9, 10


async def recorder_at(db):

    now = {"t": 0.0}
    recorder = ReactionRecorder(db, clock=lambda: now["t"])
    await recorder.track(Tracked(1, GUILD, 5, "section"), 0)
    await recorder.track(Tracked(2, GUILD, 5, "section"), 0)
    await recorder.track(Tracked(3, OTHER_GUILD, 6, "section"), 0)
    return db, recorder, now


async def save_quote(quotes: Quotes, saver: int, at: int, text: str = "A line."):
    """A quote typed in by `saver` at `at`, from no essay."""
    return await quotes.add_typed(
        GUILD, text=text, author_name=None, essay_id=None, section_id=None, saved_by=saver, now=at
    )


async def test_member_rankings_count_exactly_the_period(db):
    db, recorder, now = await recorder_at(db)
    asked_at = 103 * DAY + 3600  # `days:3`, one hour into a UTC day
    since = counted_since(asked_at, 3)
    assert since == 100 * DAY  # the period is whole UTC days: three, and today so far
    for at, message, user, emoji in [
        (since - 60, 1, 7, "🎬"),  # the day before, a minute before the period: not counted
        (since + 60, 1, 7, "🔥"),
        (since + 2 * DAY, 1, 7, "👍"),
        (since + 2 * DAY, 2, 8, "🎬"),
        (since + 2 * DAY, 2, 8, "🔥"),
        (since + 3 * DAY, 3, 8, "🎬"),  # another server's post
    ]:
        now["t"] = at
        recorder.add(message, user, emoji)
        await recorder.flush()
    now["t"] = since + 4 * DAY
    recorder.remove(2, 8, "🔥")  # taken back: no longer counted
    await recorder.flush()

    stats = Stats(db, recorder)
    server = await stats.server(GUILD, since)
    assert server.reactions == 3
    assert (server.members, server.top_members) == (2, [(7, 2), (8, 1)])
    assert (await stats.member(GUILD, 7)).reactions_given == 3  # all time
    assert (await stats.member(GUILD, 8)).reactions_given == 1

    recorder.clear(1)
    await recorder.flush()
    server = await stats.server(GUILD, since)
    assert (server.reactions, server.top_members) == (1, [(8, 1)])
    assert (await stats.member(GUILD, 7)).reactions_given == 0
    await recorder.close()


async def test_the_most_involved_add_quotes_to_reactions_and_name_five(db):
    db, recorder, now = await recorder_at(db)
    since = 100 * DAY
    quotes = Quotes(db)
    # Members 21…27 react 7…1 times in turn on the server's two posts; 26 and 27 also save
    # quotes, which count as much as a reaction; 30 saves quotes alone.
    for user in range(21, 28):
        for i in range(28 - user):
            now["t"] = since + DAY + i
            recorder.add(1 + i % 2, user, f"e{i}")
    await recorder.flush()
    for saver, saved in ((26, 3), (27, 3), (30, 1)):
        for _ in range(saved):
            await save_quote(quotes, saver, since + DAY)
    stats = await Stats(db, recorder).server(GUILD, since)
    # 26 has 2 + 3 = 5 and 27 has 1 + 3 = 4: 26 ties with 23 (5), 27 with 24 (4), the lower
    # id first; 25 (3) is sixth and not named, but every one of the eight is counted.
    assert stats.top_members == [(21, 7), (22, 6), (23, 5), (26, 5), (24, 4)]
    assert (stats.members, stats.quotes, stats.reactions) == (8, 7, 28)
    await recorder.close()


async def test_the_periods_savers_are_the_same_counted_by_time_or_in_saver_order(db):
    """Below SAVERS_IN_ORDER_FROM days a period's quotes are counted per saver by time; from it,
    on SQLite, in saver order (migration 0033). Either way a quote counts from the period's
    first second, and one saved a second before it does not."""
    db, recorder, now = await recorder_at(db)
    quotes = Quotes(db)
    now["t"] = asked_at = 200 * DAY + 3600
    short, long = (counted_since(asked_at, d) for d in (SAVERS_IN_ORDER_FROM - 1, 90))
    at_the_boundary = counted_since(asked_at, SAVERS_IN_ORDER_FROM)
    for saver, saved_at in (
        (40, long - 1),  # before every period
        (41, at_the_boundary),
        (42, short),  # in every period
        (43, short - 1),
        (43, short),
    ):
        await save_quote(quotes, saver, saved_at)
    stats = Stats(db, recorder)
    by_time = await stats.server(GUILD, short)
    assert (by_time.members, by_time.top_members) == (2, [(42, 1), (43, 1)])
    for since in (at_the_boundary, long):
        in_saver_order = await stats.server(GUILD, since)
        assert in_saver_order.members == 3, since
        assert in_saver_order.top_members == [(43, 2), (41, 1), (42, 1)], since
    await recorder.close()


async def test_quote_top_passes_over_removed_quotes_page_after_page(db):
    db, recorder, now = await recorder_at(db)
    since = 100 * DAY
    quotes = Quotes(db)
    saved = []
    for number in range(1, 8):  # quote n gets 8 − n reactions on its card
        quote = await save_quote(quotes, 7, since, f"Line {number}.")
        saved.append(quote)
        await recorder.track(Tracked(100 + number, GUILD, 5, "quote", quote_id=quote.id), since)
        for user in range(8 - number):
            now["t"] = since + DAY
            recorder.add(100 + number, 40 + user, "🔥")
    await recorder.flush()
    for quote in saved[:3]:  # the three most reacted are removed
        assert await quotes.remove(quote.id, GUILD)

    def ranked(count, offset):
        return recorder.leading_quotes(GUILD, since, count, offset)

    top = await quotes.top(GUILD, ranked, limit=2)  # read 4 at a time: a page is not enough
    assert [(quote.number, n) for quote, n in top] == [(4, 4), (5, 3)]
    every = await quotes.top(GUILD, ranked, limit=10)
    assert [(quote.number, n) for quote, n in every] == [(4, 4), (5, 3), (6, 2), (7, 1)]
    await recorder.close()


async def test_the_sections_ranking_names_five_and_the_total_counts_every_post(db):
    db, recorder, now = await recorder_at(db)
    since = 100 * DAY
    # Sections 1…7 on posts 201…207 get 3, 5, 5, 2, 6, 1, 4 reactions; a prompt showing no
    # section gets 9 and another server's section 20; only the five sections are named, but
    # the server's total counts all of its posts.
    counts = {1: 3, 2: 5, 3: 5, 4: 2, 5: 6, 6: 1, 7: 4}
    for section in counts:
        await recorder.track(Tracked(200 + section, GUILD, 5, "section", section_id=section), 0)
    await recorder.track(Tracked(300, GUILD, 5, "prompt"), 0)
    await recorder.track(Tracked(301, OTHER_GUILD, 6, "section", section_id=1), 0)
    now["t"] = since + DAY
    for message, n in [*((200 + s, n) for s, n in counts.items()), (300, 9), (301, 20)]:
        for user in range(n):
            recorder.add(message, 50 + user, "🎬")
    await recorder.flush()
    period = await recorder.period(GUILD, since)
    leaders = await recorder.leading(GUILD, since, "section", 5, period=period)
    assert leaders == [(5, 6), (2, 5), (3, 5), (7, 4), (1, 3)]
    # the total from the members' counts, which the same reactions keep
    server = await Stats(db, recorder).server(GUILD, since)
    assert server.reactions == sum(counts.values()) + 9
    later = since + 5 * DAY
    assert await recorder.leading(GUILD, later, "section", 5) == []
    assert (await Stats(db, recorder).server(GUILD, later)).reactions == 0
    await recorder.close()


async def test_a_members_sections_of_the_year_read_in_parts_are_those_one_query_counts(db):
    """Posts of sections with ids far apart, each section's posts in every range of post ids the
    parts split them into, another server's posts of the same sections, reactions before, in
    and after the year: each member's count per section, read in a part for each reader, as one
    query over every post gives it."""
    rng = random.Random(11)
    span = Span(2026, "2026-01-01", "2027-01-01", 1000 * DAY, 1365 * DAY)
    sections = [3, 4, 5, 17, 40, 41, 98, 99]
    async with db.transaction() as tx:
        for message in range(1, 121):
            await tx.execute(
                "INSERT INTO tracked_messages (message_id, guild_id, channel_id, kind, "
                "section_id, created_at) VALUES (?, ?, 5, 'section', ?, 0)",
                (message, GUILD if message % 5 else OTHER_GUILD, sections[message % 8]),
            )
        await tx.execute(
            "INSERT INTO tracked_messages (message_id, guild_id, channel_id, kind, created_at) "
            "VALUES (121, ?, 5, 'prompt', 0)",
            (GUILD,),
        )
        for message in range(1, 122):
            for user in rng.sample(range(1, 9), 5):
                at = rng.choice((999 * DAY, 1000 * DAY, 1200 * DAY, 1365 * DAY - 1, 1365 * DAY))
                await tx.execute(
                    "INSERT INTO reactions (message_id, user_id, emoji, created_at) "
                    "VALUES (?, ?, '🎬', ?)",
                    (message, user, at),
                )
    years = Years(db, ReactionRecorder(db, clock=lambda: 0.0))
    counted, seen = 0, set()
    for user in range(1, 9):
        expected = await db.fetchall(
            "SELECT t.section_id, count(*) FROM tracked_messages t "
            "JOIN reactions r ON r.message_id = t.message_id "
            "WHERE t.guild_id = ? AND t.section_id IS NOT NULL "
            "AND r.created_at >= ? AND r.created_at < ? AND r.user_id = ? "
            "GROUP BY t.section_id",
            (GUILD, span.start, span.end, user),
        )
        read = await years._member_sections(GUILD, span, user)
        assert sorted(map(tuple, read)) == sorted(map(tuple, expected)), user
        seen.update(row[0] for row in read)
        counted += sum(row[1] for row in read)
    assert seen == set(sections) and counted > 200  # the range's two ends among them
