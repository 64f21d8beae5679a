"""Ratings given before diaries existed (whole stars 1 to 5) become their week's diary entry with
the same value in half stars, and each member's latest rating of each film, on both backends."""

from __future__ import annotations

from bot.db import migrations_in
from bot.diary.service import Diary

DAY = 1_767_225_600 + 86400 * 30  # 2026-01-31T00:00Z


async def test_old_ratings_keep_their_stars_as_half_stars_in_one_entry_each(backend, opener):
    db = await opener([m for m in migrations_in(backend) if m[0] <= 16])
    async with db.transaction() as tx:
        for week_id, title in ((1, "Heat"), (2, "Héat"), (3, "Rope")):
            await tx.execute(
                "INSERT INTO weeks (id, guild_id, title, year, channel_id, started_at, ends_at, "
                "ended_at) VALUES (?, 7, ?, 1995, 9, ?, ?, ?)",
                (week_id, title, DAY, DAY + 7 * 86400, DAY + 7 * 86400),
            )
        await tx.executemany(
            "INSERT INTO ratings (week_id, user_id, stars, take, rated_at) VALUES (?, ?, ?, ?, ?)",
            [
                (1, 100, 4, "Tense.", DAY + 3600),
                (2, 100, 1, None, DAY + 90000),
                (3, 200, 5, None, DAY),
            ],
        )
    await db.close()
    db = await opener()
    try:
        diary = Diary(db)
        assert await diary.key_films() == 3
        rows = await db.fetchall(
            "SELECT v.user_id, v.number, f.title, f.title_key, v.rating, v.review, v.watched_on, "
            "v.week_id FROM viewings v JOIN films f ON f.id = v.film_id ORDER BY v.user_id, v.number"
        )
        assert [tuple(r) for r in rows] == [
            (100, 1, "Heat", "heat", 8, "Tense.", "2026-01-31", 1),
            # "Héat" folds to the same film as "Heat": one film, not two
            (100, 2, "Heat", "heat", 2, None, "2026-02-01", 2),
            (200, 1, "Rope", "rope", 10, None, "2026-01-31", 3),
        ]
        assert await db.fetchval("SELECT count(*) FROM films") == 2
        assert await diary.key_films() == 0
        # Made by migration 0020 from the ratings, then followed the two films merged into one:
        # the later day's rating of Heat counts.
        latest = await db.fetchall(
            "SELECT l.user_id, f.title, l.rating FROM latest_ratings l "
            "JOIN films f ON f.id = l.film_id ORDER BY l.user_id"
        )
        assert [tuple(r) for r in latest] == [(100, "Heat", 2), (200, "Rope", 10)]
        sums = await db.fetchall(
            "SELECT f.title, r.raters, r.total, r.squares FROM film_ratings r "
            "JOIN films f ON f.id = r.film_id ORDER BY f.title"
        )
        assert [tuple(r) for r in sums] == [("Heat", 1, 2, 4), ("Rope", 1, 10, 100)]
    finally:
        await db.close()


async def test_the_films_kept_before_0028_get_the_differences_of_their_pairs(backend, opener):
    """Migrations 0028 and 0030 count each film's differences from the ratings already kept,
    and the viewings of each year."""
    db = await opener([m for m in migrations_in(backend) if m[0] <= 27])
    given = {1: [10, 2, 7, 7], 2: [4], 3: [1, 9]}  # film: its raters' ratings, in half stars
    async with db.transaction() as tx:
        for film_id in given:
            await tx.execute(
                "INSERT INTO films (id, title, title_key, year) VALUES (?, ?, ?, 2000)",
                (film_id, f"Film {film_id}", f"film {film_id}"),
            )
        await tx.executemany(
            "INSERT INTO viewings (guild_id, user_id, number, film_id, watched_on, rating, "
            "logged_at) VALUES (7, ?, ?, ?, '2026-01-31', ?, ?)",
            [
                (100 + member, film_id, film_id, rating, DAY)
                for film_id, ratings in given.items()
                for member, rating in enumerate(ratings)
            ],
        )
    await db.close()
    db = await opener()
    try:
        rows = await db.fetchall("SELECT film_id, differences FROM film_ratings ORDER BY film_id")
        # film 1: |10−2| + |10−7| · 2 + |2−7| · 2 + |7−7| = 8 + 6 + 10 = 24
        assert [tuple(r) for r in rows] == [(1, 24), (2, 0), (3, 8)]
        # and migration 0030 counts the viewings of 2026 per film and per member
        films = await db.fetchall("SELECT film_id, viewings FROM film_years WHERE year = 2026")
        assert sorted(tuple(r) for r in films) == [(1, 4), (2, 1), (3, 2)]
        members = await db.fetchall("SELECT user_id, viewings FROM member_years ORDER BY 1")
        assert [tuple(r) for r in members] == [(100, 3), (101, 2), (102, 1), (103, 1)]
    finally:
        await db.close()
