"""Quotes: saved from messages, typed, or taken from essays; numbered per server."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot import fulltext
from bot.db import Conflict, Database, Row, Tx, rows_as_dicts
from bot.errors import NotFound, UserError
from bot.locks import lock_member
from bot.members import Forgotten

MAX_QUOTE = 1000
RankedPage = Callable[[int, int], Awaitable[list[tuple[int, int]]]]
PAGE_SIZE = 10


@dataclass(frozen=True)
class Quote:
    id: int
    guild_id: int
    number: int
    text: str
    author_id: int | None
    author_name: str | None
    source_message_id: int | None
    source_channel_id: int | None
    jump_url: str | None
    essay_id: int | None
    section_id: int | None
    saved_by: int
    said_at: int | None
    saved_at: int


def quote_from(row: Row) -> Quote:
    """A quote from a row of `quotes` (other columns beside them are passed over)."""
    return Quote(**{k: row[k] for k in Quote.__dataclass_fields__})


def check_length(text: str) -> str:
    text = text.strip()
    if not text:
        raise UserError("There is no text to quote.")
    if len(text) > MAX_QUOTE:
        raise UserError(
            f"Quotes can be at most {MAX_QUOTE:,} characters; this one is {len(text):,}."
        )
    return text


class Quotes:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- opting out -------------------------------------------------------------------

    async def is_opted_out(self, user_id: int) -> bool:
        return bool(
            await self.db.fetchval("SELECT 1 FROM quote_optouts WHERE user_id = ?", (user_id,))
        )

    async def toggle_optout(self, user_id: int, now: int) -> bool:
        """Flip whether others may quote `user_id`; returns True when now opted out."""
        async with self.db.transaction() as tx:
            await lock_member(tx, user_id)  # a double click toggles twice, in turn
            was_out = (
                await tx.execute("DELETE FROM quote_optouts WHERE user_id = ?", (user_id,))
            ) == 1
            if not was_out:
                await tx.execute(
                    "INSERT INTO quote_optouts (user_id, since) VALUES (?, ?)", (user_id, now)
                )
        return not was_out

    # --- saving -----------------------------------------------------------------------

    async def _insert(self, guild_id: int, values: dict[str, Any]) -> Quote:
        async with self.db.transaction(guild_id) as tx:
            number = await tx.next_number(f"quote_number:{guild_id}")
            columns = ["guild_id", "number", *values]
            return quote_from(
                await tx.one(
                    f"INSERT INTO quotes ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)}) RETURNING *",
                    (guild_id, number, *values.values()),
                )
            )

    async def save_message(
        self,
        guild_id: int,
        *,
        text: str,
        author_id: int,
        author_name: str,
        channel_id: int,
        message_id: int,
        jump_url: str,
        said_at: int,
        saved_by: int,
        now: int,
    ) -> tuple[Quote, bool]:
        """Save a message as a quote; the same message again gives the existing quote."""
        existing = await self._by_source(guild_id, message_id)
        if existing is not None:
            return existing, False
        if author_id != saved_by and await self.is_opted_out(author_id):
            raise UserError(f"{author_name} has asked not to be quoted.")
        values = {
            "text": check_length(text),
            "author_id": author_id,
            "author_name": author_name,
            "source_message_id": message_id,
            "source_channel_id": channel_id,
            "jump_url": jump_url,
            "saved_by": saved_by,
            "said_at": said_at,
            "saved_at": now,
        }
        try:
            return await self._insert(guild_id, values), True
        except Conflict:  # saved by someone else a moment ago
            if (saved := await self._by_source(guild_id, message_id)) is None:
                raise
            return saved, False

    async def _by_source(self, guild_id: int, message_id: int) -> Quote | None:
        row = await self.db.fetchone(
            "SELECT * FROM quotes WHERE guild_id = ? AND source_message_id = ?",
            (guild_id, message_id),
        )
        return quote_from(row) if row else None

    async def add_typed(
        self,
        guild_id: int,
        *,
        text: str,
        author_name: str | None,
        essay_id: int | None,
        section_id: int | None,
        saved_by: int,
        now: int,
    ) -> Quote:
        """A typed quote: its author is a name, not a member, so there is no opt-out to check."""
        values = {
            "text": check_length(text),
            "author_name": author_name,
            "essay_id": essay_id,
            "section_id": section_id,
            "saved_by": saved_by,
            "saved_at": now,
        }
        return await self._insert(guild_id, values)

    # --- reading ----------------------------------------------------------------------

    async def get(self, guild_id: int, number: int) -> Quote:
        row = await self.db.fetchone(
            "SELECT * FROM quotes WHERE guild_id = ? AND number = ?", (guild_id, number)
        )
        if row is None:
            raise NotFound(f"There is no quote #{number} in this server.")
        return quote_from(row)

    async def random(
        self,
        guild_id: int,
        *,
        author_id: int | None = None,
        essay_id: int | None = None,
        rng: random.Random | None = None,
    ) -> Quote:
        where, params = ["guild_id = ?"], [guild_id]
        if author_id is not None:
            where.append("author_id = ?")
            params.append(author_id)
        if essay_id is not None:
            where.append("essay_id = ?")
            params.append(essay_id)
        condition = " AND ".join(where)
        rng = rng or random.Random()
        if len(where) == 1:
            # Any quote of the server: a random point in its numbering, then the next quote at
            # or after it (numbers have gaps where quotes were removed), via the unique index.
            top = await self.db.fetchval(
                "SELECT max(number) FROM quotes WHERE guild_id = ?", params
            )
            if not top:
                raise UserError(
                    "No quotes match that yet. Save one with “Save as quote” on a message."
                )
            row = await self.db.one(
                "SELECT * FROM quotes WHERE guild_id = ? AND number >= ? ORDER BY number LIMIT 1",
                (guild_id, rng.randint(1, top)),
            )
            return quote_from(row)
        count = await self.db.fetchval(f"SELECT count(*) FROM quotes WHERE {condition}", params)
        if not count:
            raise UserError("No quotes match that yet. Save one with “Save as quote” on a message.")
        row = await self.db.one(
            f"SELECT * FROM quotes WHERE {condition} ORDER BY id LIMIT 1 OFFSET ?",
            (*params, rng.randrange(count)),
        )
        return quote_from(row)

    async def search(self, guild_id: int, query: str, limit: int = 5) -> list[Quote]:
        search = fulltext.for_backend(self.db.backend)
        match = search.query(query)
        if match is None:
            return []
        rows = await self.db.fetchall(search.quotes_newest, (*match, guild_id, limit))
        return [quote_from(row) for row in rows]

    async def page(
        self, guild_id: int, author_id: int | None, page: int
    ) -> tuple[list[Quote], int]:
        where, params = "guild_id = ?", [guild_id]
        if author_id is not None:
            where += " AND author_id = ?"
            params.append(author_id)
        total = await self.db.fetchval(f"SELECT count(*) FROM quotes WHERE {where}", params)
        rows = await self.db.fetchall(
            f"SELECT * FROM quotes WHERE {where} ORDER BY number DESC LIMIT ? OFFSET ?",
            (*params, PAGE_SIZE, page * PAGE_SIZE),
        )
        return [quote_from(row) for row in rows], total

    async def top(
        self, guild_id: int, ranked: RankedPage, limit: int = 10
    ) -> list[tuple[Quote, int]]:
        """The most-reacted quotes of a server, from `ranked(count, offset)`, a page of (quote,
        reactions) most-reacted first (the recorder's `leading_quotes`): (quote, reactions), the
        older quote first among equals. Ids of quotes removed since are passed over."""
        found: list[tuple[Quote, int]] = []
        offset = 0
        while len(found) < limit:
            page = await ranked(limit * 2, offset)
            if not page:
                break
            offset += len(page)
            marks = ", ".join("?" for _ in page)
            rows = await self.db.fetchall(
                f"SELECT * FROM quotes WHERE guild_id = ? AND id IN ({marks})",
                (guild_id, *(quote_id for quote_id, _ in page)),
            )
            by_id = {row["id"]: row for row in rows}
            found += [(quote_from(by_id[i]), n) for i, n in page if i in by_id]
        return found[:limit]

    # --- removing ---------------------------------------------------------------------

    async def by_id(self, quote_id: int) -> Quote | None:
        """A quote by its id, of whichever server: the caller checks the server it belongs to."""
        row = await self.db.fetchone("SELECT * FROM quotes WHERE id = ?", (quote_id,))
        return quote_from(row) if row else None

    async def remove(self, quote_id: int, guild_id: int) -> bool:
        """Remove a quote of `guild_id`; False when that server has no such quote (any more)."""
        async with self.db.transaction(guild_id) as tx:
            removed = await tx.execute(
                "DELETE FROM quotes WHERE id = ? AND guild_id = ?", (quote_id, guild_id)
            )
        return removed == 1

    # --- members' data (see bot/members.py) -------------------------------------------

    # quote_words (PostgreSQL's search words of each quote) goes with its quote.
    MEMBER_TABLES = frozenset({"quotes", "quote_optouts", "quote_words"})

    async def forget_member(self, tx: Tx, user_id: int, forgotten: Forgotten) -> None:
        forgotten.counts["quotes"] = await tx.execute(
            "DELETE FROM quotes WHERE author_id = ? OR saved_by = ?", (user_id, user_id)
        )
        await tx.execute("DELETE FROM quote_optouts WHERE user_id = ?", (user_id,))

    async def export_member(self, user_id: int) -> dict[str, Any]:
        return {
            "quotes_of": rows_as_dicts(
                await self.db.fetchall("SELECT * FROM quotes WHERE author_id = ?", (user_id,))
            ),
            "quotes_saved": rows_as_dicts(
                await self.db.fetchall("SELECT * FROM quotes WHERE saved_by = ?", (user_id,))
            ),
        }

    async def export_guild(self, guild_id: int) -> dict[str, Any]:
        rows = await self.db.fetchall(
            "SELECT * FROM quotes WHERE guild_id = ? ORDER BY number", (guild_id,)
        )
        return {"quotes": rows_as_dicts(rows)}
