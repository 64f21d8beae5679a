"""Members' data across features. Each feature answers for the tables it owns that hold a
member's or a server's id (`MEMBER_TABLES`): it forgets a member, exports a member, exports a
server. The coordinator runs every part: forgetting in one transaction, so nothing of the member
is left half-deleted. A test reads the schema and fails on a table no part covers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from bot.db import Tx
from bot.jobs import Jobs
from bot.locks import lock_member, lock_servers
from bot.reactions.recorder import ReactionRecorder

# The servers where a member rated or nominated: the writes there that check what they did.
SERVERS_OF_MEMBER = (
    "SELECT w.guild_id FROM viewings r JOIN weeks w ON w.id = r.week_id WHERE r.user_id = ? "
    "UNION SELECT m.guild_id FROM nominators n JOIN nominations m ON m.id = n.nomination_id "
    "WHERE n.user_id = ?"
)


@dataclass
class Forgotten:
    """What forgetting took away, by kind, and the jobs it owes Discord (posts to remove)."""

    counts: dict[str, int] = field(default_factory=dict)
    jobs: list[int] = field(default_factory=list)


class MemberData(Protocol):
    @property
    def MEMBER_TABLES(self) -> frozenset[str]: ...

    async def forget_member(self, tx: Tx, user_id: int, forgotten: Forgotten) -> None: ...

    async def export_member(self, user_id: int) -> dict[str, Any]: ...

    async def export_guild(self, guild_id: int) -> dict[str, Any]: ...


class Members:
    MEMBER_TABLES: ClassVar[frozenset[str]] = frozenset({"forgotten_members"})

    def __init__(self, jobs: Jobs, recorder: ReactionRecorder, parts: list[MemberData]) -> None:
        self.jobs = jobs
        self.recorder = recorder
        self.parts = parts

    @property
    def covered(self) -> frozenset[str]:
        """Every table some part answers for."""
        return self.MEMBER_TABLES.union(*(part.MEMBER_TABLES for part in self.parts))

    async def forget(self, user_id: int, now: int) -> Forgotten:
        """Every feature's part in one transaction; the fact that the member asked is kept, so
        reconciliation never brings back a reaction they gave before (Discord still shows it)."""
        await self.recorder.flush()  # events received so far are in `reactions`, and go too
        forgotten = Forgotten()
        servers = await self.jobs.db.fetchall(SERVERS_OF_MEMBER, (user_id, user_id))
        async with self.jobs.transaction() as tx:
            # What each server's writes check about the member (a take to remove, a nomination)
            # holds while it is forgotten; a server they act in meanwhile has their newer data.
            await lock_member(tx, user_id)
            await lock_servers(tx, [row[0] for row in servers])
            for part in self.parts:
                await part.forget_member(tx, user_id, forgotten)
            await tx.execute(
                "INSERT INTO forgotten_members (user_id, forgotten_at) VALUES (?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET forgotten_at = excluded.forgotten_at",
                (user_id, now),
            )
        return forgotten

    async def export_member(self, user_id: int) -> dict[str, Any]:
        data: dict[str, Any] = {"member_id": user_id}
        for part in self.parts:
            data.update(await part.export_member(user_id))
        return data

    async def export_guild(self, guild_id: int) -> dict[str, Any]:
        data: dict[str, Any] = {"guild_id": guild_id}
        for part in self.parts:
            data.update(await part.export_guild(guild_id))
        return data
