"""The members' latest ratings, how many members gave each film each rating and each film's
sums (with its pairs' differences, 0028), and the viewings of each year per member and per film
(0030), kept by the database's triggers (migration 0020), against a full recount from every
viewing after each way a viewing changes: logged, edited, removed, imported, a week rated, its
film changed and ended, a member forgotten."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime

from bot.diary.taste import club_films, rater_leans
from tests.cogs.test_diary import advance_to, realistic_export
from tests.cogs.test_films import end_week, start_week

RECOUNT = (
    "SELECT guild_id, film_id, user_id, rating FROM (SELECT v.guild_id, v.film_id, v.user_id, "
    "v.rating, row_number() OVER (PARTITION BY v.guild_id, v.user_id, v.film_id "
    "ORDER BY v.watched_on IS NULL, v.watched_on DESC, v.number DESC) AS nth FROM viewings v "
    "LEFT JOIN weeks w ON w.id = v.week_id WHERE v.rating IS NOT NULL "
    "AND (v.week_id IS NULL OR w.ended_at IS NOT NULL)) latest WHERE nth = 1"
)


async def years_match(db) -> None:
    """Each member's and each film's viewings of each year (migration 0030) as kept, against the
    year of every dated viewing."""
    for table, column in (("member_years", "user_id"), ("film_years", "film_id")):
        years = {tuple(r) for r in await db.fetchall(f"SELECT * FROM {table}")}
        counted = await db.fetchall(
            f"SELECT guild_id, CAST(substr(watched_on, 1, 4) AS INTEGER) AS y, {column}, "
            f"count(*) FROM viewings WHERE watched_on IS NOT NULL GROUP BY 1, 2, 3"
        )
        assert years == {tuple(r) for r in counted}, table


async def kept_and_recounted(db) -> tuple[tuple, tuple]:
    kept = {tuple(r) for r in await db.fetchall("SELECT * FROM latest_ratings")}
    recounted = {tuple(r) for r in await db.fetchall(RECOUNT)}
    counts = {
        (r[0], r[1], r[2]): r[3]
        for r in await db.fetchall(
            "SELECT guild_id, film_id, rating, members FROM film_rating_counts"
        )
    }
    sums = {
        (r[0], r[1]): (r[2], r[3], r[4], r[5])
        for r in await db.fetchall(
            "SELECT guild_id, film_id, raters, total, squares, differences FROM film_ratings"
        )
    }
    expected: dict[tuple, int] = {}
    ratings: dict[tuple, list[int]] = {}
    for guild_id, film_id, _, rating in recounted:
        key = (guild_id, film_id, rating)
        expected[key] = expected.get(key, 0) + 1
        ratings.setdefault((guild_id, film_id), []).append(rating)
    expected_sums = {
        film: (
            len(rs),
            sum(rs),
            sum(r * r for r in rs),
            sum(abs(a - b) for a, b in itertools.combinations(rs, 2)),
        )
        for film, rs in ratings.items()
    }
    return (kept, counts, sums), (recounted, expected, expected_sums)


async def latest(db, user_id: int, title: str) -> int | None:
    return await db.fetchval(
        "SELECT l.rating FROM latest_ratings l JOIN films f ON f.id = l.film_id "
        "WHERE l.user_id = ? AND f.title = ?",
        (user_id, title),
    )


async def test_the_kept_latest_ratings_match_a_full_recount_after_every_kind_of_change(club):
    env, db = club.env, club.env.bot.db
    alice, bob = club.alice, club.bob
    await advance_to(env, datetime(2026, 3, 1, 12, tzinfo=UTC))

    async def check() -> None:
        kept, recounted = await kept_and_recounted(db)
        assert kept == recounted
        await years_match(db)

    await alice.slash(club.general, "diary log", film="Heat (1995)", rating=4, watched_on="today")
    await alice.slash(
        club.general, "diary log", film="Heat (1995)", rating=1, watched_on="2026-01-10"
    )
    assert await latest(db, alice.id, "Heat") == 8  # the later day counts, not the later entry
    await bob.slash(club.general, "diary log", film="Heat (1995)", rating=2.5)
    await bob.slash(club.general, "diary log", film="Rope (1948)", rating=5)
    await check()
    assert (
        await db.fetchval(
            "SELECT members FROM film_rating_counts c JOIN films f ON f.id = c.film_id "
            "WHERE f.title = 'Heat' AND c.rating = 8"
        )
        == 1
    )

    await alice.slash(club.general, "diary edit", number=1, rating=0.5)  # today's Heat
    assert await latest(db, alice.id, "Heat") == 1
    await alice.slash(club.general, "diary edit", number=2, watched_on="2025-12-31")
    await check()  # counted in the year before
    await alice.slash(club.general, "diary edit", number=2, watched_on="2026-03-01")
    await check()
    await alice.slash(club.general, "diary remove", number=1)
    assert await latest(db, alice.id, "Heat") == 2  # the other viewing, one star
    await bob.slash(club.general, "diary remove", number=2)
    assert await latest(db, bob.id, "Rope") is None
    await check()

    await bob.slash(club.general, "diary log", film="Ran (1985)", rating=2, watched_on="today")
    ran = "2026-02-01,Ran,1985,https://boxd.it/a9,4.5,,,2026-02-01\n"  # beside bob's rating
    await alice.slash(club.general, "diary import", file=("letterboxd.zip", realistic_export(ran)))
    assert await latest(db, alice.id, "Alien") == 10  # rated with no date
    assert await latest(db, alice.id, "Ran") == 9
    await check()

    await start_week(club, title="Vertigo", year=1958)
    await alice.slash(club.general, "film rate", stars=4.5)
    await bob.slash(club.general, "film rate", stars=3)
    assert await latest(db, alice.id, "Vertigo") is None  # hidden while the week runs
    await club.mia.slash(club.general, "film edit", title="Rear Window", year=1954)
    await check()
    await end_week(club)
    assert await latest(db, alice.id, "Rear Window") == 9
    assert await latest(db, bob.id, "Rear Window") == 6
    await check()

    asked = await bob.slash(club.general, "privacy forget-me")
    await bob.click(asked.response, label="Delete my data")
    assert (
        await db.fetchval("SELECT count(*) FROM latest_ratings WHERE user_id = ?", (bob.id,)) == 0
    )
    await check()
    assert await db.fetchval("SELECT sum(members) FROM film_rating_counts") == await db.fetchval(
        "SELECT count(*) FROM latest_ratings"
    )


async def test_a_new_rating_shows_in_stats_films_at_once(club):
    """The films shown and the raters' leans are kept between calls; a rating changes them at
    the next call."""
    env = club.env
    await advance_to(env, datetime(2026, 3, 1, 12, tzinfo=UTC))
    carol = club.guild.add_member(env.create_user("carol"))
    films = ("Heat (1995)", "Rope (1948)", "Ran (1985)")
    for member, stars in ((club.alice, 2), (club.bob, 4), (carol, 4)):
        for film in films:
            await member.slash(club.general, "diary log", film=film, rating=stars)
    first = await club.alice.slash(club.general, "stats films")
    fields = {f.name: f.value for f in first.response.embeds[0].fields}
    assert f"<@{club.alice.id}>" in fields["Harshest raters"]
    for film in films:  # alice changes her mind: now she is the generous one
        await club.alice.slash(club.general, "diary log", film=film, rating=5)
    again = await club.alice.slash(club.general, "stats films")
    fields = {f.name: f.value for f in again.response.embeds[0].fields}
    assert f"<@{club.alice.id}>" in fields["Most generous raters"]
    assert f"<@{club.alice.id}>" not in fields.get("Harshest raters", "")
    assert again.response.embeds[0].description.startswith("From 9 ratings")
    for member in (club.bob, carol):
        await member.slash(club.general, "diary log", film="Vertigo (1958)", rating=5)
    third = await club.alice.slash(club.general, "stats films")
    assert third.response.embeds[0].description.startswith("From 11 ratings")
    fields = {f.name: f.value for f in third.response.embeds[0].fields}
    assert fields["Best rated"].splitlines()[0].startswith("1. **Vertigo (1958)**")


async def test_the_clubs_films_ranked_from_the_sums_are_those_a_full_ranking_gives(db):
    """Many films, many ties (ratings drawn from few values): the lists read from each film's
    sums equal the lists ranked in Python from every latest rating."""
    rng = random.Random(5)
    guild = 77
    async with db.transaction() as tx:
        for n in range(60):
            await tx.execute(
                "INSERT INTO films (title, title_key, year) VALUES (?, ?, ?)",
                (f"Film {n:02}", f"film {n:02}", 2000),
            )
        first = await tx.fetchval("SELECT min(id) FROM films WHERE title_key = 'film 00'")
        number = 0
        for member in range(12):
            for film in rng.sample(range(60), 30):
                number += 1
                await tx.execute(
                    "INSERT INTO viewings (guild_id, user_id, number, film_id, watched_on, "
                    "rating, logged_at) VALUES (?, ?, ?, ?, '2026-01-01', ?, 0)",
                    (guild, 1000 + member, number, first + film, rng.choice((4, 6, 6, 8, 10))),
                )
    club = await club_films(db, guild)

    ratings: dict[int, list[int]] = {}
    for _, film_id, _, rating in await db.fetchall(RECOUNT):
        ratings.setdefault(film_id, []).append(rating)
    every = sum(len(r) for r in ratings.values())
    mean = sum(sum(r) for r in ratings.values()) / every
    title = {film_id: f"Film {film_id - first:02}" for film_id in ratings}

    def spread(r: list[int]) -> float:
        m = sum(r) / len(r)
        return max(0.0, sum(x * x for x in r) / len(r) - m * m) ** 0.5

    divisive = min(
        (f for f, r in ratings.items() if len(r) >= 3 and spread(r) > 0),
        key=lambda f: (-spread(ratings[f]), -len(ratings[f]), title[f].casefold()),
    )
    unanimous = sorted(
        (f for f, r in ratings.items() if len(r) >= 3 and min(r) == max(r)),
        key=lambda f: (-len(ratings[f]), -ratings[f][0], title[f].casefold()),
    )[:5]
    best = sorted(
        (f for f, r in ratings.items() if len(r) >= 2),
        key=lambda f: (
            -(sum(ratings[f]) + 3 * mean) / (len(ratings[f]) + 3),
            -len(ratings[f]),
            title[f].casefold(),
        ),
    )[:5]
    assert club.ratings == every
    assert club.divisive is not None and club.divisive.film.id == divisive
    assert (club.divisive.lowest, club.divisive.highest) == (
        min(ratings[divisive]),
        max(ratings[divisive]),
    )
    assert [f.film.id for f in club.unanimous] == unanimous
    assert [f.film.id for f in club.best] == best
    assert len(best) == 5


async def test_the_clubs_films_tied_past_the_lists_length_are_all_weighed_by_title(db):
    """Twelve films rated alike and twelve rated apart, each list tied well past the films it
    shows: the films shown are those first by title, whichever the database met first."""
    guild = 78
    async with db.transaction() as tx:
        ids = []
        for n in range(24):  # titles in the reverse of the films' order
            ids.append(
                await tx.fetchval(
                    "INSERT INTO films (title, title_key, year) VALUES (?, ?, ?) RETURNING id",
                    (f"Tied {23 - n:02}", f"tied {23 - n:02}", 2001),
                )
            )
        number = 0
        for member in range(4):
            for n, film in enumerate(ids):
                number += 1
                rating = 8 if n < 12 else (4, 10)[member % 2]
                await tx.execute(
                    "INSERT INTO viewings (guild_id, user_id, number, film_id, watched_on, "
                    "rating, logged_at) VALUES (?, ?, ?, ?, '2026-01-01', ?, 0)",
                    (guild, 2000 + member, number, film, rating),
                )
    club = await club_films(db, guild)

    assert club.divisive is not None and club.divisive.film.title == "Tied 00"
    shown = ["Tied 12", "Tied 13", "Tied 14", "Tied 15", "Tied 16"]
    assert [f.film.title for f in club.unanimous] == shown
    assert [f.film.title for f in club.best] == shown


async def test_the_raters_leans_counted_in_parts_are_every_raters_once(db):
    """The leans are counted in parts split among one film's raters: each rater's lean equals
    the one computed in Python from every latest rating, the raters at the parts' edges once."""
    rng = random.Random(8)
    guild = 79
    async with db.transaction() as tx:
        films = [
            await tx.fetchval(
                "INSERT INTO films (title, title_key, year) VALUES (?, ?, 2002) RETURNING id",
                (f"Lean {n:02}", f"lean {n:02}"),
            )
            for n in range(20)
        ]
        number = 0
        for member in range(15):
            # the first film rated by all: the parts are split among its raters
            for film in [films[0], *rng.sample(films[1:], rng.randint(1, 12))]:
                number += 1
                await tx.execute(
                    "INSERT INTO viewings (guild_id, user_id, number, film_id, watched_on, "
                    "rating, logged_at) VALUES (?, ?, ?, ?, '2026-01-01', ?, 0)",
                    (guild, 5000 + member * 7, number, film, rng.randint(1, 10)),
                )
    ratings: dict[int, dict[int, int]] = {}
    for _, film_id, user_id, rating in await db.fetchall(RECOUNT):
        ratings.setdefault(film_id, {})[user_id] = rating
    terms: dict[int, list[float]] = {}
    for by_member in ratings.values():
        n, s = len(by_member), sum(by_member.values())
        if n >= 3:
            for user_id, rating in by_member.items():
                terms.setdefault(user_id, []).append((n * rating - s) / (n - 1))
    expected = {u: (len(t), sum(t) / len(t)) for u, t in terms.items() if len(t) >= 3}

    leans = await rater_leans(db, guild)
    assert len(leans) == len({u for u, _, _ in leans}) == len(expected) >= 12
    for user_id, n, lean in leans:
        assert expected[user_id][0] == n
        assert abs(expected[user_id][1] - lean) < 1e-9
