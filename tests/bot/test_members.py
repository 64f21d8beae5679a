"""Every table that holds a member's or a server's id is answered for by a feature's part."""

from __future__ import annotations

from bot.db import Database
from bot.services import members_reading

# Columns that name a member or a server.
PEOPLE = {"user_id", "author_id", "saved_by", "added_by", "hidden_by", "started_by", "created_by"}
SERVERS = {"guild_id"}


async def test_every_table_holding_a_member_or_server_id_has_an_owner(tmp_path):
    db = await Database.open(tmp_path / "schema.db")
    try:
        tables = [
            row[0]
            for row in await db.fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND name NOT LIKE '%fts%'"
            )
        ]
        holding = set()
        for table in tables:
            columns = {row[1] for row in await db.fetchall(f"PRAGMA table_info({table})")}
            if columns & (PEOPLE | SERVERS):
                holding.add(table)
        covered = members_reading(db, clock=lambda: 0.0).covered
        assert holding - covered == set(), "tables no feature answers for"
        assert {"ratings", "quotes", "reactions", "jobs", "forgotten_members"} <= holding
    finally:
        await db.close()
