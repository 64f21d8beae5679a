"""What `kill -9` loses of a reaction storm: the bot's recorder fed at a steady rate in a child
process, killed at a random moment, its database read afterwards.

    python -m bench.crash [--kills 12] [--rate 2000]

For each kill it prints how old the oldest lost event was when the process died (every event
older than that was committed), and the largest of them at the end: the bound the README states.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POSTS = 100
FIRST_MEMBER = 10_000  # event i is member FIRST_MEMBER + i reacting, so each event is its own row


async def child(db_path: Path, rate: int) -> None:
    from bot.reactions.recorder import ReactionRecorder, Tracked
    from bot.sqlite import SqliteDatabase

    db = await SqliteDatabase.open(db_path)
    recorder = ReactionRecorder(db, clock=time.time)
    await recorder.load()
    for message_id in range(1, POSTS + 1):
        await recorder.track(Tracked(message_id, 1, 1, "section"), 0)
    start = time.time()
    print(json.dumps({"start": start}), flush=True)
    fed = 0
    while True:
        now = time.time()
        while start + fed / rate <= now:  # every event due by now, as the gateway would hand it
            recorder.add(1 + fed % POSTS, FIRST_MEMBER + fed, "🎬")
            fed += 1
        await asyncio.sleep(0.002)


def stored_members(db_path: Path) -> set[int]:
    conn = sqlite3.connect(db_path)
    try:
        merged = {row[0] for row in conn.execute("SELECT user_id FROM reactions")}
        logged = {row[0] for row in conn.execute("SELECT user_id FROM reaction_log_events")}
    finally:
        conn.close()
    return {m - FIRST_MEMBER for m in merged | logged if m >= FIRST_MEMBER}


def one_kill(rate: int, rng: random.Random) -> tuple[float, int, int]:
    """(age in ms of the oldest lost event at the kill, events fed, events lost)."""
    with tempfile.TemporaryDirectory(prefix="projectionist-crash-") as tmp:
        db_path = Path(tmp) / "crash.db"
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.crash", "--child", str(db_path), "--rate", str(rate)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None  # stdout=PIPE
        start = json.loads(process.stdout.readline())["start"]
        time.sleep(rng.uniform(1.0, 2.5))
        killed_at = time.time()
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        fed = int((killed_at - start) * rate) + 1
        lost = sorted(set(range(fed)) - stored_members(db_path))
        if not lost:
            return 0.0, fed, 0
        return (killed_at - (start + lost[0] / rate)) * 1000, fed, len(lost)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--rate", type=int, default=2000, help="events per second")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(Path(args.child), args.rate))
        return
    rng = random.Random(7)
    windows = []
    for kill in range(1, args.kills + 1):
        window, fed, lost = one_kill(args.rate, rng)
        windows.append(window)
        print(f"kill {kill:2}: {fed:6} events fed, {lost:4} lost, the oldest {window:6.1f} ms old")
    print(f"at {args.rate} events/s, kill -9 lost only events younger than {max(windows):.1f} ms")


if __name__ == "__main__":
    main()
