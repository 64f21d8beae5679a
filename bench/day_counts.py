"""What PostgreSQL's daily counts cost a reaction batch: batches of 2,000 reactions (5,000
members over 30,000 posts) committed by the recorder on a throwaway server, with the counts
upserted in each batch (migrations up to 0022), noted in each batch and folded every 1, 5 and 15
batches (0023), and with no counts at all.

    python -m bench.day_counts [--batches 30]

Each line gives the median time of a batch's commit and of the fold's share per batch.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bot.db import migrations_in
from bot.postgres import PostgresDatabase
from bot.reactions.recorder import ReactionRecorder

POSTS, BATCH, MEMBERS = 30_000, 2_000, 5_000
NOTED = 23  # the migration that notes the counts instead of upserting them
EMOJI = ["🎬", "🔥", "❤️", "👍", "😢", "🍿", "👀", "🎭"]  # each post's member reacts anew


async def measure(url: str, upto: int, batches: int, fold_every: int, counted: bool = True):
    """(median commit ms, median fold ms per batch) of `batches` batches."""
    db = await PostgresDatabase.open(url, [m for m in migrations_in("postgresql") if m[0] <= upto])
    recorder = ReactionRecorder(db, clock=lambda: 1_000_000.0, max_delay=3600, merge_idle=3600)
    recorder.merge_max_age = recorder.merge_rows = 10**9  # merged here only
    if upto < NOTED:

        async def nothing_to_fold() -> bool:
            return False

        recorder.store.merge = nothing_to_fold  # type: ignore[method-assign]
    try:
        async with db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO tracked_messages (message_id, guild_id, channel_id, kind, essay_id, "
                "section_id, created_at) VALUES (?, 9, 5, 'section', 1, ?, 1000)",
                [(post, post % 9_000 + 1) for post in range(1, POSTS + 1)],
            )
            if not counted:
                await tx.execute("ALTER TABLE reactions DISABLE TRIGGER reactions_counted")
        recorder.tracked = set(range(1, POSTS + 1))
        commits, folds = [], []
        for number in range(batches):
            for i in range(BATCH):
                n = number * BATCH + i
                recorder.add(n % POSTS + 1, (n * 7919) % MEMBERS + 1, EMOJI[n // POSTS])
            started = time.perf_counter()
            await recorder.commit()
            commits.append((time.perf_counter() - started) * 1000)
            if upto >= NOTED and (number + 1) % fold_every == 0:
                started = time.perf_counter()
                await recorder.store.merge()
                folds.append((time.perf_counter() - started) * 1000 / fold_every)
        return statistics.median(commits), statistics.median(folds) if folds else 0.0
    finally:
        await recorder.close()
        await db.close()


async def run(batches: int) -> None:
    from tests.postgres_server import PostgresServer, unavailable

    if reason := unavailable():
        print(reason)
        return
    server = PostgresServer().start()
    try:
        commit, _ = await measure(server.create_database("upserted"), NOTED - 1, batches, 1)
        print(f"counts upserted in the batch (0021): commit {commit:.1f} ms")
        for every in (1, 5, 15):
            url = server.create_database(f"noted{every}")
            commit, fold = await measure(url, NOTED, batches, every)
            notes = every * BATCH
            print(
                f"counts noted (0023), folded every {every} batches: commit {commit:.1f} ms, "
                f"fold {fold:.1f} ms a batch ({fold * 1000 / BATCH:.1f} µs a note, "
                f"{notes:,} notes a fold)"
            )
        commit, _ = await measure(server.create_database("uncounted"), NOTED, batches, 1, False)
        print(f"no counts: commit {commit:.1f} ms")
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=60)
    args = parser.parse_args()
    if args.batches > len(EMOJI) * POSTS // BATCH:
        parser.error(f"at most {len(EMOJI) * POSTS // BATCH} batches (each reaction is new)")
    asyncio.run(run(args.batches))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
