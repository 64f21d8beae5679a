"""A period of the reactions' counts read as whole weeks (or quarters) and days at its ends
(bot/reactions/counts.py), against the sum of its days."""

from __future__ import annotations

import itertools
import random

from bot.reactions.counts import OPEN, QUARTER, WEEK, counted_period, counted_sums


def read(period, weeks: dict[int, int], per_day: dict[int, int], sealed: int) -> int:
    """What the database's query sums for `period`: its rows of the weeks (the days of `weeks`
    by week) and its runs of days, the last from no earlier than the first week not sealed
    where the period says so (`from_sealed`), as the database reads it."""
    first_week, end_week = period.weeks
    total = sum(n for day, n in weeks.items() if first_week <= day // WEEK < end_week)
    return total + read_days(period, per_day, sealed)


def read_days(period, per_day: dict[int, int], sealed: int) -> int:
    total = 0
    for last, (first, end, sign) in enumerate(period.days):
        if last and period.from_sealed:
            first = max(first, sealed * WEEK)
        total += sign * sum(n for day, n in per_day.items() if first <= day < end)
    return total


def read_by_quarter(period, weeks: dict[int, int], per_day: dict[int, int], sealed: int) -> int:
    """`read` for the counts kept per quarter too: its quarters' rows (each the days of its
    weeks in `weeks`, complete or not) and its runs of weeks, or its weeks without quarters."""
    first_quarter, end_quarter = period.quarters
    if first_quarter >= end_quarter:
        return read(period, weeks, per_day, sealed)
    total = sum(
        n for day, n in weeks.items() if first_quarter <= day // WEEK // QUARTER < end_quarter
    )
    for first, end, sign in period.quarter_weeks:
        total += sign * sum(n for day, n in weeks.items() if first <= day // WEEK < end)
    return total + read_days(period, per_day, sealed)


def test_a_long_period_sums_to_its_days_read_by_quarter_and_weeks_at_its_ends():
    rng = random.Random(5)
    per_day = {day: rng.randint(1, 9) for day in range(19_900, 21_000)}
    shapes = set()
    # Sealed at a quarter's start, just after, in its middle, at its end; and every week.
    for sealed in (2_925, 2_926, 2_931, 2_937, 2_950, OPEN):
        kept = {day: n for day, n in per_day.items() if day // WEEK < sealed}
        for first in range(19_950, 20_250, 13):
            for end, running in [
                *((end, False) for end in range(first + 170, 20_990, 23)),
                # ending on a day not reached yet: read to now where no week from its end on is
                # sealed (as the recorder says of a period ending after now), else as before
                *((end, True) for end in range(first + 170, 20_990, 23)),
                (OPEN, False),
            ]:
                period = counted_period(first, end, sealed, running=running)
                expected = sum(n for day, n in per_day.items() if first <= day < end)
                got = read_by_quarter(period, kept, per_day, sealed)
                assert got == expected, (first, end, sealed, period)
                first_quarter, end_quarter = period.quarters
                if first_quarter < end_quarter:
                    head, tail = period.quarter_weeks
                    assert head[1] - head[0] <= QUARTER // 2 and tail[1] - tail[0] < QUARTER
                    if period.from_sealed:
                        # every quarter from the first, the one going on with its sealed weeks
                        assert end == OPEN or running, period
                        assert end_quarter == OPEN and tail[0] == tail[1]
                        assert period.days[1] == (sealed * WEEK, end, 1), period
                        shapes.add((head[2], "to now" if end == OPEN else "running"))
                        continue
                    assert end != OPEN or sealed == OPEN, period  # to now: read so
                    # a quarter is read once its weeks are all kept
                    assert end_quarter * QUARTER <= sealed, (first, end, sealed, period)
                    shapes.add((head[2], tail[2], tail[0] < tail[1]))
    # The weeks at each end added and taken away, a period ending at a quarter's start, and
    # periods running to now or to a day not reached yet.
    assert {
        (1, 1, True),
        (-1, 1, True),
        (1, -1, True),
        (-1, -1, True),
        (1, 1, False),
        (1, "to now"),
        (-1, "to now"),
        (1, "running"),
        (-1, "running"),
    } <= shapes


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
                assert read(period, kept, per_day, sealed) == expected, (first, end, sealed, period)
                assert period.weeks[1] <= sealed or period.weeks == (0, 0)
                if sealed == OPEN and (end == OPEN or end - first >= 14):
                    assert all(stop - start <= 3 for start, stop, _ in period.days), period


def quotes_by_day(seed: int, days: range, share: float) -> dict[tuple[int, int], int]:
    """Reactions to quotes 1 to 3 on about `share` of their `days`: {(day, quote): count}."""
    rng = random.Random(seed)
    return {
        (day, quote): rng.randint(1, 9)
        for day in days
        for quote in (1, 2, 3)
        if rng.random() < share
    }


def summed(per_day: dict[tuple[int, int], int], sealed: int, weeks: int = 1) -> dict:
    """The days of the weeks before `sealed` summed by week (or by runs of `weeks` weeks)."""
    sums: dict[tuple[int, int], int] = {}
    for (day, quote), n in per_day.items():
        if day // WEEK < sealed:
            key = (day // WEEK // weeks, quote)
            sums[key] = sums.get(key, 0) + n
    return sums


def expected_sums(per_day: dict[tuple[int, int], int], first: int, end: int) -> dict[int, int]:
    expected: dict[int, int] = {}
    for (day, quote), n in per_day.items():
        if first <= day < end:
            expected[quote] = expected.get(quote, 0) + n
    return expected


async def store(db, per_day, per_week, servers=(1,), more: int = 0) -> None:
    """The days of every server in `servers`, and the weeks of the first (`more` too many)."""
    async with db.transaction() as tx:
        for (day, quote), n in per_day.items():
            for server in servers:
                await tx.execute(
                    "INSERT INTO reaction_days (guild_id, day, section_id, quote_id, reactions) "
                    "VALUES (?, ?, 0, ?, ?)",
                    (server, day, quote, n),
                )
        for (week, quote), n in per_week.items():
            await tx.execute(
                "INSERT INTO reaction_weeks (guild_id, week, section_id, quote_id, reactions) "
                "VALUES (?, ?, 0, ?, ?)",
                (servers[0], week, quote, n + more),
            )


async def test_the_database_sums_every_period_to_its_days_whatever_parts_it_reads(db):
    """The query of `counted_sums`, run by the database over stored days and sealed weeks,
    for periods with and without whole weeks and with empty, added and taken-away runs of
    days: each thing's total is the sum of its days in the period, and a thing without
    reactions in it is not listed."""
    guild, sealed = 1, 2_925  # weeks before 2925 are kept
    per_day = quotes_by_day(11, range(20_440, 20_520), 0.6)
    await store(db, per_day, summed(per_day, sealed), (guild, 2))  # 2's rows are never counted
    shapes = set()
    for first in range(20_450, 20_500, 3):
        for end in (first, first + 1, first + 5, first + 15, first + 22, OPEN):
            period = counted_period(first, end, sealed)
            sums, params = counted_sums("reaction", "quote_id", guild, period, " AND quote_id <> 0")
            got = {row[0]: row[1] for row in await db.fetchall(sums, params)}
            assert got == expected_sums(per_day, first, end), (first, end, period)
            shapes.add((period.weeks != (0, 0), *(start < stop for start, stop, _ in period.days)))
    # Periods read with and without weeks, with each run of days empty and not.
    assert {
        (True, False, True),
        (True, True, False),
        (False, True, False),
        (False, False, False),
    } <= shapes, shapes


async def test_the_database_sums_a_long_period_from_the_quarters_its_weeks_keep(db):
    """The weeks' rows written as the seal writes them, and changed and removed as the fold
    does: the quarters' rows follow them (migration 0032), and `counted_sums` over periods of
    half a year and more, read by quarter, gives each thing the sum of its days."""
    guild, sealed = 1, 2_925  # the weeks before 2925 are kept: quarters up to 224 complete
    per_day = quotes_by_day(13, range(19_900, 20_560), 0.3)
    per_week = summed(per_day, sealed)
    await store(db, per_day, per_week, more=5)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO reaction_weeks_sealed (guild_id, week) VALUES (?, ?)", (guild, sealed)
        )
        await tx.execute("UPDATE reaction_weeks SET reactions = reactions - 5")
        # A week's row of a quote brought to zero goes, and its quarter's count with it.
        week, quote = min(per_week)
        await tx.execute(
            "UPDATE reaction_weeks SET reactions = 0 WHERE week = ? AND quote_id = ?",
            (week, quote),
        )
        await tx.execute("DELETE FROM reaction_weeks WHERE reactions = 0")
        per_day = {(d, q): n for (d, q), n in per_day.items() if (d // WEEK, q) != (week, quote)}
        await tx.execute(
            "DELETE FROM reaction_days WHERE day >= ? AND day < ? AND quote_id = ?",
            (week * WEEK, (week + 1) * WEEK, quote),
        )
    quarters = {
        (row[0], row[1]): row[2]
        for row in await db.fetchall("SELECT quarter, quote_id, reactions FROM reaction_quarters")
    }
    assert quarters == summed(per_day, sealed, QUARTER)
    read_by_quarter_seen = False
    for first in range(19_950, 20_300, 17):
        for end in (first + 190, first + 260, first + 301, OPEN):
            period = counted_period(first, end, sealed)
            read_by_quarter_seen |= period.quarters[0] < period.quarters[1]
            sums, params = counted_sums("reaction", "quote_id", guild, period, " AND quote_id <> 0")
            got = {row[0]: row[1] for row in await db.fetchall(sums, params)}
            assert got == expected_sums(per_day, first, end), (first, end, period)
    assert read_by_quarter_seen
    # Six more weeks sealed, as the seal writes them, after some periods running to now (or to
    # a day not reached yet, 20,545 being after the sealed weeks) were made: each reads the
    # quarter going on (now its six weeks) and the days after the weeks the database has sealed
    # when it reads them, so every day still counts once.
    later = sealed + 6
    async with db.transaction() as tx:
        for (week, quote), n in summed(per_day, later).items():
            if week >= sealed:
                await tx.execute(
                    "INSERT INTO reaction_weeks (guild_id, week, section_id, quote_id, "
                    "reactions) VALUES (?, ?, 0, ?, ?)",
                    (guild, week, quote, n),
                )
        await tx.execute(
            "UPDATE reaction_weeks_sealed SET week = ? WHERE guild_id = ?", (later, guild)
        )
    for first in range(19_950, 20_300, 17):
        for made_with, end in itertools.product((sealed, later), (OPEN, 20_545)):
            period = counted_period(first, end, made_with, running=True)
            assert period.quarters[1] == OPEN, period
            sums, params = counted_sums("reaction", "quote_id", guild, period, " AND quote_id <> 0")
            got = {row[0]: row[1] for row in await db.fetchall(sums, params)}
            assert got == expected_sums(per_day, first, end), (first, end, made_with, period)
