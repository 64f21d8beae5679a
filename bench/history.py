"""The reports over a long history: the benchmark's month of reactions holds no whole quarter of
thirteen weeks, so its `/stats server days:30` and club's year never read the counts kept per
quarter (migration 0032). This step gives the community's counts nine months at the month's
density and times the period reports over them.

The month's daily rows (posts' and members') are copied into the eight spans of five weeks
before it, each span's quotes mapped onto other quotes of the club, and every sealed week summed
again from its days, as the seal does (the quarters follow by the weekly tables' triggers). Only
the counts are lengthened: `reactions` keeps its month, so a member's year, whose sections are
read from the reactions themselves, is not timed here. Run last: it changes the community; and
in a process of its own (`python -m bench.prepare history`), as its writes are the benchmark's,
not the bot's, and on SQLite held some 80 MB of the bot's memory.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bench.community import GUILD_ID
from bot.db import Database
from bot.reactions.counts import COUNT_TABLES

SPANS = 8  # copies of the month, one before the other
SPAN_DAYS = 35  # each a span of five weeks: the month's days and a few empty ones
HISTORY_DAYS = 270  # the period `/stats server` and `/quote top` are timed over
QUOTE_STEP = 7919  # each span's quotes: the month's moved by this many places among the club's


async def lengthen(db: Database) -> dict[str, int]:
    """The month's counts copied into the spans before it and the sealed weeks summed again.
    Returns the days, weekly rows and quarters the counts then hold."""
    async with db.transaction(GUILD_ID) as tx:
        first = await tx.fetchval(
            "SELECT min(day) FROM reaction_days WHERE guild_id = ?", (GUILD_ID,)
        )
        low, high = await tx.one(
            "SELECT min(id), max(id) FROM quotes WHERE guild_id = ?", (GUILD_ID,)
        )
        sealed = await tx.fetchval(
            "SELECT week FROM reaction_weeks_sealed WHERE guild_id = ?", (GUILD_ID,)
        )
        quote_ids = high - low + 1  # the benchmark's quotes have every id from low to high
        month = (GUILD_ID, first, first + SPAN_DAYS)  # the server and the days copied
        for span in range(1, SPANS + 1):
            # Each span's quotes: the month's moved along the club's ids, wrapping around.
            shift, moved = span * SPAN_DAYS, span * QUOTE_STEP % quote_ids
            await tx.execute(
                "INSERT INTO reaction_days (guild_id, day, section_id, quote_id, reactions) "
                "SELECT guild_id, day - ?, section_id, CASE WHEN quote_id = 0 THEN 0 "
                "ELSE (quote_id - ? + ?) % ? + ? END, reactions FROM reaction_days "
                "WHERE guild_id = ? AND day >= ? AND day < ?",
                (shift, low, moved, quote_ids, low, *month),
            )
            await tx.execute(
                "INSERT INTO member_reaction_days (guild_id, day, user_id, reactions) "
                "SELECT guild_id, day - ?, user_id, reactions FROM member_reaction_days "
                "WHERE guild_id = ? AND day >= ? AND day < ?",
                (shift, *month),
            )
        for stem, keys in (("reaction", "section_id, quote_id"), ("member_reaction", "user_id")):
            await tx.execute(
                f"DELETE FROM {stem}_weeks WHERE guild_id = ? AND week < ?", (GUILD_ID, sealed)
            )
            await tx.execute(
                f"INSERT INTO {stem}_weeks (guild_id, week, {keys}, reactions) "
                f"SELECT guild_id, day / 7, {keys}, sum(reactions) FROM {stem}_days "
                f"WHERE guild_id = ? AND day < ? GROUP BY guild_id, day / 7, {keys}",
                (GUILD_ID, sealed * 7),
            )
    if db.backend == "postgresql":  # as its autovacuum would; SQLite's is the bot's own chore
        await db.write(f"VACUUM ANALYZE {', '.join(COUNT_TABLES)}")
    return {
        "days": await db.fetchval(
            "SELECT count(DISTINCT day) FROM reaction_days WHERE guild_id = ?", (GUILD_ID,)
        ),
        "weekly_rows": await db.fetchval(
            "SELECT count(*) FROM member_reaction_weeks WHERE guild_id = ?", (GUILD_ID,)
        )
        + await db.fetchval("SELECT count(*) FROM reaction_weeks WHERE guild_id = ?", (GUILD_ID,)),
        "quarters": await db.fetchval(
            "SELECT count(DISTINCT quarter) FROM reaction_quarters WHERE guild_id = ?", (GUILD_ID,)
        ),
    }


def year_weeks() -> int:
    """Whole weeks of the year the club's year reads (since 1 January, UTC): the quarters it can
    read depend on the day the benchmark runs."""
    now = datetime.now(UTC)
    return (now - datetime(now.year, 1, 1, tzinfo=UTC)).days // 7
