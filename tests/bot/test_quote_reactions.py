"""Each quote's reactions in one row (migration 0037): made from the daily counts kept before it,
on both backends, and the quotes of a period ranked from it as from their days."""

from __future__ import annotations

import random

from bot.db import migrations_in
from bot.reactions.counts import quote_sums

NONE = -2147483648  # no day with reactions before the quote's latest run
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


async def rows_of(db) -> list[tuple[int, ...]]:
    rows = await db.fetchall("SELECT * FROM quote_reactions ORDER BY guild_id, quote_id")
    return [tuple(row) for row in rows]


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
        # (server, quote, first day, last day, reactions, its latest run's first day, the day
        # with reactions before it, the run's reactions)
        assert await rows_of(db) == [
            (5, 41, 20_700, 20_730, 7, 20_730, 20_701, 4),
            (5, 42, 20_729, 20_729, 3, 20_729, NONE, 3),
            (5, 43, 20_731, 20_731, 5, 20_731, NONE, 5),
            (6, 41, 20_700, 20_700, 7, 20_700, NONE, 7),
        ]
        # from the first day on, every quote from its row; from a later one, quote 41 from the
        # days it has since
        assert await ranked(db, 5, 20_700) == [(41, 7), (43, 5), (42, 3)]
        assert await ranked(db, 5, 20_701) == [(41, 5), (43, 5), (42, 3)]  # from its days
        assert await ranked(db, 5, 20_715) == [(43, 5), (41, 4), (42, 3)]  # its latest run
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
        assert await rows_of(db) == [
            # its days stay as they were: bounds, never narrowed
            (5, 41, 20_700, 20_730, 3, 20_730, 20_701, 0),
            (5, 42, 20_729, 20_729, 0, 20_729, NONE, 0),
            (5, 43, 20_690, 20_731, 8, 20_731, 20_690, 7),
            (6, 41, 20_700, 20_700, 7, 20_700, NONE, 7),
        ]
        assert await ranked(db, 5, 20_700) == [(43, 7), (41, 3)]
        assert await ranked(db, 5, 20_690) == [(43, 8), (41, 3)]
        assert await ranked(db, 5, 20_705) == [(43, 7)]  # 41's run: nothing left in it
        # Quote 41 shown again months later: a run of its own.
        await db.write(
            "INSERT INTO reaction_days (guild_id, day, section_id, quote_id, reactions) "
            "VALUES (5, 20800, 0, 41, 2)"
        )
        assert (await rows_of(db))[0] == (5, 41, 20_700, 20_800, 5, 20_800, 20_730, 2)
        assert await ranked(db, 5, 20_750) == [(41, 2)]
    finally:
        await db.close()


async def test_each_quotes_row_sums_its_days_after_any_statements_and_ranks_every_period(opener):
    """Statements of several rows at once, each quote's changes in any order of days (a fold, a
    post edited in place, removals, counts below zero for a moment): after each, every quote's
    row against its days, and the ranking from every day against a sum of the days."""
    rng = random.Random(37)
    db = await opener()
    try:
        for turn in range(40):
            rows = {
                (5, rng.randrange(20_600, 20_700), rng.choice((0, 3)), rng.randrange(1, 9))
                for _ in range(rng.randrange(1, 12))
            }
            change = rng.choice(("add", "add", "lower", "remove", "move"))
            async with db.transaction() as tx:
                if change == "add":  # one statement, as a fold's: new rows and existing ones
                    await tx.execute(
                        "INSERT INTO reaction_days (guild_id, day, section_id, quote_id, "
                        f"reactions) VALUES {', '.join(['(?, ?, ?, ?, ?)'] * len(rows))} "
                        "ON CONFLICT (guild_id, day, section_id, quote_id) DO UPDATE SET "
                        "reactions = reaction_days.reactions + excluded.reactions",
                        tuple(v for row in rows for v in (*row, rng.randrange(-2, 6))),
                    )
                elif change == "lower":  # one statement over many days and quotes
                    await tx.execute(
                        "UPDATE reaction_days SET reactions = reactions - 1 "
                        "WHERE guild_id = 5 AND day % ? = 0",
                        (rng.randrange(2, 9),),
                    )
                elif change == "remove":
                    await tx.execute(
                        "DELETE FROM reaction_days WHERE guild_id = 5 AND day % ? = 0",
                        (rng.randrange(5, 30),),
                    )
                else:  # a row's key changed, which nothing does: followed anyway
                    await tx.execute(
                        "UPDATE reaction_days SET day = day + ? WHERE guild_id = 5 "
                        "AND quote_id = ?",
                        (300 * (turn + 1), rng.randrange(1, 9)),
                    )
            await rows_follow_days(db)
        for first in range(20_595, 20_705, 3):
            days = await db.fetchall(
                "SELECT quote_id, sum(reactions) FROM reaction_days WHERE quote_id <> 0 "
                "AND day >= ? GROUP BY quote_id HAVING sum(reactions) > 0",
                (first,),
            )
            expected = sorted(((r[0], r[1]) for r in days), key=lambda r: (-r[1], r[0]))
            assert await ranked(db, 5, first) == expected, first
        # most periods read most quotes from their rows alone: runs were found
        runs = await db.fetchval(
            "SELECT count(*) FROM quote_reactions WHERE run_first_day > first_day"
        )
        assert runs > 0
    finally:
        await db.close()


async def rows_follow_days(db) -> None:
    days: dict[tuple[int, int], dict[int, int]] = {}
    for guild, quote, day, n in await db.fetchall(
        "SELECT guild_id, quote_id, day, sum(reactions) FROM reaction_days WHERE quote_id <> 0 "
        "GROUP BY 1, 2, 3"
    ):
        if n:
            days.setdefault((guild, quote), {})[day] = n
    kept = {row[:2]: row[2:] for row in await rows_of(db)}
    for key, row in kept.items():
        first, last, reactions, run_first, before_run, run_reactions = row
        counted = days.get(key, {})
        assert reactions == sum(counted.values()), key
        assert run_reactions == sum(n for day, n in counted.items() if day >= run_first), key
        assert all(first <= day <= last for day in counted), key
        assert not [day for day in counted if before_run < day < run_first], key
    assert days.keys() <= kept.keys()
