"""`make bench-cluster`: one PostgreSQL and 1, 2 then 4 bot processes on this machine, each
owning its shards of four as in production (bot/shards.py), 2,000 servers between them.

For each size of the cluster, in one run:
- **Prompts**: every server's prompt falls due at the same second. Each process runs the real
  dispatcher (bot/timers.py) and the film cog's prompt job; discord.py sends its requests to a
  captured Discord (a small HTTP server in this process, which all the bot processes call, as
  they would share one bot token): at most 50 requests are let through in any second, for all
  the processes together (Discord's global limit), each answered 50-100 ms later; one over the
  limit is answered 429 with Discord's `retry_after` and `global` (and its headers), and
  discord.py waits and retries as it does with Discord. Reported: how late the last prompt was
  posted, beside the floor that limit sets (the requests let through in the burst, over 50 a
  second), and how many requests were refused.
- **Writes and reads**: every process runs writers (`/film prompt add`, `/film rate`,
  `/film nominate` as their commands call the services) as fast as they go against its own
  servers, and a reader (`/film now`'s reads) every 20 ms. Reported: writes a second across the
  cluster, and the reads' p99 while the writers contend.

Each bot process gets its servers' threads in its cache, as a gateway's GUILD_CREATE gives them,
so a prompt is one request; the requests are counted, not assumed.

    python -m bench.cluster [--servers 2000] [--processes 1 2 4] [--smoke]
    python -m bench.cluster worker <database url> <shard ids> <discord url>  (one bot process)
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import logging
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from bench.figures import no_postgresql, percentile, save

if TYPE_CHECKING:
    from discord.types.threads import Thread as ThreadPayload

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results-cluster.json"
SHARDS = 4
SERVERS = 2000
PROCESSES = (1, 2, 4)
LIMIT = 50  # requests a second, Discord's global limit for one bot token
LATENCY = (0.05, 0.10)  # seconds for Discord to answer a request it let through
WRITE_SECONDS = 10.0
WRITERS = 8  # per process: commands in flight at once
READ_EVERY = 0.02  # seconds between one process's reads
GUILD_BASE = 1_000_000  # a server's id is (GUILD_BASE + n) << 22: shard n % 4
BOT_ID = 1
SMOKE_SERVERS = 20
QUIET = False  # `--smoke`: the steps unsaid
TARGETS = {
    "prompts.last_vs_floor": ("<=", 1.5),
    "writes.ratio_4_vs_1": (">=", 2.5),
    "reads.p99_ms": ("<=", 50),
}


def cpu_seconds(pids: set[int]) -> float:
    """User and system CPU the processes have used (Linux's /proc; 0 elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def postgres_pids(server) -> set[int]:
    """The throwaway server's postmaster and its backends (those alive now)."""
    try:
        postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return set()
    pids = {postmaster}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                pids.add(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def guild_ids(servers: int) -> list[int]:
    return [(GUILD_BASE + n) << 22 for n in range(servers)]


def shard_split(processes: int) -> list[str]:
    """Shards 0-3 dealt out to the processes, as SHARD_IDS would be."""
    return [",".join(str(s) for s in range(SHARDS) if s % processes == p) for p in range(processes)]


# --- the captured Discord (in the orchestrating process) -----------------------------------


class CapturedDiscord:
    """The few routes the bot calls here, at most LIMIT requests let through in any second for
    all callers together, answered LATENCY later; any more answered 429 as Discord does."""

    def __init__(self) -> None:
        self.let_through: collections.deque[float] = collections.deque()  # in the last second
        self.refused = 0  # requests answered 429
        self.requests: list[tuple[str, str, float]] = []  # method, route, answered at (wall)
        self.posts: list[tuple[int, float]] = []  # channel, answered at (wall)
        self.rng = random.Random(7)
        self.next_message = 900_000_000_000_000_000
        self.expected = 0  # posts the burst makes: `all_posted` is set at the last
        self.all_posted = asyncio.Event()

    def admit(self) -> float | None:
        """None if a request arriving now is let through, else the seconds until one would be
        (Discord's `retry_after`)."""
        now = time.perf_counter()
        while self.let_through and self.let_through[0] <= now - 1:
            self.let_through.popleft()
        if len(self.let_through) < LIMIT:
            self.let_through.append(now)
            return None
        self.refused += 1
        return self.let_through[0] + 1 - now

    def user(self) -> dict:
        return {
            "id": str(BOT_ID),
            "username": "Projectionist",
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
        }

    async def handle(self, request):
        retry_after = self.admit()
        await asyncio.sleep(self.rng.uniform(*LATENCY))
        if retry_after is not None:
            return too_many(retry_after)
        path = request.path.removeprefix("/api/v10")
        parts = path.strip("/").split("/")
        answered = time.time()
        if request.method == "GET" and path == "/users/@me":
            body: dict = self.user()
            route = "GET /users/@me"
        elif request.method == "GET" and parts[0] == "channels" and len(parts) == 2:
            body = thread_payload(int(parts[1]) - 2)
            route = "GET /channels/{id}"
        elif request.method == "POST" and parts[0] == "channels" and parts[2:] == ["messages"]:
            sent = await request.json()
            self.next_message += 1
            body = {
                "id": str(self.next_message),
                "channel_id": parts[1],
                "author": self.user(),
                "content": sent.get("content") or "",
                "timestamp": "2026-01-01T00:00:00+00:00",
                "edited_timestamp": None,
                "tts": False,
                "mention_everyone": False,
                "mentions": [],
                "mention_roles": [],
                "attachments": [],
                "embeds": sent.get("embeds") or [],
                "pinned": False,
                "type": 0,
                "flags": 0,
                "components": sent.get("components") or [],
            }
            route = "POST /channels/{id}/messages"
            self.posts.append((int(parts[1]), answered))
            if len(self.posts) >= self.expected:
                self.all_posted.set()
        else:
            self.requests.append((request.method, path, answered))
            return answer({"message": "Unknown route", "code": 0}, status=404)
        self.requests.append((request.method, route, answered))
        return answer(body)

    async def start(self) -> str:
        from aiohttp import web

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}/api/v10"

    async def stop(self) -> None:
        await self.runner.cleanup()

    def reset(self, expected: int) -> None:
        self.requests.clear()
        self.refused = 0
        self.posts.clear()
        self.expected = expected
        self.all_posted.clear()


def answer(body: dict, status: int = 200):
    """JSON as Discord sends it (discord.py reads a body as JSON only under this exact type)."""
    from aiohttp import web

    return web.Response(
        body=json.dumps(body).encode(), status=status, content_type="application/json"
    )


def too_many(retry_after: float):
    """Discord's answer to a request over the global limit: discord.py reads `retry_after` and
    `global` from the body, and takes a 429 without a `Via` header for a Cloudflare ban."""
    from aiohttp import web

    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": True}
    return web.Response(
        body=json.dumps(body).encode(),
        status=429,
        content_type="application/json",
        headers={
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Global": "true",
            "X-RateLimit-Scope": "global",
            "Via": "1.1 google",
        },
    )


def thread_payload(guild_id: int) -> dict[str, Any]:
    """A week's thread as Discord describes it (the gateway's GUILD_CREATE and GET /channels)."""
    return {
        "id": str(guild_id + 2),
        "guild_id": str(guild_id),
        "parent_id": str(guild_id + 1),
        "owner_id": str(BOT_ID),
        "name": "Leaving Las Vegas",
        "type": 11,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 10080,
            "archive_timestamp": "2026-01-01T00:00:00+00:00",
            "locked": False,
        },
    }


# --- one bot process ------------------------------------------------------------------------


class Worker:
    """A bot process: the real bot (database, cogs, dispatcher) over the captured Discord."""

    def __init__(self, url: str, shards: str, discord_url: str, essays: Path) -> None:
        import discord

        from bot import Config

        discord.http.Route.BASE = discord_url
        self.config = Config(
            database_url=url,
            essays_dir=essays,
            shard_count=SHARDS,
            shard_ids=tuple(int(s) for s in shards.split(",")),
        )
        self.servers: list[tuple[int, int]] = []  # (guild, running week)

    async def start(self) -> dict:
        import discord

        from bot.client import build_offline
        from bot.shards import owned_sql

        self.bot = bot = await build_offline(self.config)
        data = await bot.http.static_login("bench-token")
        bot._connection.user = discord.ClientUser(state=bot._connection, data=data)
        rows = await bot.db.fetchall(
            "SELECT guild_id, id FROM weeks WHERE ended_at IS NULL"
            + owned_sql(self.config)
            + " ORDER BY guild_id"
        )
        self.servers = [(row[0], row[1]) for row in rows]
        state = bot._connection
        for guild_id, _ in self.servers:  # what GUILD_CREATE puts in the cache: the thread
            guild = state._get_or_create_unavailable_guild(guild_id)
            guild._add_thread(
                discord.Thread(
                    guild=guild, state=state, data=cast("ThreadPayload", thread_payload(guild_id))
                )
            )
            state._add_guild(guild)
        bot._ready.set()  # the dispatcher starts, as once the gateway is ready
        return {"ready": True, "servers": len(self.servers)}

    async def arm(self) -> dict:
        self.bot.scheduler.wake()  # the timers' due time was moved: look again
        return {"armed": True}

    async def write(self, start_at: float, seconds: float, writers: int) -> dict:
        """Writers as fast as they go and one reader every READ_EVERY, from `start_at` (wall
        time) for `seconds`: the writes done and each read's milliseconds."""
        bot = self.bot
        rng = random.Random(hash(self.config.shard_ids))
        user_ids = iter(range(10**15 + os.getpid() * 10**6, 10**16))
        done = {"writes": 0, "refused": 0}
        reads: list[float] = []
        await asyncio.sleep(max(0.0, start_at - time.time()))
        stop_at = time.perf_counter() + seconds

        async def writer(n: int) -> None:
            from bot.errors import UserError

            kind = n
            while time.perf_counter() < stop_at:
                guild_id, week_id = rng.choice(self.servers)
                user = next(user_ids)
                now = int(time.time())
                kind += 1
                try:
                    if kind % 3 == 0:
                        await bot.films.add_prompt(week_id, guild_id, "What stayed?", user, now)
                    elif kind % 3 == 1:
                        await bot.films.rate(week_id, user, rng.randint(1, 5), None, now)
                    else:
                        title = f"Film {rng.randrange(40)}"
                        await bot.vote.nominate(guild_id, user, title, 1995, now)
                except UserError:
                    done["refused"] += 1
                done["writes"] += 1

        async def reader() -> None:
            next_at = time.perf_counter()
            while time.perf_counter() < stop_at:
                guild_id, _ = rng.choice(self.servers)
                started = time.perf_counter()
                week = await bot.films.running_week(guild_id)
                await bot.vote.open_nominations(guild_id)
                assert week is not None
                reads.append((time.perf_counter() - started) * 1000)
                next_at += READ_EVERY
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

        await asyncio.gather(reader(), *(writer(n) for n in range(writers)))
        return {**done, "reads_ms": [round(r, 3) for r in reads]}

    async def handle(self, command: dict) -> dict:
        if command["do"] == "arm":
            return await self.arm()
        if command["do"] == "write":
            return await self.write(command["start_at"], command["seconds"], command["writers"])
        raise ValueError(command["do"])


async def worker_main(argv: list[str]) -> None:
    url, shards, discord_url = argv
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("discord.client").setLevel(logging.ERROR)  # no voice here: no word of it
    with tempfile.TemporaryDirectory(prefix="projectionist-cluster-") as essays:
        worker = Worker(url, shards, discord_url, Path(essays))
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        print(json.dumps(await worker.start()), flush=True)
        try:
            while line := await reader.readline():
                command = json.loads(line)
                if command["do"] == "quit":
                    break
                print(json.dumps(await worker.handle(command)), flush=True)
        finally:
            await worker.bot.close()


# --- the orchestration ----------------------------------------------------------------------


class Process:
    """One bot process, driven by one JSON line per command."""

    shards: str
    proc: asyncio.subprocess.Process

    @classmethod
    async def start(cls, url: str, shards: str, discord_url: str) -> Process:
        self = cls()
        self.shards = shards
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.cluster",
            "worker",
            url,
            shards,
            discord_url,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # its warnings and tracebacks reach the terminal
            limit=2**26,
        )
        return self

    async def answer(self) -> dict:
        assert self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the bot process of shards {self.shards} ended")
        return json.loads(line)

    async def do(self, action: str, **options) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"do": action, **options}) + "\n").encode())
        await self.proc.stdin.drain()
        return await self.answer()

    async def stop(self) -> None:
        if self.proc.returncode is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(b'{"do": "quit"}\n')
                await self.proc.stdin.drain()
                await asyncio.wait_for(self.proc.wait(), 30)
            except (OSError, TimeoutError):
                self.proc.kill()
                await self.proc.wait()


async def populate(url: str, servers: int) -> None:
    """Every server with a running week in a thread, one question queued, its prompt timer set
    far ahead (moved to the same second for all once the processes are up)."""
    from bot import Config
    from bot.db import open_database
    from bot.films.service import PROMPT_EVENT

    now = int(time.time())
    db = await open_database(Config(database_url=url))
    try:
        async with db.transaction() as tx:
            guilds = guild_ids(servers)
            await tx.executemany(
                "INSERT INTO weeks (guild_id, title, year, channel_id, thread_id, started_by, "
                "started_at, ends_at) VALUES (?, 'Leaving Las Vegas', 1995, ?, ?, 1, ?, ?)",
                [(g, g + 1, g + 2, now - 86400, now + 6 * 86400) for g in guilds],
            )
            weeks = await tx.fetchall("SELECT id, guild_id FROM weeks")
            await tx.executemany(
                "INSERT INTO prompts (week_id, kind, text, added_by, added_at) "
                "VALUES (?, 'question', 'What did the ending leave you with?', 1, ?)",
                [(w[0], now) for w in weeks],
            )
            await tx.executemany(
                "INSERT INTO timers (due_at, event, payload, created_at, guild_id) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (now + 86400, PROMPT_EVENT, json.dumps({"week_id": w[0]}), now, w[1])
                    for w in weeks
                ],
            )
        await db.write("ANALYZE")
    finally:
        await db.close()


async def sql(url: str, query: str, params: tuple = ()) -> list:
    from bot.postgres import PostgresDatabase

    db = await PostgresDatabase.open_to_read(url)
    try:
        return [tuple(row) for row in await db.fetchall(query, params)]
    finally:
        await db.close()


async def one_size(
    server,
    discord_: CapturedDiscord,
    discord_url: str,
    processes: int,
    servers: int,
    seconds: float,
) -> dict:
    url = server.create_database(f"cluster{processes}")
    await populate(url, servers)
    from bot.films.service import PROMPT_EVENT

    started = [await Process.start(url, shards, discord_url) for shards in shard_split(processes)]
    try:
        ready = await asyncio.gather(*(p.answer() for p in started))
        assert sum(r["servers"] for r in ready) == servers, ready
        discord_.reset(servers)
        # Every prompt due at the same second, a little ahead so that each process is armed.
        due = math.ceil(time.time()) + 2
        from bot.postgres import PostgresDatabase

        db = await PostgresDatabase.open_to_read(url)
        try:
            async with db.transaction() as tx:
                await tx.execute(
                    "UPDATE timers SET due_at = ? WHERE event = ?", (due, PROMPT_EVENT)
                )
        finally:
            await db.close()
        await asyncio.gather(*(p.do("arm") for p in started))
        with contextlib.suppress(TimeoutError):  # a prompt never posted shows in the figures
            await asyncio.wait_for(discord_.all_posted.wait(), 30 + 5 * servers / LIMIT)
        posts = sorted(at for _, at in discord_.posts)
        last = posts[-1] if posts else float("nan")
        burst = [r for r in discord_.requests if r[2] <= last]
        # A prompt's post is recorded once Discord has answered it: the last one's commit may
        # still be on its way when its post arrives here.
        recorded = "SELECT count(*) FROM prompts WHERE message_id IS NOT NULL"
        settle_until = time.monotonic() + 5
        (posted,) = (await sql(url, recorded))[0]
        while posted < len(discord_.posts) and time.monotonic() < settle_until:
            await asyncio.sleep(0.05)
            (posted,) = (await sql(url, recorded))[0]
        channels = {channel for channel, _ in discord_.posts}
        floor = len(burst) / LIMIT
        prompts = {
            "posted": posted,
            "posts": len(discord_.posts),
            "one_per_server": len(channels) == len(discord_.posts) == servers,
            "requests": len(burst),
            "refused": discord_.refused,
            "requests_per_prompt": round(len(burst) / max(1, len(discord_.posts)), 2),
            "floor_s": round(floor, 1),
            "median_late_s": round(posts[len(posts) // 2] - due, 1) if posts else None,
            "last_late_s": round(last - due, 1),
            "last_vs_floor": round((last - due) / floor, 2) if floor else None,
        }
        start_at = time.time() + 1
        writing = asyncio.gather(
            *(p.do("write", start_at=start_at, seconds=seconds, writers=WRITERS) for p in started)
        )
        # CPU of the bot processes and of PostgreSQL while they write: what limits the writes.
        await asyncio.sleep(max(0.0, start_at - time.time()) + 0.05)
        bots = {p.proc.pid for p in started}
        database = postgres_pids(server)
        before = cpu_seconds(bots), cpu_seconds(database)
        clock = time.perf_counter()
        await asyncio.sleep(seconds * 0.9)
        database |= postgres_pids(server)
        spent = time.perf_counter() - clock
        cores = (
            (cpu_seconds(bots) - before[0]) / spent,
            (cpu_seconds(database) - before[1]) / spent,
        )
        answers = await writing
        reads = [r for a in answers for r in a["reads_ms"]]
        writes = sum(a["writes"] for a in answers)
        return {
            "processes": processes,
            "prompts": prompts,
            "writes": {
                "per_s": round(writes / seconds),
                "refused": sum(a["refused"] for a in answers),
                "seconds": seconds,
                "bot_cores": round(cores[0], 2),
                "postgres_cores": round(cores[1], 2),
                "load": round(os.getloadavg()[0], 2),
            },
            "reads": {
                "count": len(reads),
                "p50_ms": round(statistics.median(reads), 2),
                "p99_ms": round(percentile(reads, 99), 2),
            },
        }
    finally:
        await asyncio.gather(*(p.stop() for p in started))


async def run(servers: int, sizes: tuple[int, ...], seconds: float) -> dict:
    from tests.postgres_server import PostgresServer, unavailable

    if reason := unavailable():
        raise SystemExit(f"Cannot run the cluster benchmark: {reason}.")
    results: dict = {
        "servers": servers,
        "discord": {"limit_per_s": LIMIT, "latency_ms": [int(x * 1000) for x in LATENCY]},
        "writers_per_process": WRITERS,
        "cores": os.cpu_count(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "sizes": [],
    }
    server = PostgresServer().start()
    discord_ = CapturedDiscord()
    discord_url = await discord_.start()
    try:
        for processes in sizes:
            if not QUIET:
                print(f"[bench] {processes} process(es), {servers} servers", file=sys.stderr)
            results["sizes"].append(
                await one_size(server, discord_, discord_url, processes, servers, seconds)
            )
    finally:
        await discord_.stop()
        server.stop()
    results["load_after"] = [round(x, 2) for x in os.getloadavg()]
    by = {size["processes"]: size for size in results["sizes"]}
    results["prompts"] = {
        "last_vs_floor": max(s["prompts"]["last_vs_floor"] or math.inf for s in results["sizes"])
    }
    if 1 in by and 4 in by:
        results["writes"] = {
            "ratio_4_vs_1": round(by[4]["writes"]["per_s"] / by[1]["writes"]["per_s"], 2)
        }
    results["reads"] = {"p99_ms": max(s["reads"]["p99_ms"] for s in results["sizes"])}
    return results


def missed(results: dict) -> list[str]:
    out = []
    for key, (op, bound) in TARGETS.items():
        section, field = key.split(".")
        if field not in results.get(section, {}):
            continue
        value = results[section][field]
        if not (value >= bound if op == ">=" else value <= bound):
            out.append(f"{key} = {value} (target {op} {bound})")
    return out


def table(results: dict) -> str:
    sizes = results["sizes"]
    lines = [
        f"{results['servers']:,} servers; Discord lets {LIMIT} requests a second through (429 "
        f"beyond) and answers in {LATENCY[0] * 1000:.0f}-{LATENCY[1] * 1000:.0f} ms; "
        f"{results['writers_per_process']} writers a process; load "
        f"{results['load_before'][0]} before, {results['load_after'][0]} after",
        f"{'processes':<10} {'prompts':>8} {'requests':>9} {'floor':>7} {'last late':>10} "
        f"{'x floor':>8} {'429s':>6} {'writes/s':>9} {'read p50':>9} {'read p99':>9}",
    ]
    for s in sizes:
        p = s["prompts"]
        lines.append(
            f"{s['processes']:<10} {p['posts']:>8,} {p['requests']:>9,} {p['floor_s']:>6}s "
            f"{p['last_late_s']:>9}s {p['last_vs_floor']!s:>8} {p.get('refused', 0):>6,} "
            f"{s['writes']['per_s']:>9,} "
            f"{s['reads']['p50_ms']:>7}ms {s['reads']['p99_ms']:>7}ms"
        )
    misses = missed(results)
    for key, (op, bound) in TARGETS.items():
        section, field = key.split(".")
        if field in results.get(section, {}):
            value = results[section][field]
            ok = not any(m.startswith(key + " ") for m in misses)
            lines.append(f"target {key} {op} {bound}: {value} {'ok' if ok else 'MISSED'}")
    return "\n".join(lines)


def main() -> int:
    if sys.argv[1:2] == ["worker"]:
        asyncio.run(worker_main(sys.argv[2:]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=SERVERS)
    parser.add_argument("--processes", type=int, nargs="+", default=list(PROCESSES))
    parser.add_argument("--seconds", type=float, default=WRITE_SECONDS, help="of writing")
    parser.add_argument("--if-available", action="store_true")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="20 servers, 2 processes, 1 s of writes, for errors only (make test)",
    )
    args = parser.parse_args()
    if args.if_available and no_postgresql("Cluster benchmark"):
        return 0
    if args.smoke:
        global QUIET
        QUIET = True
        results = asyncio.run(run(SMOKE_SERVERS, (2,), 1.0))
        for size in results["sizes"]:
            prompts = size["prompts"]
            if not prompts["one_per_server"] or prompts["posted"] != SMOKE_SERVERS:
                print(f"Cluster benchmark: the prompts went wrong: {prompts}")
                return 1
        print("Cluster benchmark: ran without an error, every prompt posted once.")
        return 0
    results = asyncio.run(run(args.servers, tuple(args.processes), args.seconds))
    save(results, RESULTS, table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
