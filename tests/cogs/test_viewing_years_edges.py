"""Each member's and each film's viewings of each year (migration 0030) at the edges the other
tests leave out, against a full recount after each step, on both backends: two films folded
into one by `Diary.key_films` while the folded film's viewings span years (one undated), a
film-of-the-week rating given again on New Year's Day after New Year's Eve, and an undated
Letterboxd entry given its day with `/diary edit`. The club's `/stats year` reads these counts:
each test also reads the year as a member sees it."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.diary.service import Diary
from tests.cogs.test_diary import advance_to, realistic_export
from tests.cogs.test_films import end_week, start_week
from tests.cogs.test_latest_ratings import kept_and_recounted, years_match
from tests.cogs.test_year import fields
from tests.helpers import missing


async def check(db) -> None:
    await years_match(db)
    latest, recounted_latest = await kept_and_recounted(db)
    assert latest == recounted_latest


async def film_years(db, title_key: str) -> dict[int, int]:
    rows = await db.fetchall(
        "SELECT y.year, y.viewings FROM film_years y JOIN films f ON f.id = y.film_id "
        "WHERE f.title_key = ?",
        (title_key,),
    )
    return {int(r[0]): int(r[1]) for r in rows}


async def member_years(db, user_id: int) -> dict[int, int]:
    rows = await db.fetchall(
        "SELECT year, viewings FROM member_years WHERE user_id = ?", (user_id,)
    )
    return {int(r[0]): int(r[1]) for r in rows}


async def clubs_year(club, year: int) -> str:
    """What `/stats year` says the club logged in `year` (read from the kept counts); for a year
    with nothing in it, the reply's description."""
    r = await club.bob.slash(club.general, "stats year", year=year)
    return fields(r.response).get("Logged", r.response.embeds[0].description)


async def test_two_films_folded_into_one_carry_their_viewings_of_each_year(club):
    """A film an older release made (no folded key) whose title folds to a film of the diaries
    becomes that film: its viewings of 2024 (a year the other has none), 2025 and 2026 and its
    undated one move with it; each member's years stay as they were."""
    env, db = club.env, club.env.bot.db
    alice, bob, guild = club.alice, club.bob, club.guild
    await advance_to(env, datetime(2026, 3, 1, 12, tzinfo=UTC))
    await alice.slash(
        club.general, "diary log", film="Heat (1995)", rating=4, watched_on="2025-05-01"
    )
    await bob.slash(
        club.general, "diary log", film="Heat (1995)", rating=3, watched_on="2026-02-01"
    )
    await check(db)

    # As an older release left them: the twin, and its viewings (no command makes either).
    async with db.transaction() as tx:
        twin = await tx.fetchval(
            "INSERT INTO films (title, title_key, year) VALUES ('Héat', NULL, 1995) RETURNING id"
        )
        for member, day, rating in (
            (alice, "2024-12-31", 8),
            (alice, "2025-07-01", 6),
            (bob, "2026-01-15", None),
            (bob, None, 10),  # undated: in no year, before or after
        ):
            await tx.execute(
                "INSERT INTO viewings (guild_id, user_id, number, film_id, watched_on, rating, "
                "logged_at) VALUES (?, ?, (SELECT coalesce(max(number), 0) + 1 FROM viewings "
                "WHERE guild_id = ? AND user_id = ?), ?, ?, ?, 0)",
                (guild.id, member.id, guild.id, member.id, twin, day, rating),
            )
    await check(db)
    assert await film_years(db, "heat") == {2025: 1, 2026: 1}
    members_before = {m.id: await member_years(db, m.id) for m in (alice, bob)}
    assert members_before == {alice.id: {2024: 1, 2025: 2}, bob.id: {2026: 2}}
    assert await clubs_year(club, 2025) == "2 films by 1 member"  # Heat and Héat, two films

    assert await Diary(db).key_films() == 1
    await check(db)
    assert await db.fetchval("SELECT count(*) FROM films WHERE id = ?", (twin,)) == 0
    assert await db.fetchval("SELECT count(*) FROM film_years WHERE film_id = ?", (twin,)) == 0
    assert await film_years(db, "heat") == {2024: 1, 2025: 2, 2026: 2}
    assert {m.id: await member_years(db, m.id) for m in (alice, bob)} == members_before
    assert await clubs_year(club, 2025) == "1 film (2 viewings) by 1 member"
    assert await clubs_year(club, 2024) == "1 film by 1 member"
    assert await clubs_year(club, 2026) == "1 film (2 viewings) by 1 member"

    # bob's undated viewing, now of Heat, given its day: counted in that year, of Heat.
    shown = await bob.slash(club.general, "diary show")
    assert "**3.** no date · **Heat (1995)** · ★★★★★" in shown.response.embeds[0].description
    await bob.slash(club.general, "diary edit", number=3, watched_on="2024-03-03")
    await check(db)
    assert await film_years(db, "heat") == {2024: 2, 2025: 2, 2026: 2}
    assert await clubs_year(club, 2024) == "1 film (2 viewings) by 2 members"


async def test_a_weeks_rating_given_again_on_new_years_day_moves_to_the_new_year(club):
    """Rated on 31 December, rated again on 1 January: the one viewing of the week (an upsert
    that changes its day) leaves 2026 for 2027, for its member and its film; the other member's
    rating stays in 2026."""
    env, db = club.env, club.env.bot.db
    alice, bob = club.alice, club.bob
    await advance_to(env, datetime(2026, 12, 29, 12, tzinfo=UTC))
    await start_week(club, title="Vertigo", year=1958)

    await advance_to(env, datetime(2026, 12, 31, 20, tzinfo=UTC))
    await alice.slash(club.general, "film rate", stars=4)
    await bob.slash(club.general, "film rate", stars=3)
    await check(db)
    assert await film_years(db, "vertigo") == {2026: 2}
    assert await member_years(db, alice.id) == {2026: 1}
    await alice.slash(club.general, "film rate", stars=3.5)  # the same day: no year moves
    await check(db)
    assert await film_years(db, "vertigo") == {2026: 2}

    await advance_to(env, datetime(2027, 1, 1, 9, tzinfo=UTC))
    await alice.slash(club.general, "film rate", stars=4.5, take="Better the second time.")
    await check(db)
    day = await db.fetchval(
        "SELECT watched_on FROM viewings WHERE user_id = ? AND week_id IS NOT NULL", (alice.id,)
    )
    assert day == "2027-01-01"  # the same viewing, its day moved
    assert await db.fetchval("SELECT count(*) FROM viewings WHERE user_id = ?", (alice.id,)) == 1
    assert await film_years(db, "vertigo") == {2026: 1, 2027: 1}
    assert await member_years(db, alice.id) == {2027: 1}  # her 2026 row gone, not left at 0
    assert await member_years(db, bob.id) == {2026: 1}

    await end_week(club)
    await check(db)
    assert await clubs_year(club, 2026) == "1 film by 1 member"
    assert await clubs_year(club, 2027) == "1 film by 1 member"
    r = await alice.slash(club.general, "stats year", year=2027)  # the club's, in alice's words
    assert fields(r.response)["Most films logged"] == f"<@{alice.id}>, 1 viewing"


async def test_an_undated_import_given_a_day_counts_in_that_years_figures(club):
    """Letterboxd's ratings and watched films come with no day: counted in no year until the
    member gives them one with `/diary edit`, then in that year's figures of `/stats year`, the
    club's (from the kept counts) and the member's (from the viewings) alike; importing the same
    export again counts nothing twice."""
    env, db = club.env, club.env.bot.db
    alice = club.alice
    await advance_to(env, datetime(2026, 3, 1, 12, tzinfo=UTC))
    await club.bob.slash(
        club.general, "diary log", film="Alien (1979)", rating=4, watched_on="2025-06-01"
    )
    export = ("letterboxd.zip", realistic_export())
    r = await alice.slash(club.general, "diary import", file=export)
    assert "2 films rated or watched with no date" in r.response.content
    await check(db)
    shown = await alice.slash(club.general, "diary show")
    text = shown.response.embeds[0].description
    assert "**3.** no date · **Alien (1979)** · ★★★★★" in text
    assert "**4.** no date · **Jaws (1975)**" in text
    assert await member_years(db, alice.id) == {2025: 2}  # Heat and Rope, dated
    # Heat, Rope (alice) and Alien (bob)
    assert await clubs_year(club, 2025) == "3 films by 2 members"
    assert not missing(await clubs_year(club, 2023), "nothing", "2023")

    await alice.slash(club.general, "diary edit", number=3, watched_on="2025-06-01")
    await check(db)
    assert await film_years(db, "alien") == {2025: 2}
    assert await member_years(db, alice.id) == {2025: 3}
    assert await clubs_year(club, 2025) == "3 films (4 viewings) by 2 members"
    mine = await alice.slash(club.general, "stats year", member=alice, year=2025)
    assert fields(mine.response)["Logged"] == "3 films"

    await alice.slash(club.general, "diary edit", number=4, watched_on="2023-08-15")  # Jaws
    await check(db)
    assert await film_years(db, "jaws") == {2023: 1}
    assert await clubs_year(club, 2023) == "1 film by 1 member"

    again = await alice.slash(club.general, "diary import", file=export)
    assert "0 diary entries, 0 films rated or watched with no date" in again.response.content
    await check(db)
    assert await member_years(db, alice.id) == {2023: 1, 2025: 3}
