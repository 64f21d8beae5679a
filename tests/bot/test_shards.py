"""Shards spread over processes on one PostgreSQL: each process minds its own servers' timers
and jobs, logins take turns, forgetting a member reaches what another process holds, and the
cluster's state is one command away. Each "process" here has its own pool, as a process would."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import time

import discord
import pytest

from bot.cluster import Cluster, processes, status_lines, take_identify_turn
from bot.config import Config, ConfigError, parse_shard_ids
from bot.db import DatabaseUnavailable, migrations_in
from bot.jobs import Jobs, Kind
from bot.postgres import PostgresDatabase
from bot.reactions.recorder import ReactionRecorder
from bot.services import members_reading
from bot.shards import owned_sql, owns
from bot.timers import Scheduler
from tests.test_cli import cli

NAMES = itertools.count(1)
DAY0 = 1_000_000


def guild_on(shard: int, count: int = 4, n: int = 1) -> int:
    """A server id that Discord places on `shard` of `count`."""
    return ((n * count + shard) << 22) | 12345


def test_shard_ids_are_read_as_a_host_writes_them():
    assert parse_shard_ids("0-7") == tuple(range(8))
    assert parse_shard_ids("8,9,10") == (8, 9, 10)
    assert parse_shard_ids("0-1, 6") == (0, 1, 6)
    with pytest.raises(ConfigError, match="like 0-7 or 8,9,10"):
        parse_shard_ids("0..3")
    with pytest.raises(ConfigError, match="from 0 to 3, not 4"):
        Config(shard_count=4, shard_ids=(3, 4), database_url="postgresql://x@h/d")
    config = Config(shard_count=4, shard_ids=(0, 1), database_url="postgresql://x@h/d")
    assert owns(config, guild_on(1)) and not owns(config, guild_on(2))
    assert owns(Config(shard_count=4), guild_on(3))  # every shard


def test_some_shards_on_a_sqlite_file_are_refused_at_start_in_one_line(tmp_path):
    result = cli(
        "run",
        cwd=tmp_path,
        env_extra={"DISCORD_TOKEN": "x", "SHARD_COUNT": "4", "SHARD_IDS": "0-1"},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration problem: SHARD_IDS names only some shards, so other processes run the "
        "rest: they must share a PostgreSQL database (DATABASE_URL), not a SQLite file."
    ]


@pytest.fixture
def url(postgres) -> str:
    database = postgres.create_database(f"shards_{next(NAMES)}")
    asyncio.run(_migrate(database))
    return database


async def _migrate(url: str) -> None:
    await (await PostgresDatabase.open(url)).close()


class Process:
    """One process's view: its own pool, its shards' timers and jobs."""

    def __init__(self, db, shard_ids: tuple[int, ...], now: list[float]) -> None:
        config = Config(shard_count=4, shard_ids=shard_ids, database_url="postgresql://x@h/d")
        self.db = db
        self.scheduler = Scheduler(db, clock=lambda: now[0], owned=owned_sql(config))
        self.jobs = Jobs(db, self.scheduler, clock=lambda: now[0])
        self.fired: list[int] = []

        async def fire(tx, timer) -> None:
            self.fired.append(timer.payload["n"])
            await asyncio.sleep(0.01)  # the other process claims meanwhile

        self.scheduler.register("ping", fire)

    @classmethod
    async def start(cls, url: str, shard_ids: tuple[int, ...], now: list[float]) -> Process:
        return cls(await PostgresDatabase.open(url), shard_ids, now)


async def test_each_process_claims_only_its_own_servers_timers_and_a_shared_shard_fires_once(url):
    now = [DAY0]
    first = await Process.start(url, (0, 1), now)
    second = await Process.start(url, (2, 3), now)
    confused = await Process.start(url, (0, 1), now)  # misconfigured: the first's shards too
    try:
        for n in range(40):
            await first.scheduler.create(DAY0 - 1, "ping", {"n": n}, guild_on(n % 4, n=n + 1))
        await asyncio.gather(*(p.scheduler.run_due() for p in (first, second, confused)))
        mine = {n for n in range(40) if n % 4 in (0, 1)}
        assert set(first.fired) | set(confused.fired) == mine
        assert sorted(first.fired + confused.fired) == sorted(mine), "each once"
        assert sorted(second.fired) == sorted(set(range(40)) - mine)
    finally:
        for process in (first, second, confused):
            await process.db.close()


async def test_a_restarted_process_releases_only_its_own_servers_interrupted_jobs(url):
    now = [DAY0]
    first = await Process.start(url, (0, 1), now)
    second = await Process.start(url, (2, 3), now)
    try:
        async with first.jobs.transaction() as tx:
            mine = await first.jobs.owe(tx, guild_id=guild_on(0), kind="x")
            theirs = await first.jobs.owe(tx, guild_id=guild_on(2), kind="x")
        dying = await in_the_middle_of(first, mine)  # the first process dies in it
        running = await in_the_middle_of(second, theirs)  # the second is running it
        restarted = await Process.start(url, (0, 1), now)  # the first, started again
        assert await restarted.jobs.recover() == 1
        claimed = dict(await restarted.db.fetchall("SELECT id, claimed_at FROM jobs"))
        assert claimed[mine] is None and claimed[theirs] == DAY0
        for task in (dying, running):
            task.cancel()
        await asyncio.gather(dying, running, return_exceptions=True)
        await restarted.db.close()
    finally:
        await first.db.close()
        await second.db.close()


async def in_the_middle_of(process: Process, job_id: int) -> asyncio.Task:
    """The process claims the job and runs it: its post never finishes."""
    posting, never = asyncio.Event(), asyncio.Event()

    async def post(job):
        posting.set()
        await never.wait()

    process.jobs.register("x", Kind(post))
    task = asyncio.create_task(process.jobs.run(job_id))
    await posting.wait()
    return task


async def test_processes_starting_at_once_log_in_one_after_another(url):
    pools = [await PostgresDatabase.open(url) for _ in range(3)]
    try:
        turns: list[float] = []

        async def log_in(db) -> float:
            waited = await take_identify_turn(db, 0, spacing=0.3)
            turns.append(time.time())  # the login's clock: Discord's limit is in real time
            return waited

        waits = await asyncio.gather(*(log_in(db) for db in pools))
        assert min(waits) == 0.0  # the first to come logs in at once
        # Each login at least the spacing after the one before (a slow machine only widens it).
        gaps = [later - earlier for earlier, later in itertools.pairwise(turns)]
        assert all(gap >= 0.3 - 0.05 for gap in gaps), gaps
        other_bucket = await take_identify_turn(pools[0], 1, spacing=0.3)
        assert other_bucket == 0.0
    finally:
        for db in pools:
            await db.close()


async def test_a_member_forgotten_in_one_process_keeps_nothing_another_held(url):
    now = [float(DAY0)]
    holder_db = await PostgresDatabase.open(url)
    other_db = await PostgresDatabase.open(url)
    try:
        holder = ReactionRecorder(holder_db, clock=lambda: now[0], max_delay=60)
        alice, bob = 7, 8
        holder.add(100, alice, "🎬")
        holder.add(100, bob, "🎬")  # queued in the holding process, not committed yet
        now[0] += 1
        forgetting = members_reading(other_db, clock=lambda: now[0])
        await forgetting.forget(alice, int(now[0]))
        now[0] += 1
        await holder.close()
        rows = await other_db.fetchall("SELECT user_id FROM reactions WHERE message_id = 100")
        assert [row[0] for row in rows] == [bob]
        holder_again = ReactionRecorder(holder_db, clock=lambda: now[0])
        holder_again.add(101, alice, "🔥")  # after forgetting: a new reaction is hers to give
        await holder_again.close()
        assert await other_db.fetchval("SELECT count(*) FROM reactions WHERE user_id = ?", (alice,))
    finally:
        await holder_db.close()
        await other_db.close()


async def test_status_lists_processes_and_names_what_runs_nowhere(url, tmp_path):
    now = [time.time()]
    db = await PostgresDatabase.open(url)
    try:
        for name, shards in (("a", (0, 1)), ("b", (2,))):
            config = Config(shard_count=4, shard_ids=shards, database_url=url, process_name=name)
            await Cluster(db, config, clock=lambda: now[0]).beat()
        healthy, lines = status_lines(await processes(db), int(now[0]) + 10)
        assert not healthy
        assert lines[0].startswith("a: shards 0,1 of 4, version ")
        assert lines[0].endswith("last heartbeat 10 s ago")
        assert lines[-1] == "Shards nobody runs: 3"
        healthy, lines = status_lines(await processes(db), int(now[0]) + 600)
        assert "b: shards 2 of 4" in lines[1] and lines[1].endswith(": stopped beating")
        assert lines[-1] == "Shards nobody runs: 0, 1, 2, 3"
        config = Config(shard_count=4, shard_ids=(3,), database_url=url, process_name="c")
        await Cluster(db, config, clock=time.time).beat()
    finally:
        await db.close()
    shown = cli("status", cwd=tmp_path, env_extra={"DATABASE_URL": url})
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert shown.stdout.strip().splitlines()[-1] == "All 4 shards run, each by one process."


async def test_an_upgrade_is_refused_while_processes_of_the_older_release_run(url):
    db = await PostgresDatabase.open(url)
    latest = migrations_in("postgresql")[-1][0]
    newer = [
        *migrations_in("postgresql"),
        (latest + 1, f"{latest + 1:04}_next.sql", "CREATE TABLE next_release (a INTEGER)"),
    ]
    try:
        running = Cluster(db, Config(database_url=url, process_name="bot-1"), clock=time.time)
        await running.beat()
        killed = Config(database_url=url, process_name="bot-2")  # silent for 100 s
        await Cluster(db, killed, clock=lambda: time.time() - 100).beat()
        late = Config(database_url=url, process_name="bot-4")  # two heartbeats missed, not three
        await Cluster(db, late, clock=lambda: time.time() - 70).beat()
        left = Cluster(db, Config(database_url=url, process_name="bot-3"), clock=time.time)
        await left.beat()
        await left.leave()
        with pytest.raises(DatabaseUnavailable) as refused:
            await PostgresDatabase.open(url, newer)
        message = str(refused.value)
        assert f"is at schema version {latest} and this release would migrate it to" in message
        assert "2 processes of an older release still run on it: bot-1 (version " in message
        assert "; bot-4 (version " in message
        assert "bot-2" not in message and "bot-3" not in message
        assert "Stop every process of the bot before starting the new release" in message
        assert await db.fetchval("SELECT to_regclass('next_release')") is None
        assert await db.user_version() == latest

        await running.leave()  # stopped cleanly: the upgrade goes ahead
        await Cluster(db, late, clock=time.time).leave()
        upgraded = await PostgresDatabase.open(url, newer)
        await upgraded.close()
        assert await db.fetchval("SELECT to_regclass('next_release')") == "next_release"
        assert await db.user_version() == latest + 1
    finally:
        await db.close()


async def test_a_timer_of_another_process_is_in_the_database_for_it(url):
    now = [DAY0]
    first = await Process.start(url, (0,), now)
    try:
        await first.scheduler.create(DAY0 - 5, "ping", {"n": 1}, guild_on(3))
        assert await first.scheduler.run_due() == 0
        row = await first.db.fetchone("SELECT claimed_at, payload FROM timers")
        assert row[0] is None and json.loads(row[1]) == {"n": 1}
    finally:
        await first.db.close()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_process_runs_its_shards_servers_and_records_its_heartbeat(config, make_bot):
    import simcord

    sharded = dataclasses.replace(config, shard_count=2, shard_ids=(0,), process_name="p0")
    bot = make_bot(sharded)
    env = simcord.Env(bot)
    await env.start()
    try:
        mine = env.create_guild("Mine", shard_id=0)
        theirs = env.create_guild("Theirs", shard_id=1)
        channel = mine.create_text_channel("films")
        mods = mine.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
        mia = mine.add_member(env.create_user("mia"), roles=[mods])
        await env.settle()
        assert bot.get_guild(mine.id) is not None and bot.get_guild(theirs.id) is None
        started = await mia.slash(channel, "film start", title="Heat")
        assert started.response.content.startswith("Started **Heat**")
        await bot.scheduler.create(0, "film_end", {"week_id": 999}, theirs.id)
        await env.advance_time(60)
        assert (
            await bot.db.fetchval("SELECT claimed_at FROM timers WHERE guild_id = ?", (theirs.id,))
            is None
        ), "another process's server: its timer is left to it"
        [process] = await processes(bot.db)
        assert (process.name, process.shard_count, process.shards) == ("p0", 2, "0")
    finally:
        await env.shutdown()
        await bot.close()
    after = await PostgresDatabase.open(config.database_url)
    assert await processes(after) == [], "a process that stops cleanly leaves the list"
    await after.close()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_the_bots_logins_wait_their_turn_in_the_database(config, monkeypatch):
    from bot.client import build_offline

    sharded = dataclasses.replace(config, shard_count=4, shard_ids=(0, 1))
    bots = [await build_offline(sharded) for _ in range(2)]  # two processes' bots
    try:

        async def gateway():
            return 4, "wss://gateway", {"max_concurrency": 2}

        for bot in bots:
            monkeypatch.setattr(bot.http, "get_bot_gateway", gateway)
        monkeypatch.setattr("bot.cluster.IDENTIFY_SPACING", 0.3)
        started = time.monotonic()
        # Shards 0 and 2 share a bucket of two; shard 1 has the other to itself.
        await asyncio.gather(
            bots[0].before_identify_hook(0, initial=True),
            bots[1].before_identify_hook(2, initial=True),
            bots[0].before_identify_hook(1, initial=True),
        )
        took = time.monotonic() - started
        assert 0.3 <= took < 0.6
        rows = await bots[0].db.fetchall("SELECT bucket FROM identify_slots ORDER BY bucket")
        assert [row[0] for row in rows] == [0, 1]
    finally:
        for bot in bots:
            await bot.close()
