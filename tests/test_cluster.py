"""Two processes of a sharded bot on one PostgreSQL, each owning two of four shards, each with
its own simulated Discord (tests/cluster_worker.py), started at different virtual dates so their
ids differ."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys

from bot.db import migrations_in
from bot.postgres import PostgresDatabase
from tests.conftest import ROOT, SEED_ESSAY

DAY = 86400


class Process:
    def __init__(self, url: str, shards: str, days: int, essays) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "tests.cluster_worker", url, shards, str(days), str(essays)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def answer(self) -> dict:
        line = self.popen.stdout.readline()
        if not line:
            raise AssertionError(f"the process ended: {self.popen.stderr.read()[-3000:]}")
        return json.loads(line)

    def do(self, action: str, **options) -> dict:
        self.popen.stdin.write(json.dumps({"do": action, **options}) + "\n")
        self.popen.stdin.flush()
        return self.answer()

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                self.popen.stdin.write('{"do": "quit"}\n')
                self.popen.stdin.flush()
                self.popen.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.popen.kill()


def read(url: str, sql: str, params: tuple = ()) -> list:
    async def query() -> list:
        db = await PostgresDatabase.open_to_read(url)
        try:
            return [tuple(row) for row in await db.fetchall(sql, params)]
        finally:
            await db.close()

    return asyncio.run(query())


def test_two_processes_share_one_database_and_each_minds_its_own_servers(postgres, tmp_path):
    essays = tmp_path / "essays"
    essays.mkdir()
    shutil.copy(SEED_ESSAY, essays / SEED_ESSAY.name)
    url = postgres.create_database("cluster")  # empty: both processes start on it at once
    first = Process(url, "0,1", 0, essays)
    second = Process(url, "2,3", 40, essays)
    try:
        assert first.answer() == {"ready": True} and second.answer() == {"ready": True}
        versions = read(url, "SELECT version FROM schema_migrations ORDER BY version")
        assert [v for (v,) in versions] == [v for v, _, _ in migrations_in("postgresql")]
        assert read(url, "SELECT count(*) FROM essays") == [(1,)], "synced once"
        assert read(url, "SELECT shards FROM processes ORDER BY shards") == [("0,1",), ("2,3",)]

        for process in (first, second):
            assert len(process.do("setup")["guilds"]) == 2
            started = process.do("start_weeks")["replies"]
            assert all(reply.startswith("Started **Leaving Las Vegas**") for reply in started)
            process.do("react")
        for process in (first, second):
            process.do("advance", seconds=3 * DAY)
        for process in (first, second):
            for prompts in process.do("prompts")["prompts"].values():
                assert [name for name, _ in prompts] == ["Prompt 1", "Prompt 2", "Prompt 3"]
        posted = read(url, "SELECT message_id FROM prompts WHERE message_id IS NOT NULL")
        assert len(posted) == len(set(posted)) == 12, "every prompt once, in its own process"
        assert read(url, "SELECT count(*) FROM reactions") == [(4,)], "from both processes"

        # The first process goes down before its next prompts fall due; the second runs on.
        first.do("offline")
        second.do("advance", seconds=2 * DAY)
        waiting = read(
            url,
            "SELECT count(*) FROM timers t JOIN weeks w ON w.guild_id = t.guild_id "
            "WHERE t.claimed_at IS NULL AND (t.guild_id >> 22) % 4 IN (0, 1)",
        )
        assert waiting[0][0] >= 2, "the other process's timers stay untouched"
        first.do("advance", seconds=20 * 3600)  # down over one prompt time, by under 6 hours
        first.do("restart")
        first.do("advance", seconds=DAY)
        for prompts in first.do("prompts")["prompts"].values():
            assert [name for name, _ in prompts] == [f"Prompt {n}" for n in range(1, 6)]
        for prompts in second.do("prompts")["prompts"].values():
            assert [name for name, _ in prompts] == [f"Prompt {n}" for n in range(1, 6)]
    finally:
        first.stop()
        second.stop()
