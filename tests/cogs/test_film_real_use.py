"""Screenings, the vote, edits and spoilers as members, moderators and Discord really use them:
nothing stranded, doubled or leaked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.cogs.test_films import advance_to, start_week
from tests.helpers import refusal


@pytest.mark.parametrize(
    "typed", ["²⁵ Dec 20:00", "２５ Dec 20:00", "٢٥ Dec 20:00", "25 Dec ２０:００"]
)
async def test_a_time_in_other_digits_is_refused_privately_like_any_unreadable_time(club, typed):
    env = club.env
    await advance_to(env, datetime(2026, 12, 21, 12, tzinfo=UTC))
    await start_week(club, title="Heat")
    r = await club.mia.slash(club.general, "film screening set", when=typed)
    assert refusal(env, r).startswith(f"“{typed}” is not a date and time I can read.")
    assert await env.bot.db.fetchval("SELECT count(*) FROM screenings") == 0
    settings = await club.mia.slash(club.general, "film settings", prompt_time="１８:００")
    assert "is not a time of day" in refusal(env, settings)
