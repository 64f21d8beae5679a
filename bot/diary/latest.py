"""Viewings written in bulk: each member's latest rating of each film and the films' counts
(migration 0020) follow every viewing by a trigger per row. SQLite runs those in microseconds;
PostgreSQL's take about half a millisecond a row, so a member's import there sets them aside and
counts the member's films again in one pass at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.db import Tx


@asynccontextmanager
async def viewings_in_bulk(tx: Tx, guild_id: int, user_id: int) -> AsyncIterator[None]:
    """Within `tx`, write only this member's viewings in this server inside the block."""
    if tx.backend != "postgresql":
        yield
        return
    await tx.execute("SELECT set_config('projectionist.bulk', 'on', true)")
    yield
    await tx.execute("SELECT latest_ratings_of_member(?, ?)", (guild_id, user_id))
