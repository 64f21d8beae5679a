"""Which writes wait for which, on PostgreSQL. Every invariant the bot checks before it writes is
one server's (one running week, the next prompt's number, three nominations) or one member's (an
opt-out toggled): a write transaction takes the lock of its server, and waits only for writers of
that server; reads, heartbeats and the record of a post take none. On SQLite one writer runs at a
time anyway, and nothing here applies.

The keys are exact, so two servers never share a lock: a server's is PostgreSQL's two-key
advisory lock on its id's high and low 32 bits (the two-key space holds servers alone); a
member's is the one-key lock on their id, whose space otherwise holds only the small constants
of bot/postgres.py, below any Discord id (an id is at least 2**32 from 1.024 s after Discord's
epoch on).

A process also keeps its own writers from holding the connections readers need (`WriterGate`):
the writers of one server queue in the process, not on the database, so at most one connection
per server waits for that server's lock, and writers together hold at most all but a few of the
pool's connections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

SERVER_LOCK = "SELECT pg_advisory_xact_lock(?, ?)"
MEMBER_LOCK = "SELECT pg_advisory_xact_lock(?)"
# Connections of the pool no writer may take: what reads are always answered on.
READ_RESERVE = 3


def _int4(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def server_key(guild_id: int) -> tuple[int, int]:
    """The two 32-bit keys of a server's lock: its id's high and low halves (signed)."""
    return _int4((guild_id >> 32) & 0xFFFF_FFFF), _int4(guild_id & 0xFFFF_FFFF)


async def lock_servers(tx: Any, guild_ids: Iterable[int]) -> None:
    """Take the locks of several servers in the caller's transaction, before any write: in
    increasing order, so two such transactions never wait for each other in a circle (a
    transaction of one server takes one lock, before its first write)."""
    if tx.backend != "postgresql":
        return
    for guild_id in sorted(set(guild_ids)):
        await tx.fetchall(SERVER_LOCK, server_key(guild_id))


async def lock_member(tx: Any, user_id: int) -> None:
    """Take a member's lock in the caller's transaction (what only that member's own commands
    check, across servers)."""
    if tx.backend == "postgresql":
        await tx.fetchall(MEMBER_LOCK, (user_id,))


class WriterGate:
    """Where a process's write transactions wait before they take a connection: behind the
    writer of the same server in this process, then for one of `size` writer slots."""

    def __init__(self, pool_size: int) -> None:
        self.slots = asyncio.Semaphore(max(1, pool_size - READ_RESERVE))
        self._servers: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    @asynccontextmanager
    async def enter(self, guild_id: int | None) -> AsyncIterator[None]:
        if guild_id is None:
            async with self.slots:
                yield
            return
        lock = self._servers.setdefault(guild_id, asyncio.Lock())
        self._waiting[guild_id] = self._waiting.get(guild_id, 0) + 1
        try:
            async with lock, self.slots:
                yield
        finally:
            self._waiting[guild_id] -= 1
            if not self._waiting[guild_id]:  # the last writer of the server forgets its lock
                del self._waiting[guild_id], self._servers[guild_id]
