"""/stats year through simcord: a member's year and the club's, as text and as a card; privacy;
an empty year; the year of the server's time zone."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime

from PIL import Image, ImageDraw

from bot.stats.chart import SCALE, write
from bot.stats.year_card import MARGIN, TITLE_SIZE
from tests.cogs.test_diary import advance_to
from tests.cogs.test_films import end_week, start_week
from tests.cogs.test_taste import rate
from tests.conftest import SERA, film_club
from tests.helpers import missing, reaction_burst, refusal

TASTE = {
    "Vertigo (1958)": 4,
    "Cats (2019)": 1,
    "Ran (1985)": 3,
    "Jaws (1975)": 2,
    "Alien (1979)": 5,
}


def fields(response) -> dict[str, str]:
    return {f.name: f.value for f in response.embeds[0].fields}


async def week(club, title: str, year: int, ratings: list[tuple[object, float, str | None]]):
    thread = await start_week(club, title=title, year=year)
    for member, stars, take in ratings:
        options = {"take": take} if take else {}
        await member.slash(club.general, "film rate", stars=stars, **options)
    return thread


async def a_year_in_the_club(club):
    """alice's 2026: two weeks (Heat five stars with a take two members liked, Thief), a rewatch,
    five films rated like bob and carol, a quote from the essay's first section, two reactions to
    its second; carol keeps her diary private and logged the most."""
    env = club.env
    await advance_to(env, datetime(2026, 3, 1, 12, tzinfo=UTC))
    carol = club.guild.add_member(env.create_user("carol"))
    await rate(club, club.alice, {"Psycho (1960)": 4}, day="2025-12-30")  # the year before
    await rate(club, club.alice, TASTE, day="2026-02-01")
    await rate(club, club.bob, {**TASTE, "Cats (2019)": 3}, day="2026-02-01")
    await rate(club, carol, TASTE, day="2026-02-01")  # alice's twin, but private
    await rate(club, carol, {f"Film {i}": 3 for i in range(6)}, day="2026-02-02")
    await carol.slash(club.general, "diary privacy", private=True)
    for day in ("2026-02-10", "2026-02-20"):
        await club.alice.slash(club.general, "diary log", film="Rope (1948)", watched_on=day)

    thread = await week(
        club, "Heat", 1995, [(club.alice, 5, "Pacino at full volume."), (club.bob, 3, "Long.")]
    )
    takes = [
        m for m in thread.history() if m.embeds and "'s take on" in (m.embeds[0].author.name or "")
    ]
    alice_take = next(m for m in takes if m.embeds[0].author.name.startswith("alice"))
    bob_take = next(m for m in takes if m.embeds[0].author.name.startswith("bob"))
    await club.bob.react(alice_take, "👍")
    await club.mia.react(alice_take, "👍")
    await club.alice.react(bob_take, "👍")
    await end_week(club)
    await week(club, "Thief", 1981, [(club.alice, 3, None), (club.bob, 4, None)])
    await end_week(club)

    await club.alice.slash(
        club.general,
        "quote add",
        text="a film that lives somewhere between beauty and despair",
        essay=SERA,
        section="1",
    )
    shown = await club.bob.slash(club.general, "quote show", number=1)
    await club.bob.react(shown.response.message, "🔥")
    await club.mia.react(shown.response.message, "🔥")
    read = await club.bob.slash(club.general, "essay read", essay=SERA, section="2")
    await club.alice.react(read.response.message, "🎬")
    await club.alice.react(read.response.message, "🔥")
    return carol, alice_take


async def test_a_members_year_as_text_and_card(club):
    carol, alice_take = await a_year_in_the_club(club)
    r = await club.bob.slash(club.general, "stats year", member=club.alice)
    assert not r.response.ephemeral
    assert "alice" in r.response.embeds[0].title and "2026" in r.response.embeds[0].title
    facts = fields(r.response)
    # 5 rated in February, Rope twice, Heat and Thief: 8 films in 9 viewings (Psycho was 2025)
    assert not missing(facts["Logged"], "8 films", "9 viewings")
    assert not missing(facts["Film of the week rated highest"], "Heat (1995)", "5.0/5")
    # carol rated the five films exactly as alice did, but keeps her diary private
    assert not missing(facts["Closest taste"], f"<@{club.bob.id}>", "7 films")
    assert f"<@{carol.id}>" not in str(r.response.embeds[0].to_dict())
    assert not missing(facts["Most-reacted take"], "Heat (1995)", "2 reactions", str(alice_take.id))
    assert not missing(
        facts["Most-reacted quote"],
        "#1",
        "a film that lives somewhere between beauty and despair",
        "2 reactions",
    )
    section = facts["Section that moved them most"]
    assert not missing(section, "2 reactions")
    assert "The Introduction" in section, (
        "the second section, reacted to twice, not the quoted first"
    )

    assert r.response.embeds[0].image.url == "attachment://year.png"
    attachment = r.response.attachments[0]
    card = await attachment.read()
    assert card.startswith(b"\x89PNG") and attachment.filename == "year.png"
    width, height = Image.open(io.BytesIO(card)).size
    assert width == 800 and 300 < height < 1000  # 400 px shown, drawn at twice the pixels


async def test_the_clubs_year_counts_private_members_without_naming_them(club):
    carol, _ = await a_year_in_the_club(club)
    r = await club.alice.slash(club.general, "stats year")
    facts = fields(r.response)
    # alice 9, bob 6 (5 in February, Heat, Thief: 7), carol 11: 27 viewings by 3 members
    assert not missing(facts["Logged"], "27 viewings", "3 members")
    assert not missing(facts["Film of the week rated highest"], "Heat (1995)", "4.0/5", "2 ratings")
    assert not missing(
        facts["Most-reacted take"], "Heat (1995)", f"<@{club.alice.id}>", "2 reactions"
    )
    # carol logged the most films, but keeps her diary private
    assert facts["Most films logged"].startswith(f"<@{club.alice.id}>")
    assert f"<@{carol.id}>" not in str(r.response.embeds[0].to_dict())
    assert "Closest taste" not in facts
    # the quote's card shows the first section too: its 2 reactions and the quote outrank the
    # second section's 2 reactions (the club's count comes from the daily counts)
    assert not missing(facts["Section that moved the club most"], "2 reactions, 1 quote", "Opening")


async def test_a_private_diarys_year_is_its_owners_alone_and_an_empty_year_says_so(club):
    carol, _ = await a_year_in_the_club(club)
    theirs = await club.bob.slash(club.general, "stats year", member=carol)
    assert not missing(refusal(club.env, theirs), f"<@{carol.id}>", "private")
    mine = await carol.slash(club.general, "stats year", member=carol)
    assert mine.response.ephemeral, "her own year, shown to her alone"
    assert not missing(fields(mine.response)["Logged"], "11 films")

    empty = await club.bob.slash(club.general, "stats year", member=club.bob, year=2020)
    embed = empty.response.embeds[0]
    assert not missing(embed.description, "nothing", "2020", "/diary log")
    assert not embed.fields and not empty.response.attachments


async def test_the_default_year_is_the_servers(club):
    env = club.env
    await club.mia.slash(club.general, "film settings", timezone="America/New_York")
    # 22:30 on New Year's Eve in New York: UTC is already in 2027
    await advance_to(env, datetime(2027, 1, 1, 3, 30, tzinfo=UTC))
    await club.alice.slash(club.general, "diary log", film="Heat (1995)", rating=4)
    r = await club.alice.slash(club.general, "stats year", member=club.alice)
    assert "2026" in r.response.embeds[0].title
    assert not missing(fields(r.response)["Logged"], "1 film")


async def test_a_members_section_counts_every_post_once_whichever_part_reads_it(club):
    """SQLite reads a member's reactions to the posts showing a section in ranges of post ids,
    one for each of its readers (five posts: the third opens the second range). The post at
    each range's edge is counted, and once."""
    await advance_to(club.env, datetime(2026, 5, 4, 12, tzinfo=UTC))
    essay = club.env.bot.library.resolve_essay(club.guild.id, SERA)
    posts = []
    for n in range(1, 6):
        r = await club.bob.slash(club.general, "essay read", essay=SERA, section=str(n))
        posts.append(r.response.message)
    emojis = ["🎬", "🔥", "❤️", "👍", "🍿"]

    async def moved_most() -> str:
        r = await club.bob.slash(club.general, "stats year", member=club.alice)
        return fields(r.response)["Section that moved them most"]

    for post in posts:  # another member's reactions are not alice's
        for emoji in emojis:
            await club.mia.react(post, emoji)
    for post in (posts[1], posts[3]):
        await club.alice.react(post, "🎬")
    for index, times in ((2, 3), (0, 4), (4, 5)):  # the second range's first post, then the edges
        for emoji in emojis[:times]:
            await club.alice.react(posts[index], emoji)
        section = await moved_most()
        assert not missing(section, f"{times} reactions", essay.sections[index].heading)


async def test_the_clubs_quote_of_the_year_is_found_past_the_most_reacted_quotes(club, monkeypatch):
    """The club's quote of the year is looked for among its most-reacted quotes first (two
    here); when those were saved in other years, every quote is ranked."""
    monkeypatch.setattr("bot.stats.year.CANDIDATES", 2)
    env = club.env
    members = [club.guild.add_member(env.create_user(f"m{i}")) for i in range(5)]
    await advance_to(env, datetime(2026, 12, 20, 12, tzinfo=UTC))
    for words in ("the motel pool at dawn", "a kiss that costs nothing"):
        await club.alice.slash(club.general, "quote add", text=words)
    await advance_to(env, datetime(2027, 2, 2, 12, tzinfo=UTC))
    for words in ("she never asks him to stop", "Las Vegas as a waiting room"):
        await club.bob.slash(club.general, "quote add", text=words)

    async def quote_of_the_year() -> str:
        r = await club.mia.slash(club.general, "stats year", year=2027)
        return fields(r.response)["Most-reacted quote"]

    # 2027's reactions: 5 and 4 to last year's quotes, 3 and 1 to this year's.
    for number, count in ((1, 5), (2, 4), (3, 1), (4, 3)):
        card = await club.mia.slash(club.general, "quote show", number=number)
        events = [(member.id, "🔥", True) for member in members[:count]]
        await reaction_burst(env, card.response.message, events)
    assert await quote_of_the_year() == "3 reactions · #4 “Las Vegas as a waiting room”"
    # One of this year's quotes the most reacted of all (6 against 5): found among the two.
    card = await club.mia.slash(club.general, "quote show", number=3)
    events = [(member.id, "👍", True) for member in members]
    await reaction_burst(env, card.response.message, events)
    assert await quote_of_the_year() == "6 reactions · #3 “she never asks him to stop”"


async def test_the_clubs_section_of_the_year_counts_quotes_past_the_most_reacted_sections(
    club, monkeypatch
):
    """The club's section of the year is looked for among its most-reacted sections first (two
    here); a section past them whose quotes could outweigh them is found by ranking them all."""
    monkeypatch.setattr("bot.stats.year.CANDIDATES", 2)
    env = club.env
    members = [club.guild.add_member(env.create_user(f"m{i}")) for i in range(4)]
    essay = env.bot.library.resolve_essay(club.guild.id, SERA)
    posts = []
    for n in (1, 2, 3):
        r = await club.bob.slash(club.general, "essay read", essay=SERA, section=str(n))
        posts.append(r.response.message)
    for post, count in zip(posts, (4, 3, 1), strict=True):
        events = [(member.id, "🔥", True) for member in members[:count]]
        await reaction_burst(env, post, events)

    async def section_of_the_year() -> str:
        r = await club.mia.slash(club.general, "stats year")
        return fields(r.response)["Section that moved the club most"]

    first = essay.sections[0].heading
    assert not missing(await section_of_the_year(), first, "4 reactions")
    shown = await env.bot.library.section_text(essay, essay.sections[2].id)
    words = shown.body.split()
    for start in (0, 8, 16, 24):  # four quotes from the third section: 1 reaction and 4 quotes
        text = " ".join(words[start : start + 6])
        await club.alice.slash(club.general, "quote add", text=text, essay=SERA, section="3")
    third = essay.sections[2].heading
    assert not missing(await section_of_the_year(), third, "1 reaction, 4 quotes")


async def test_the_clubs_section_of_the_year_ties_with_one_past_the_most_reacted(club, monkeypatch):
    """Two candidates: the third section's 4 reactions and the first's 3. The second section's 3
    reactions and 1 quote tie the third's 4 and come first by id: a candidate is only taken
    when it has more than any section left out could."""
    monkeypatch.setattr("bot.stats.year.CANDIDATES", 2)
    env = club.env
    members = [club.guild.add_member(env.create_user(f"m{i}")) for i in range(4)]
    essay = env.bot.library.resolve_essay(club.guild.id, SERA)
    assert [s.id for s in essay.sections[:3]] == sorted(s.id for s in essay.sections[:3])
    for n, count in ((1, 3), (2, 3), (3, 4)):
        r = await club.bob.slash(club.general, "essay read", essay=SERA, section=str(n))
        events = [(member.id, "🔥", True) for member in members[:count]]
        await reaction_burst(env, r.response.message, events)
    shown = await env.bot.library.section_text(essay, essay.sections[1].id)
    text = " ".join(shown.body.split()[:6])
    await club.alice.slash(club.general, "quote add", text=text, essay=SERA, section="2")
    r = await club.mia.slash(club.general, "stats year")
    section = fields(r.response)["Section that moved the club most"]
    assert not missing(section, essay.sections[1].heading, "3 reactions, 1 quote")


async def test_a_members_closest_taste_is_read_on_past_the_members_who_left(club, monkeypatch):
    # A page of the year's ranking is two members here (a hundred in the bot): the two closest
    # to alice have left, so the card's closest taste is the first of the ranking's second page.
    monkeypatch.setattr(sys.modules["bot.stats.year"], "CLOSEST_PAGE", 2)
    monkeypatch.setattr(sys.modules["cogs.stats"], "CLOSEST_PAGE", 2)  # as the bot loaded it
    monkeypatch.setattr(sys.modules["cogs._common"], "ASK_AT_ONCE", 2)
    env = club.env
    await advance_to(env, datetime(2026, 3, 1, 12, tzinfo=UTC))
    await rate(club, club.alice, dict.fromkeys(TASTE, 3))
    raters = {}
    for name, stars in (("gone1", 3), ("gone2", 3), ("dave", 3.5), ("erin", 5)):
        raters[name] = club.guild.add_member(env.create_user(name))
        await rate(club, raters[name], dict.fromkeys(TASTE, stars))
    for name in ("gone1", "gone2"):
        club.guild.remove_member(raters[name])
    await env.settle()
    r = await club.bob.slash(club.general, "stats year", member=club.alice)
    closest = fields(r.response)["Closest taste"]
    assert not missing(closest, f"<@{raters['dave'].id}>", "5 films")


async def test_the_cards_title_leaves_out_the_emoji_of_a_servers_name(simcord_env):
    """Discord shows the emoji of a name; the card's font has none, and would draw a box."""
    club = film_club(simcord_env, name="🎬 Film Club")
    await a_year_in_the_club(club)
    r = await club.bob.slash(club.general, "stats year")
    assert r.response.embeds[0].title == "🎬 Film Club's 2026 in film"  # the text keeps it
    card = Image.open(io.BytesIO(await r.response.attachments[0].read()))
    # The card's title line, as the card writes "Film Club's 2026 in film" beside its bar.
    expected = Image.new("P", card.size, 0)
    ImageDraw.Draw(expected).rectangle((0, 0, 4 * SCALE, card.height), fill=1)
    write(expected, (MARGIN * SCALE, 10 * SCALE), "Film Club's 2026 in film", TITLE_SIZE, 2)
    title_line = (0, 0, card.width, 33 * SCALE)
    assert card.crop(title_line).tobytes() == expected.crop(title_line).tobytes()
