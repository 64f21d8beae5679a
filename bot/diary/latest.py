"""Viewings written in bulk: each member's latest rating of each film and the films' counts
(migration 0020), and the viewings of each year (0030), follow every viewing by a trigger per row.
SQLite runs those in microseconds; PostgreSQL's take about half a millisecond a row, so a member's
import there sets them aside, counts the member's films again in one pass at the end and adds the
new viewings to their years."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.db import Tx


@asynccontextmanager
async def viewings_in_bulk(
    tx: Tx, guild_id: int, user_id: int, added: list[tuple[int, str | None]]
) -> AsyncIterator[None]:
    """Within `tx`, add only this member's viewings in this server inside the block: `added`,
    each (film, day watched)."""
    if tx.backend != "postgresql":
        yield
        return
    await tx.execute("SELECT set_config('projectionist.bulk', 'on', true)")
    yield
    await tx.execute("SELECT latest_ratings_of_member(?, ?)", (guild_id, user_id))
    await tx.execute(
        "SELECT viewing_years_moved(?::bigint[], ?::bigint[], ?::bigint[], ?::text[], "
        "?::integer[])",
        (
            [guild_id] * len(added),
            [user_id] * len(added),
            [film_id for film_id, _ in added],
            [day for _, day in added],
            [1] * len(added),
        ),
    )
