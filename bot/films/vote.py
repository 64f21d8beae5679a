"""Nominations and polls as data: members nominate films, a moderator closes the round into a
Discord poll, and its result (a winner, a tie's runoff, no votes) is recorded and announced. The
posts a poll owes are jobs (see bot/jobs.py). Ids and values in, rows out; nothing here talks
to Discord."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.db import Database, Row, Tx, rows_as_dicts
from bot.errors import UserError
from bot.jobs import Jobs
from bot.members import Forgotten
from bot.text import NamesAFilm, film_line, fold, literal

MAX_NOMINATIONS_PER_MEMBER = 3
POLL_ANSWERS = 10
# Posts a poll owes (see bot/jobs.py).
POLL = "poll"
POLL_CLOSE = "poll_close"
POLL_RESULT = "poll_result"
POLL_GRACE = 5  # seconds after a poll's end before its result is read


@dataclass(frozen=True)
class Nomination(NamesAFilm):
    id: int
    title: str
    year: int | None
    nominators: int


@dataclass(frozen=True)
class Poll:
    id: int
    guild_id: int
    channel_id: int
    message_id: int | None
    hours: int
    ends_at: int
    ended_at: int | None
    answers: list[int]  # nomination ids, in the order of the poll's answers
    outcome: str | None
    winner_title: str | None
    winner_year: int | None
    runoff_of: int | None = None
    runoff_hours: int | None = None  # a tie's runoff: this long, or as long as this poll

    @classmethod
    def from_row(cls, row: Row) -> Poll:
        return cls(
            row["id"],
            row["guild_id"],
            row["channel_id"],
            row["message_id"],
            row["hours"] or 24,
            row["ends_at"],
            row["ended_at"],
            json.loads(row["answers"] or "[]"),
            row["outcome"],
            row["winner_title"],
            row["winner_year"],
            row["runoff_of"],
            row["runoff_hours"],
        )


class Vote:
    def __init__(self, db: Database, jobs: Jobs) -> None:
        self.db = db
        self.jobs = jobs

    async def nominate(
        self, guild_id: int, user_id: int, title: str, year: int | None, now: int
    ) -> tuple[Nomination, bool]:
        """Nominate a film; the same title (and year) merges. Returns it and whether it merged.
        The checks and the write are one transaction: two members nominating one film at once
        make one nomination, and a member's fourth at once is refused."""
        key = fold(title)
        async with self.db.transaction(guild_id) as tx:
            mine = await tx.fetchval(
                "SELECT count(*) FROM nominators n JOIN nominations m ON m.id = n.nomination_id "
                "WHERE m.guild_id = ? AND m.poll_id IS NULL AND m.closed_at IS NULL "
                "AND n.user_id = ? AND n.created_at > "
                "coalesce((SELECT max(created_at) FROM polls WHERE guild_id = ?), 0)",
                (guild_id, user_id, guild_id),
            )
            rows = await tx.fetchall(
                "SELECT id, title, year FROM nominations WHERE guild_id = ? AND poll_id IS NULL "
                "AND closed_at IS NULL AND title_key = ? ORDER BY id",
                (guild_id, key),
            )
            same = [r for r in rows if year is None or r["year"] in (None, year)]
            existing = next((r for r in same if r["year"] == year), same[0] if same else None)
            if existing is not None and await tx.fetchone(
                "SELECT 1 FROM nominators WHERE nomination_id = ? AND user_id = ?",
                (existing["id"], user_id),
            ):
                line = film_line(existing["title"], existing["year"])
                raise UserError(f"You already nominated **{literal(line)}**.")
            if mine >= MAX_NOMINATIONS_PER_MEMBER:
                raise UserError(
                    f"You have nominated {MAX_NOMINATIONS_PER_MEMBER} films already this round; "
                    "the next poll starts a new one."
                )
            if existing is None:
                nomination_id = await tx.fetchval(
                    "INSERT INTO nominations (guild_id, title, title_key, year, created_at) "
                    "VALUES (?, ?, ?, ?, ?) RETURNING id",
                    (guild_id, title, key, year, now),
                )
            else:
                nomination_id = existing["id"]
                if existing["year"] is None and year is not None:
                    await tx.execute(
                        "UPDATE nominations SET year = ? WHERE id = ?", (year, nomination_id)
                    )
            await tx.execute(
                "INSERT INTO nominators (nomination_id, user_id, created_at) VALUES (?, ?, ?)",
                (nomination_id, user_id, now),
            )
        return await self.nomination(nomination_id), existing is not None

    async def guild_of_poll(self, poll_id: int) -> int | None:
        """The server of a poll (it never changes: read before its server's lock is taken)."""
        guild_id: int | None = await self.db.fetchval(
            "SELECT guild_id FROM polls WHERE id = ?", (poll_id,)
        )
        return guild_id

    async def nomination(self, nomination_id: int) -> Nomination:
        row = await self.db.one(
            "SELECT m.id, m.title, m.year, count(n.user_id) FROM nominations m "
            "LEFT JOIN nominators n ON n.nomination_id = m.id WHERE m.id = ? GROUP BY m.id",
            (nomination_id,),
        )
        return Nomination(*row)

    async def open_nominations(self, guild_id: int) -> list[Nomination]:
        rows = await self.db.fetchall(
            "SELECT m.id, m.title, m.year, count(n.user_id) AS c FROM nominations m "
            "LEFT JOIN nominators n ON n.nomination_id = m.id "
            "WHERE m.guild_id = ? AND m.poll_id IS NULL AND m.closed_at IS NULL "
            "GROUP BY m.id, m.left_out HAVING count(n.user_id) > 0 "
            "ORDER BY m.left_out DESC, c DESC, m.id",
            (guild_id,),
        )
        return [Nomination(*row) for row in rows]

    async def create_poll(
        self,
        guild_id: int,
        channel_id: int,
        created_by: int,
        now: int,
        hours: int,
        nominations: list[Nomination],
        *,
        left_out: list[Nomination] | None = None,
        runoff_hours: int | None = None,
        interest: list[str] | None = None,
    ) -> tuple[int, int]:
        """Close the round of nominations into a poll and owe its post, in one transaction; the
        answers' order is kept for reading the result. Nominations `left_out` (a poll holds
        ten) go first next time; `interest` is what the post says of the films (members who
        want them and who have seen them), as it was when the poll was started. Returns (poll
        id, job id)."""
        left_out = left_out or []
        async with self.jobs.transaction(guild_id) as tx:
            marks = ", ".join("?" for _ in nominations)
            if await tx.fetchval(
                f"SELECT count(*) FROM nominations WHERE id IN ({marks}) AND poll_id IS NULL "
                "AND closed_at IS NULL",
                [n.id for n in nominations],
            ) != len(nominations):
                raise UserError("A poll of these nominations was just started.")
            poll_id = await tx.fetchval(
                "INSERT INTO polls (guild_id, channel_id, created_by, created_at, ends_at, hours, "
                "answers, runoff_hours) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    guild_id,
                    channel_id,
                    created_by,
                    now,
                    now + hours * 3600,
                    hours,
                    json.dumps([n.id for n in nominations]),
                    runoff_hours,
                ),
            )
            await tx.executemany(
                "UPDATE nominations SET poll_id = ?, left_out = 0 WHERE id = ?",
                [(poll_id, n.id) for n in nominations],
            )
            await tx.executemany(
                "UPDATE nominations SET left_out = left_out + 1 WHERE id = ?",
                [(n.id,) for n in left_out],
            )
            job_id = await self.jobs.owe(
                tx,
                guild_id=guild_id,
                kind=POLL,
                poll_id=poll_id,
                payload={
                    "left_out": [n.film_line for n in left_out],
                    "interest": interest or [],
                },
            )
        return poll_id, job_id

    async def abandon_poll(self, poll_id: int) -> None:
        """Undo a poll Discord refused for good: its nominations are open again."""
        async with self.db.transaction(await self.guild_of_poll(poll_id)) as tx:
            await tx.execute("UPDATE nominations SET poll_id = NULL WHERE poll_id = ?", (poll_id,))
            await drop_unnominated(tx)
            await self.jobs.drop(tx, poll_id=poll_id)
            await tx.execute("DELETE FROM polls WHERE id = ?", (poll_id,))

    @staticmethod
    async def reopen_poll(tx: Tx, poll_id: int, now: int) -> None:
        """A poll that could not be posted gives its nominations back to the next one."""
        await tx.execute(
            "UPDATE nominations SET poll_id = NULL WHERE poll_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM polls WHERE id = ? AND message_id IS NOT NULL)",
            (poll_id, poll_id),
        )
        await tx.execute(
            "UPDATE polls SET ended_at = ?, outcome = 'not posted' WHERE id = ? "
            "AND message_id IS NULL",
            (now, poll_id),
        )
        await drop_unnominated(tx)

    async def poll_of_message(self, message_id: int) -> Poll | None:
        """The open poll posted as this message, if it is one."""
        row = await self.db.fetchone(
            "SELECT * FROM polls WHERE message_id = ? AND ended_at IS NULL", (message_id,)
        )
        return Poll.from_row(row) if row else None

    async def poll_deleted(self, poll_id: int, now: int, outcome: str = "deleted") -> bool:
        """A poll whose message is gone ends its round: its nominations are open again (those
        with no nominator left are dropped) and nothing more is owed for it. False if it had
        ended already."""
        async with self.jobs.transaction(await self.guild_of_poll(poll_id)) as tx:
            ended = await tx.execute(
                "UPDATE polls SET ended_at = ?, outcome = ? WHERE id = ? AND ended_at IS NULL",
                (now, outcome, poll_id),
            )
            if ended != 1:
                return False
            await tx.execute("UPDATE nominations SET poll_id = NULL WHERE poll_id = ?", (poll_id,))
            await drop_unnominated(tx)
            await tx.execute(
                "UPDATE jobs SET done_at = ? WHERE poll_id = ? AND done_at IS NULL "
                "AND given_up_at IS NULL",
                (now, poll_id),
            )
        return True

    async def poll_posted(self, poll: Poll, message_id: int, now: int) -> None:
        """The poll is up: when it ends (counted from now, as Discord does) its result is owed."""
        ends_at = now + poll.hours * 3600
        async with self.jobs.transaction(poll.guild_id) as tx:
            await tx.execute(
                "UPDATE polls SET message_id = ?, ends_at = ? WHERE id = ?",
                (message_id, ends_at, poll.id),
            )
            await self.jobs.owe(
                tx,
                guild_id=poll.guild_id,
                kind=POLL_CLOSE,
                poll_id=poll.id,
                key=f"poll_close:{poll.id}",
                due_at=ends_at + POLL_GRACE,
            )

    async def poll(self, poll_id: int) -> Poll | None:
        row = await self.db.fetchone("SELECT * FROM polls WHERE id = ?", (poll_id,))
        return Poll.from_row(row) if row else None

    async def open_poll(self, guild_id: int) -> Poll | None:
        row = await self.db.fetchone(
            "SELECT * FROM polls WHERE guild_id = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1",
            (guild_id,),
        )
        return Poll.from_row(row) if row else None

    async def finish_poll(
        self,
        poll: Poll,
        outcome: str,
        winner: Nomination | None,
        now: int,
        *,
        votes: int = 0,
        tied: list[Nomination] | None = None,
    ) -> bool:
        """Record how the poll ended and owe the announcement, in one transaction; False if it
        had already been finished. A tie is settled by a runoff of the tied films, as long as
        the first poll (a runoff that ties too is left to the moderators); every other
        nomination carries over to the next round with its nominators."""
        tied = tied or []
        async with self.jobs.transaction(poll.guild_id) as tx:
            finished = (
                await tx.execute(
                    "UPDATE polls SET ended_at = ?, outcome = ?, winner_title = ?, winner_year = ? "
                    "WHERE id = ? AND ended_at IS NULL",
                    (
                        now,
                        outcome,
                        winner.title if winner else None,
                        winner.year if winner else None,
                        poll.id,
                    ),
                )
            ) == 1
            if not finished:
                return False
            runoff = outcome == "tie" and poll.runoff_of is None
            runoff_hours = poll.runoff_hours or poll.hours
            runoff_ends = now + runoff_hours * 3600 if runoff else None
            # The announcement first, then the runoff it announces.
            await self.jobs.owe(
                tx,
                guild_id=poll.guild_id,
                kind=POLL_RESULT,
                poll_id=poll.id,
                payload={
                    "votes": votes,
                    "tied": [n.film_line for n in tied],
                    "runoff_ends": runoff_ends,
                },
            )
            await tx.execute("UPDATE nominations SET poll_id = NULL WHERE poll_id = ?", (poll.id,))
            if runoff:
                runoff_id = await tx.fetchval(
                    "INSERT INTO polls (guild_id, channel_id, created_at, ends_at, hours, answers, "
                    "runoff_of) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        poll.guild_id,
                        poll.channel_id,
                        now,
                        runoff_ends,
                        runoff_hours,
                        json.dumps([n.id for n in tied]),
                        poll.id,
                    ),
                )
                await tx.executemany(
                    "UPDATE nominations SET poll_id = ? WHERE id = ?",
                    [(runoff_id, n.id) for n in tied],
                )
                await self.jobs.owe(
                    tx,
                    guild_id=poll.guild_id,
                    kind=POLL,
                    poll_id=runoff_id,
                    payload={"left_out": []},
                )
            await drop_unnominated(tx)
        return True

    async def nominations_by_id(self, ids: list[int]) -> dict[int, Nomination]:
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = await self.db.fetchall(
            "SELECT m.id, m.title, m.year, count(n.user_id) FROM nominations m "
            f"LEFT JOIN nominators n ON n.nomination_id = m.id WHERE m.id IN ({marks}) "
            "GROUP BY m.id",
            ids,
        )
        return {row[0]: Nomination(*row) for row in rows}

    async def suggested_titles(self, guild_id: int) -> list[tuple[str, int | None, bool]]:
        """For `/film start`: (title, year, is the last poll's winner), the winner first unless
        a week started since, then the open nominations."""
        suggestions: list[tuple[str, int | None, bool]] = []
        winner = await self.db.fetchone(
            "SELECT winner_title, winner_year, created_at, ended_at FROM polls WHERE guild_id = ? "
            "AND winner_title IS NOT NULL ORDER BY ended_at DESC LIMIT 1",
            (guild_id,),
        )
        if winner is not None:
            # Any week since the poll ended, or this film's own week started while it ran.
            started = await self.db.fetchall(
                "SELECT title, started_at FROM weeks WHERE guild_id = ? AND started_at >= ?",
                (guild_id, winner["created_at"]),
            )
            started_since = any(
                row["started_at"] >= winner["ended_at"]
                or fold(row["title"]) == fold(winner["winner_title"])
                for row in started
            )
            if not started_since:
                suggestions.append((winner["winner_title"], winner["winner_year"], True))
        offered = {(title, year) for title, year, _ in suggestions}
        for nomination in await self.open_nominations(guild_id):
            if (nomination.title, nomination.year) not in offered:
                suggestions.append((nomination.title, nomination.year, False))
        return suggestions

    # --- members' data (see bot/members.py) -------------------------------------------

    MEMBER_TABLES = frozenset({"nominations", "nominators", "polls"})

    async def forget_member(self, tx: Tx, user_id: int, forgotten: Forgotten) -> None:
        """The member's nominations, and their name on the polls they started."""
        forgotten.counts["nominations"] = await tx.execute(
            "DELETE FROM nominators WHERE user_id = ?", (user_id,)
        )
        # A nomination in a running poll stays its answer until the poll ends (the poll's
        # answers cannot change under its voters); then it is dropped.
        await drop_unnominated(tx)
        await tx.execute("UPDATE polls SET created_by = NULL WHERE created_by = ?", (user_id,))

    async def export_member(self, user_id: int) -> dict[str, Any]:
        nominations = await self.db.fetchall(
            "SELECT m.guild_id, m.title, m.year, n.created_at FROM nominators n "
            "JOIN nominations m ON m.id = n.nomination_id WHERE n.user_id = ?",
            (user_id,),
        )
        return {"nominations": rows_as_dicts(nominations)}

    async def export_guild(self, guild_id: int) -> dict[str, Any]:
        return {}


async def drop_unnominated(tx: Tx) -> None:
    """Nominations no member stands behind any more (each nominator used forget-me), unless a
    running poll holds them as answers."""
    await tx.execute(
        "DELETE FROM nominations WHERE poll_id IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM nominators n WHERE n.nomination_id = nominations.id)"
    )


async def close_nominations(tx: Tx, guild_id: int, title: str, now: int) -> None:
    """A film whose week starts is no longer an open nomination. Closed even while a poll holds
    it: the poll runs on, fair to its voters, and the film does not come back after it."""
    await tx.execute(
        "UPDATE nominations SET closed_at = ? WHERE guild_id = ? AND title_key = ? "
        "AND closed_at IS NULL",
        (now, guild_id, fold(title)),
    )
