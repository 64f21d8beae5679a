"""The members closest in taste, ranked from a server's ratings kept in memory (bot/diary/kept.py),
against the same ranking counted in Python from every latest rating, on both backends: after
ratings are logged, changed, removed, imported and forgotten, a film loses its last rater and a
member privacy, and in a second process that keeps the server's ratings apart."""

from __future__ import annotations

import asyncio
import itertools
import random

import asyncpg
import pytest

from bot.db import open_database
from bot.diary import kept
from bot.diary.letterboxd import read_export
from bot.diary.service import Diary
from bot.diary.taste import MIN_SHARED, Taste, agreement, shrunk
from bot.postgres import PostgresDatabase
from tests.cogs.test_diary import DIARY
from tests.conftest import MIGRATED

GUILD = 91
MEMBERS = [7000 + 13 * n for n in range(40)]
NUMBERS = itertools.count(1)


async def counted(db, viewer: int) -> list[tuple[int, int, float]]:
    """(member, films both rated, score) of every member the viewer can be matched with, best
    first: every two latest ratings paired in Python."""
    ratings: dict[int, dict[int, int]] = {}
    for film_id, user_id, rating in await db.fetchall(
        "SELECT film_id, user_id, rating FROM latest_ratings WHERE guild_id = ?", (GUILD,)
    ):
        ratings.setdefault(user_id, {})[film_id] = rating
    private = {
        row[0]
        for row in await db.fetchall(
            "SELECT user_id FROM diary_privacy WHERE guild_id = ?", (GUILD,)
        )
    }
    club = await Taste(db).club_agreement(GUILD)
    mine = ratings.get(viewer, {})
    ranked = []
    for member, theirs in ratings.items():
        both = set(mine) & set(theirs)
        if member == viewer or member in private or len(both) < MIN_SHARED:
            continue
        raw = agreement(sum(abs(mine[f] - theirs[f]) for f in both), len(both))
        ranked.append((member, len(both), shrunk(raw, len(both), raw if club is None else club)))
    return sorted(ranked, key=lambda m: (-m[2], -m[1], m[0]))


async def closest(db, viewer: int, limit: int | None = None, offset: int = 0):
    close, _ = await Taste(db).closest(GUILD, viewer, limit, offset)
    return [(c.member_id, c.films, c.score) for c in close]


async def assert_every_ranking_counted(db, viewers=MEMBERS) -> None:
    for viewer in viewers:
        assert await closest(db, viewer) == await counted(db, viewer), viewer


async def a_club(db, rng: random.Random) -> list[int]:
    """40 members, 60 films: the first 40 rated by most members (kept as columns), the others
    by one or two (kept as lists); the first member rates every popular film, more than a
    batch of lanes holds."""
    async with db.transaction() as tx:
        films = [
            await tx.fetchval(
                "INSERT INTO films (title, title_key, year) VALUES (?, ?, 2000) RETURNING id",
                (f"Kept {n:02}", f"kept {n:02}"),
            )
            for n in range(60)
        ]
        rows = []
        for place, member in enumerate(MEMBERS):
            popular = films[:40] if place == 0 else rng.sample(films[:40], rng.randint(3, 36))
            rare = [f for n, f in enumerate(films[40:]) if n % 20 in (place % 20, place % 7)]
            for film in popular + rare:
                rows.append((member, film, rng.choice((None, *range(1, 11), 6, 7, 8))))
        await tx.executemany(
            "INSERT INTO viewings (guild_id, user_id, number, film_id, watched_on, rating, "
            "logged_at) VALUES (?, ?, ?, ?, '2026-01-01', ?, 0)",
            [(GUILD, m, n, f, r) for n, (m, f, r) in enumerate(rows, start=1)],
        )
    return films


async def test_the_kept_ranking_is_every_pair_counted_after_each_kind_of_change(
    db, config, monkeypatch
):
    rng = random.Random(11)
    films = await a_club(db, rng)
    loads = []
    load = kept._load
    monkeypatch.setattr(kept, "_load", lambda *a: loads.append(a[1]) or load(*a))

    await assert_every_ranking_counted(db)
    server = await kept.kept_ratings.of(db, GUILD)
    assert server._columns and server._lists  # both ways of keeping a film are ranked
    assert len(loads) == 1
    # pages of the ranking, ties included (ratings drawn from few values)
    whole = await closest(db, MEMBERS[0])
    assert len(whole) > 25
    assert any(a[2] == b[2] for a, b in itertools.pairwise(whole))
    assert await closest(db, MEMBERS[0], 10, 10) == whole[10:20]

    # ratings changed, removed, and logged for films and by members not kept before
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE viewings SET rating = 11 - rating WHERE guild_id = ? AND user_id IN (?, ?) "
            "AND rating IS NOT NULL",
            (GUILD, MEMBERS[1], MEMBERS[2]),
        )
        await tx.execute(
            "DELETE FROM viewings WHERE guild_id = ? AND user_id = ? AND film_id IN (?, ?, ?)",
            (GUILD, MEMBERS[3], *films[:3]),
        )
        await tx.executemany(
            "INSERT INTO viewings (guild_id, user_id, number, film_id, watched_on, rating, "
            "logged_at) VALUES (?, 9999, ?, ?, '2026-02-01', ?, 0)",
            [(GUILD, n, f, 1 + n % 10) for n, f in enumerate(films[:30], start=1)],
        )
    await assert_every_ranking_counted(db, [*MEMBERS, 9999])

    # a film's last rating removed, a member forgotten, another private
    async with db.transaction() as tx:
        await tx.execute(
            "DELETE FROM viewings WHERE guild_id = ? AND film_id = ?", (GUILD, films[0])
        )
        await tx.execute("DELETE FROM viewings WHERE user_id = ?", (MEMBERS[4],))
        await tx.execute(
            "INSERT INTO diary_privacy (guild_id, user_id, private_at) VALUES (?, ?, 0)",
            (GUILD, MEMBERS[5]),
        )
    await assert_every_ranking_counted(db)
    assert films[0] not in server

    # an import (on PostgreSQL, counted in one pass with the row triggers aside)
    export = read_export(
        "diary.csv",
        (
            DIARY
            + "".join(
                f"2025-01-05,Kept {n:02},2000,https://boxd.it/k{n},{1 + n % 5},,,2025-01-04\n"
                for n in range(5, 35)
            )
        ).encode(),
    )
    await Diary(db).import_export(GUILD, MEMBERS[6], export, 0)
    await assert_every_ranking_counted(db)

    # ... each change read film by film, the server's ratings loaded once
    assert len(loads) == 1

    # a second process keeps its own, and sees the first one's changes
    other = await open_database(config)
    try:
        await assert_every_ranking_counted(other, MEMBERS[:5])
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE viewings SET rating = 10 WHERE guild_id = ? AND user_id = ? "
                "AND rating IS NOT NULL",
                (GUILD, MEMBERS[7]),
            )
        await assert_every_ranking_counted(other, MEMBERS[:10])
    finally:
        await other.close()


async def test_a_server_with_no_ratings_ranks_no_one(db):
    assert await closest(db, MEMBERS[0]) == []


@pytest.mark.parametrize("raters", [12, 300])
async def test_raters_come_after_the_ratings_were_kept_widen_the_columns(db, raters):
    """Members who rate for the first time after the server's ratings were kept: the columns
    grow to hold them, and those that no longer have one rater in 16 become lists."""
    films = await a_club(db, random.Random(3))
    await closest(db, MEMBERS[0])
    server = await kept.kept_ratings.of(db, GUILD)
    room = server._width - len(server.raters)
    columns = set(server._columns)
    assert raters > room  # more than the columns have room for
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO viewings (guild_id, user_id, number, film_id, watched_on, rating, "
            "logged_at) VALUES (?, ?, ?, ?, '2026-02-01', ?, 0)",
            [
                (GUILD, 50_000 + m, n, f, 1 + (m + n) % 10)
                for m in range(raters)
                for n, f in enumerate(films[:6], start=1)
            ],
        )
    await assert_every_ranking_counted(db, [*MEMBERS, 50_000])
    if raters == 300:  # 340 raters: a column needs 22 of them, and some no longer have them
        assert columns - set(server._columns)
        assert all(c.count(kept.RATED) * 16 >= 340 for c in server._columns.values())


async def test_an_import_beside_another_members_rating_is_read_again_after_both(postgres):
    """PostgreSQL: a member's import (its films counted in one pass) while another member's
    rating of the same server commits. A process reading the server's ratings between the two
    commits must read the import's films again after it: they are stamped with the version the
    import moves the server to, never an older one than the process holds."""
    url = postgres.create_database(f"kept_{next(NUMBERS)}", template=MIGRATED)
    db = await PostgresDatabase.open(url)
    first, second = await asyncpg.connect(url), await asyncpg.connect(url)
    viewing = (
        "INSERT INTO viewings (guild_id, user_id, number, film_id, watched_on, rating, "
        "logged_at) VALUES ($1, $2, $3, $4, '2026-01-01', $5, 0)"
    )
    try:
        heat, rope = [
            await first.fetchval(
                "INSERT INTO films (title, title_key, year) VALUES ($1, $2, 2000) RETURNING id",
                title,
                title.lower(),
            )
            for title in ("Heat", "Rope")
        ]
        for member in (1, 2, 3):
            await first.execute(viewing, GUILD, member, 1, heat, 5)
        await first.execute(viewing, GUILD, 1, 2, rope, 5)
        assert await closest(db, 1) == []  # the server's ratings kept

        rating = second.transaction()
        await rating.start()
        await second.execute(viewing, GUILD, 2, 2, rope, 9)
        imported = first.transaction()
        await imported.start()
        await first.execute("SELECT set_config('projectionist.bulk', 'on', true)")
        await first.execute(viewing, GUILD, 9, 1, heat, 1)
        counting = asyncio.ensure_future(
            first.execute("SELECT latest_ratings_of_member($1, $2)", GUILD, 9)
        )
        await asyncio.sleep(0.2)  # the import waits for the other rating's transaction
        await rating.commit()
        await counting
        await closest(db, 1)  # read between the two commits
        await imported.commit()

        server = await kept.kept_ratings.of(db, GUILD)
        assert sorted(server.shared({heat: 1}, 1)) == [(1, 1, 4), (2, 1, 4), (3, 1, 4), (9, 1, 0)]
    finally:
        await first.close()
        await second.close()
        await db.close()
