"""A period of the reactions' counts read as whole weeks and days at its ends
(bot/reactions/counts.py), against the sum of its days."""

from __future__ import annotations

import random

from bot.reactions.counts import OPEN, WEEK, counted_period, counted_sums


def read(period, weeks: dict[int, int], per_day: dict[int, int]) -> int:
    """What the database's query sums for `period`: its rows of the weeks (the days of `weeks`
    by week) and its runs of days."""
    first_week, end_week = period.weeks
    total = sum(n for day, n in weeks.items() if first_week <= day // WEEK < end_week)
    for first, end, sign in period.days:
        total += sign * sum(n for day, n in per_day.items() if first <= day < end)
    return total


def test_every_period_sums_to_its_days_and_reads_at_most_three_days_at_each_end():
    rng = random.Random(7)
    per_day = {day: rng.randint(1, 9) for day in range(20_440, 20_560)}
    # The weeks kept: those before `sealed`, the days of later ones not in any week's row.
    for sealed in (0, 2_922, 2_925, 2_928, OPEN):
        kept = {day: n for day, n in per_day.items() if day // WEEK < sealed}
        for first in range(20_450, 20_520):
            for end in [*range(first, first + 40), OPEN]:
                period = counted_period(first, end, sealed)
                expected = sum(n for day, n in per_day.items() if first <= day < end)
                assert read(period, kept, per_day) == expected, (first, end, sealed, period)
                assert period.weeks[1] <= sealed or period.weeks == (0, 0)
                if sealed == OPEN and (end == OPEN or end - first >= 14):
                    assert all(stop - start <= 3 for start, stop, _ in period.days), period


async def test_the_database_sums_every_period_to_its_days_whatever_parts_it_reads(db):
    """The query of `counted_sums`, run by the database over stored days and sealed weeks,
    for periods with and without whole weeks and with empty, added and taken-away runs of
    days: each thing's total is the sum of its days in the period, and a thing without
    reactions in it is not listed."""
    rng = random.Random(11)
    guild, other = 1, 2
    first_day, last_day, sealed = 20_440, 20_520, 2_925  # weeks before 2925 are kept
    per_day = {
        (day, quote): rng.randint(1, 9)
        for day in range(first_day, last_day)
        for quote in (1, 2, 3)
        if rng.random() < 0.6
    }
    per_week: dict[tuple[int, int], int] = {}
    for (day, quote), n in per_day.items():
        if day // WEEK < sealed:
            per_week[day // WEEK, quote] = per_week.get((day // WEEK, quote), 0) + n
    async with db.transaction() as tx:
        for (day, quote), n in per_day.items():
            for server in (guild, other):  # another server's rows are never counted
                await tx.execute(
                    "INSERT INTO reaction_days (guild_id, day, section_id, quote_id, reactions) "
                    "VALUES (?, ?, 0, ?, ?)",
                    (server, day, quote, n),
                )
        for (week, quote), n in per_week.items():
            await tx.execute(
                "INSERT INTO reaction_weeks (guild_id, week, section_id, quote_id, reactions) "
                "VALUES (?, ?, 0, ?, ?)",
                (guild, week, quote, n),
            )
    shapes = set()
    for first in range(20_450, 20_500, 3):
        for end in (first, first + 1, first + 5, first + 15, first + 22, OPEN):
            period = counted_period(first, end, sealed)
            sums, params = counted_sums("reaction", "quote_id", guild, period, " AND quote_id <> 0")
            got = {row[0]: row[1] for row in await db.fetchall(sums, params)}
            expected: dict[int, int] = {}
            for (day, quote), n in per_day.items():
                if first <= day < end:
                    expected[quote] = expected.get(quote, 0) + n
            assert got == expected, (first, end, period)
            shapes.add((period.weeks != (0, 0), *(start < stop for start, stop, _ in period.days)))
    # Periods read with and without weeks, with each run of days empty and not.
    assert {
        (True, False, True),
        (True, True, False),
        (False, True, False),
        (False, False, False),
    } <= shapes, shapes
