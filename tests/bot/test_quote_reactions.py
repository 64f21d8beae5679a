"""Each quote's reactions in one row (migration 0037): made from the daily counts kept before it,
on both backends, and the quotes of a period ranked from it as from their days."""

from __future__ import annotations

import itertools

import pytest

from bot.db import migrations_in
from bot.postgres import PostgresDatabase
from bot.reactions.counts import quote_sums
from bot.sqlite import SqliteDatabase

NAMES = itertools.count(1)
# (guild, day, section, quote, reactions) as a database at 0036 keeps them
DAYS = [
    (5, 20_700, 3, 0, 9),  # a section's post: no quote
    (5, 20_700, 0, 41, 2),
    (5, 20_701, 0, 41, 1),
    (5, 20_730, 0, 41, 4),  # the quote's card posted again a month later
    (5, 20_729, 3, 42, 3),  # a quote saved from a section
    (5, 20_731, 0, 43, 5),
    (6, 20_700, 0, 41, 7),  # another server's rows of the same quote id
]


@pytest.fixture
def opener(backend, tmp_path, request):
    if backend == "sqlite":
        path = tmp_path / "old.db"
        return lambda migrations=None: SqliteDatabase.open(path, migrations)
    url = request.getfixturevalue("postgres").create_database(f"quote_rows_{next(NAMES)}")
    return lambda migrations=None: PostgresDatabase.open(url, migrations)


async def ranked(db, guild: int, first: int) -> list[tuple[int, int]]:
    sums, params = quote_sums(guild, first)
    rows = await db.fetchall(f"{sums} ORDER BY total DESC, quote_id", params)
    return [(row[0], row[1]) for row in rows]


async def test_the_quotes_counted_before_their_rows_existed_rank_as_their_days_do(backend, opener):
    db = await opener([m for m in migrations_in(backend) if m[0] <= 36])
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO reaction_days (guild_id, day, section_id, quote_id, reactions) "
            "VALUES (?, ?, ?, ?, ?)",
            DAYS,
        )
    await db.close()
    db = await opener()
    try:
        rows = await db.fetchall("SELECT * FROM quote_reactions ORDER BY guild_id, quote_id")
        assert [tuple(r) for r in rows] == [
            (5, 41, 20_700, 20_730, 7),
            (5, 42, 20_729, 20_729, 3),
            (5, 43, 20_731, 20_731, 5),
            (6, 41, 20_700, 20_700, 7),
        ]
        # from the first day on, every quote from its row; from a later one, quote 41 from the
        # days it has since
        assert await ranked(db, 5, 20_700) == [(41, 7), (43, 5), (42, 3)]
        assert await ranked(db, 5, 20_701) == [(41, 5), (43, 5), (42, 3)]
        assert await ranked(db, 5, 20_730) == [(43, 5), (41, 4)]
        assert await ranked(db, 5, 20_731) == [(43, 5)]
        assert await ranked(db, 5, 20_732) == []

        # Rows written after the upgrade follow, whatever writes them: a day's count raised,
        # one added before the quote's first day, one lowered to zero and removed.
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE reaction_days SET reactions = reactions + 2 "
                "WHERE guild_id = 5 AND day = 20731 AND quote_id = 43"
            )
            await tx.execute(
                "INSERT INTO reaction_days (guild_id, day, section_id, quote_id, reactions) "
                "VALUES (5, 20690, 0, 43, 1)"
            )
            await tx.execute(
                "UPDATE reaction_days SET reactions = 0 WHERE guild_id = 5 AND quote_id = 42"
            )
            await tx.execute("DELETE FROM reaction_days WHERE reactions = 0")
            await tx.execute("DELETE FROM reaction_days WHERE guild_id = 5 AND day = 20730")
        rows = await db.fetchall("SELECT * FROM quote_reactions ORDER BY guild_id, quote_id")
        assert [tuple(r) for r in rows] == [
            (5, 41, 20_700, 20_730, 3),  # its days stay as they were: bounds, never narrowed
            (5, 42, 20_729, 20_729, 0),
            (5, 43, 20_690, 20_731, 8),
            (6, 41, 20_700, 20_700, 7),
        ]
        assert await ranked(db, 5, 20_700) == [(43, 7), (41, 3)]
        assert await ranked(db, 5, 20_690) == [(43, 8), (41, 3)]
    finally:
        await db.close()
