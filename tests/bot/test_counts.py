"""A period of the reactions' counts read as whole weeks and days at its ends
(bot/reactions/counts.py), against the sum of its days."""

from __future__ import annotations

import random

from bot.reactions.counts import OPEN, WEEK, counted_period


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
