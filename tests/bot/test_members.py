"""Every table that holds a member's or a server's id is answered for by a feature's part."""

from __future__ import annotations

from bot.services import members_reading

# Columns that name a member or a server.
PEOPLE = {"user_id", "author_id", "saved_by", "added_by", "hidden_by", "started_by", "created_by"}
SERVERS = {"guild_id"}


async def test_every_table_holding_a_member_or_server_id_has_an_owner(db):
    holding = set()
    for table in await db.tables():
        columns = {name for name, _ in await db.columns(table)}
        if columns & (PEOPLE | SERVERS):
            holding.add(table)
    covered = members_reading(db, clock=lambda: 0.0).covered
    assert holding - covered == set(), "tables no feature answers for"
    # PostgreSQL's reactions are rows behind a view of that name (its migration 0036).
    reactions = "reactions" if db.backend == "sqlite" else "reaction_rows"
    assert {"viewings", "watchlist", "quotes", reactions, "jobs", "forgotten_members"} <= holding
