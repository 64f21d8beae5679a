"""Operations on the database file: a consistent backup while the bot runs, an integrity
check, and JSON exports of a server's or a member's data."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from bot.db import bundled_migrations


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


def _rows(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# A member's reactions as the bot would show them: the merged rows, then what the bot logged and
# has not merged yet (it may be running; this connection only reads).
MEMBER_REACTIONS = """
WITH last AS MATERIALIZED (
    SELECT message_id, emoji, added, at FROM reaction_log_last WHERE user_id = ?
)
SELECT r.message_id, r.emoji, r.created_at FROM reactions r
    WHERE r.user_id = ? AND NOT EXISTS (
        SELECT 1 FROM last WHERE last.message_id = r.message_id AND last.emoji = r.emoji
    )
UNION ALL
SELECT last.message_id, last.emoji, coalesce(r.created_at, last.at) FROM last
    LEFT JOIN reactions r
        ON r.message_id = last.message_id AND r.user_id = ? AND r.emoji = last.emoji
    WHERE last.added
ORDER BY 1, 2
"""


def export(
    database: Path, *, guild_id: int | None = None, member_id: int | None = None
) -> dict[str, Any]:
    """A server's data (its essays, quotes, weeks and ratings) or a member's (their quotes,
    ratings, takes, nominations and reactions), as plain JSON-ready dictionaries."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        if member_id is not None:
            return {
                "member_id": member_id,
                "quotes_of": _rows(conn, "SELECT * FROM quotes WHERE author_id = ?", (member_id,)),
                "quotes_saved": _rows(
                    conn, "SELECT * FROM quotes WHERE saved_by = ?", (member_id,)
                ),
                "ratings": _rows(
                    conn,
                    "SELECT w.guild_id, w.title, w.year, r.stars, r.take, r.rated_at FROM ratings r "
                    "JOIN weeks w ON w.id = r.week_id WHERE r.user_id = ?",
                    (member_id,),
                ),
                "nominations": _rows(
                    conn,
                    "SELECT m.guild_id, m.title, m.year, n.created_at FROM nominators n "
                    "JOIN nominations m ON m.id = n.nomination_id WHERE n.user_id = ?",
                    (member_id,),
                ),
                "reactions": _rows(conn, MEMBER_REACTIONS, (member_id,) * 3),
            }
        if guild_id is None:
            raise ValueError("export needs a server id or a member id")
        return {
            "guild_id": guild_id,
            "essays": _rows(
                conn,
                "SELECT e.key, e.title, e.film, e.year, e.director, e.author, s.position, "
                "s.heading, s.body FROM essays e JOIN sections s ON s.essay_id = e.id "
                "WHERE e.guild_id = ? AND e.hidden = 0 AND s.hidden = 0 ORDER BY e.id, s.position",
                (guild_id,),
            ),
            "quotes": _rows(
                conn, "SELECT * FROM quotes WHERE guild_id = ? ORDER BY number", (guild_id,)
            ),
            "weeks": _rows(
                conn, "SELECT * FROM weeks WHERE guild_id = ? ORDER BY started_at", (guild_id,)
            ),
            "ratings": _rows(
                conn,
                "SELECT r.* FROM ratings r JOIN weeks w ON w.id = r.week_id WHERE w.guild_id = ?",
                (guild_id,),
            ),
        }
    finally:
        conn.close()


def export_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)
