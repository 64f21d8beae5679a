"""Operations on the database file: a consistent backup while the bot runs, an integrity
check, and JSON exports of a server's or a member's data."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from bot.db import Database, bundled_migrations


def backup(database: Path, target: Path) -> int:
    """Copy the database with SQLite's online backup API (consistent while the bot writes)."""
    if not database.exists():
        raise FileNotFoundError(f"No database at {database}")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target.stat().st_size


def check(database: Path) -> tuple[bool, list[str]]:
    """(healthy, report lines): integrity check and schema version against this code."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
    latest = bundled_migrations()[-1][0]
    lines = [
        f"integrity: {', '.join(integrity)}",
        f"schema version: {version} (this release knows up to {latest})",
    ]
    healthy = integrity == ["ok"] and version <= latest
    if version < latest:
        lines.append("the next start will apply the newer migrations")
    if version > latest:
        lines.append("written by a newer release: upgrade before starting the bot on it")
    return healthy, lines


async def export(
    database: Path, *, guild_id: int | None = None, member_id: int | None = None
) -> dict[str, Any]:
    """A server's data or a member's, as plain JSON-ready dictionaries: every feature's part
    (bot/members.py), read from the file without changing it (the bot may be running)."""
    from bot.services import members_reading

    db = await Database.open_to_read(database)
    try:
        members = members_reading(db, clock=time.time)
        if member_id is not None:
            return await members.export_member(member_id)
        if guild_id is None:
            raise ValueError("export needs a server id or a member id")
        return await members.export_guild(guild_id)
    finally:
        await db.close()


def export_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)
