"""What the community's reactions, quotes and ratings add up to."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from bot.db import Database, in_turn
from bot.essays.library import EssayInfo
from bot.reactions.counts import Period, counted_rows
from bot.reactions.recorder import DAY, ReactionRecorder

LEADERS = 5  # sections, quotes and members named by /stats server
# Days from which `/stats server` counts a period's quotes per saver before ranking the members,
# in saver order on SQLite (migration 0033): the benchmark's year of quotes, 60 days by time 13.9
# ms, in saver order 9.6; 45 days 8.3 and 9.4.
SAVERS_IN_ORDER_FROM = 60


@dataclass
class SectionStats:
    position: int
    heading: str
    reactions: int = 0
    by_emoji: dict[str, int] = field(default_factory=dict)
    quotes: int = 0
    prompt_reactions: int = 0

    @property
    def score(self) -> int:
        return self.reactions + self.quotes


@dataclass(frozen=True)
class MemberStats:
    quotes_saved: int
    quoted: int
    reactions_given: int
    takes: int
    weeks_joined: int


@dataclass(frozen=True)
class ServerStats:
    reactions: int
    quotes: int
    ratings: int
    members: int
    top_sections: list[tuple[str, str, int]]
    top_quotes: list[tuple[int, str, int]]
    top_members: list[tuple[int, int]]


class Stats:
    """Reads what other features own: reactions through the recorder, the rest by query."""

    def __init__(self, db: Database, recorder: ReactionRecorder) -> None:
        self.db = db
        self.recorder = recorder

    async def emoji_names(self) -> dict[str, str]:
        rows = await self.db.fetchall("SELECT key, display FROM emojis")
        return {row[0]: row[1] for row in rows}

    async def essay(self, essay: EssayInfo, guild_id: int) -> list[SectionStats]:
        stats = {s.id: SectionStats(s.position, s.heading) for s in essay.sections}
        for section_id, kind, emoji, count in await self.recorder.by_section(essay.id, guild_id):
            entry = stats.get(section_id)
            if entry is None:
                continue
            entry.reactions += count
            entry.by_emoji[emoji] = entry.by_emoji.get(emoji, 0) + count
            if kind == "prompt":
                entry.prompt_reactions += count
        quote_rows = await self.db.fetchall(
            "SELECT section_id, count(*) FROM quotes WHERE essay_id = ? AND guild_id = ? "
            "GROUP BY section_id",
            (essay.id, guild_id),
        )
        for section_id, count in quote_rows:
            if section_id in stats:
                stats[section_id].quotes += count
        return [stats[s.id] for s in essay.sections]

    async def member(self, guild_id: int, user_id: int) -> MemberStats:
        async def one(sql: str, *params: int) -> int:
            return int(await self.db.fetchval(sql, params) or 0)

        return MemberStats(
            quotes_saved=await one(
                "SELECT count(*) FROM quotes WHERE guild_id = ? AND saved_by = ?", guild_id, user_id
            ),
            quoted=await one(
                "SELECT count(*) FROM quotes WHERE guild_id = ? AND author_id = ?",
                guild_id,
                user_id,
            ),
            reactions_given=await self.recorder.given(guild_id, user_id),
            takes=await one(
                "SELECT count(*) FROM viewings r JOIN weeks w ON w.id = r.week_id "
                "WHERE w.guild_id = ? AND r.user_id = ? AND r.review IS NOT NULL",
                guild_id,
                user_id,
            ),
            weeks_joined=await one(
                "SELECT count(DISTINCT r.week_id) FROM viewings r JOIN weeks w ON w.id = r.week_id "
                "WHERE w.guild_id = ? AND r.user_id = ?",
                guild_id,
                user_id,
            ),
        )

    async def server(self, guild_id: int, since: int) -> ServerStats:
        # Every ranking is made by the database and only its leaders are read: a period holds
        # thousands of sections, quotes and members, whose rows cost more to bring into Python
        # than to count. The reads are asked at once and run two at a time (`query_parts`), the
        # members' ranking, the longest, first: on PostgreSQL on connections of the pool, on
        # SQLite on its two readers. The members' and the sections' counts are read for one
        # period. On a PostgreSQL server on the bot's two cores, all five at once took 40.4-41.7
        # ms p50 (p95 50.9-55.3) against 37.4-38.4 (47.0-48.1) two at a time (four processes of
        # 120 calls each way, alternating).
        period = await self.recorder.period(guild_id, since)
        turn = in_turn(self.db.query_parts)
        involved, top_sections, top_quotes, quotes, ratings = await asyncio.gather(
            turn(lambda: self._involved(guild_id, since, period)),
            turn(lambda: self.recorder.leading(guild_id, since, "section", LEADERS, period=period)),
            turn(lambda: self.recorder.leading(guild_id, since, "quote", LEADERS)),
            turn(
                lambda: self.db.fetchval(
                    "SELECT count(*) FROM quotes WHERE guild_id = ? AND saved_at >= ?",
                    (guild_id, since),
                )
            ),
            turn(
                lambda: self.db.fetchval(
                    "SELECT count(*) FROM viewings r JOIN weeks w ON w.id = r.week_id "
                    "WHERE w.guild_id = ? AND r.logged_at >= ?",
                    (guild_id, since),
                )
            ),
        )
        members, reactions, top_members = involved
        names, texts = await asyncio.gather(
            self._in(
                "SELECT s.id, e.title, s.heading FROM sections s "
                "JOIN essays e ON e.id = s.essay_id WHERE s.id IN ({})",
                top_sections,
            ),
            self._in(
                "SELECT id, number, text FROM quotes WHERE guild_id = ? AND id IN ({})",
                top_quotes,
                guild_id,
            ),
        )
        return ServerStats(
            reactions=reactions,
            quotes=quotes,
            ratings=ratings,
            members=members,
            top_sections=[(*names[i], n) for i, n in top_sections if i in names],
            top_quotes=[(*texts[i], n) for i, n in top_quotes if i in texts],
            top_members=top_members,
        )

    async def _involved(
        self, guild_id: int, since: int, period: Period
    ) -> tuple[int, int, list[tuple[int, int]]]:
        """How many members reacted, saved a quote or rated a week's film since `since`, how
        many reactions they gave, and the LEADERS most involved (reactions, quotes and ratings
        added up; the lower id first among equals). The reactions come from each member's counts
        of `period` (its days from that of `since`, bot/reactions/counts.py). Their sum is every
        reaction the server's posts got in it, as the posts' counts are kept from the same
        reactions: the sections' ranking then reads the rows of posts showing a section alone
        (with every post's row read for the total, it took 16.0 ms on SQLite against 11.6)."""
        given, given_params = counted_rows(
            "member_reaction", "user_id", guild_id, period, also="given"
        )
        # The period's quotes read by time (quotes_saved), a row each, added up by the ranking's
        # own grouping: grouped apart first, they were sorted twice on SQLite and hashed twice
        # on PostgreSQL (the benchmark's month, 8,400 quotes: the ranking 24.2-24.8 → 23.0-23.8
        # ms p50 on SQLite, 25.5-37.2 → 23.9-34.2 on PostgreSQL). A long period's are counted
        # per saver first, as they outnumber the members' rows.
        where = "WHERE guild_id = ? AND saved_at >= ?"
        saved = f"saved_by, 1, 0 FROM quotes {where}"
        if self.recorder.clock() - since >= SAVERS_IN_ORDER_FROM * DAY:
            # On SQLite, which groups them by sorting, read in saver order (migration 0033).
            source = "quotes INDEXED BY quotes_saver" if self.db.backend == "sqlite" else "quotes"
            saved = f"saved_by, CAST(count(*) AS INTEGER), 0 FROM {source} {where} GROUP BY 1"
        rows = await self.db.fetchall(
            "WITH involved AS MATERIALIZED (SELECT user_id, CAST(sum(n) AS BIGINT) AS n, "
            f"CAST(sum(given) AS BIGINT) AS given FROM ({given} "
            # Counted as `integer`, like the reactions' counts: PostgreSQL sums `bigint` as
            # `numeric` (the ranking 16.2 → 14.6 ms p50 on the benchmark's community).
            f"UNION ALL SELECT {saved} "
            "UNION ALL SELECT r.user_id, CAST(count(*) AS INTEGER), 0 FROM viewings r "
            "JOIN weeks w ON w.id = r.week_id WHERE w.guild_id = ? AND r.logged_at >= ? "
            "GROUP BY r.user_id) every GROUP BY user_id HAVING sum(n) > 0) "
            "SELECT 0, 0, count(*), coalesce(sum(given), 0) FROM involved UNION ALL "
            "SELECT * FROM (SELECT 1, user_id, n, 0 FROM involved ORDER BY n DESC, user_id "
            "LIMIT ?) leaders",
            (*given_params, guild_id, since, guild_id, since, LEADERS),
        )
        members, reactions = next((int(r[2]), int(r[3])) for r in rows if r[0] == 0)
        leaders = sorted(((row[1], int(row[2])) for row in rows if row[0] == 1), key=by_count)
        return members, reactions, leaders

    async def _in(
        self, sql: str, ranked: list[tuple[int, int]], *params: int
    ) -> dict[int, tuple[Any, ...]]:
        """Rows by id for the ids of `ranked`, the id first in each row."""
        if not ranked:
            return {}
        ids = [i for i, _ in ranked]
        rows = await self.db.fetchall(sql.format(", ".join("?" * len(ids))), (*params, *ids))
        return {row[0]: tuple(row[1:]) for row in rows}


def by_count(item: tuple[int, int]) -> tuple[int, int]:
    """(id, count) pairs the largest count first, the lower id first among equals."""
    return -item[1], item[0]
