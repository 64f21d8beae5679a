"""`make bench`: speed and memory of Projectionist at the scale of a large community.

Drives the bot's own layers, not simcord (whose harness adds its own tens of milliseconds):
gateway payloads go through discord.py's real parsers (`bot._connection.parsers`, the path a
websocket message takes) and slash commands through the real command tree, on interactions
built from real payloads, with the reply request captured instead of sent. Every figure is
printed beside the baseline it is judged against, measured in the same run.

    python -m bench.run [--scale 1.0] [--backend sqlite|postgresql] [--out bench/results.json]

On PostgreSQL the server is a throwaway one on the same machine (tests/postgres_server.py): the
community is built as for SQLite and moved into it with `db port`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import discord
from discord.ext import commands
from discord.webhook import async_ as webhook_async

from bench.community import CHANNEL_ID, EMOJIS, GUILD_ID, MEMBER_BASE, MESSAGE_BASE, Scale, word
from bench.figures import no_postgresql, percentile, save
from bench.film_life import (
    P99_CALLS,
    calls_of,
    film_life_commands,
    film_members_of,
    measure_film_life,
    time_film_life,
    timed,
)
from bench.film_life import TARGETS as FILM_LIFE_TARGETS
from bench.film_life import UNDER_LOAD_TARGETS as FILM_LIFE_UNDER_LOAD_TARGETS
from bench.history import HISTORY_DAYS, year_weeks
from bot import Config
from bot.client import Projectionist, build_offline
from bot.memory import limit_malloc_arenas
from bot.reactions.recorder import ReactionRecorder, counted_since
from bot.reactions.store import ADD

if TYPE_CHECKING:
    from discord.types.interactions import Interaction as InteractionPayload

    from cogs.reactions import ReactionsCog

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    "ingest.ratio_vs_noop": (">=", 0.85),
    "ingest.ratio_vs_naive": (">=", 10),
    "ingest.commit_p99_ms": ("<=", 250),
    "ingest.sustained_ratio_vs_noop": (">=", 0.85),
    "latency.p99_ms": ("<=", 15),
    "latency_under_load.p99_ms": ("<=", 50),
    "startup.cold_s": ("<=", 5),
    "startup.warm_s": ("<=", 0.5),
    "memory.peak_rss_mb": ("<=", 150),
    # Period reports over 30 days of 1,000,000 reactions, read from the daily counts.
    "reports.stats_server.p99_ms": ("<=", 50),
    "reports.quote_top.p99_ms": ("<=", 15),
    **FILM_LIFE_TARGETS,
    **FILM_LIFE_UNDER_LOAD_TARGETS,
}
# On PostgreSQL, with the server on the same two cores as the bot.
POSTGRES_TARGETS = {
    **TARGETS,
    "ingest.ratio_vs_noop": (">=", 0.75),
    "ingest.sustained_ratio_vs_noop": (">=", 0.75),
}


def targets(backend: str) -> dict:
    return POSTGRES_TARGETS if backend == "postgresql" else TARGETS


QUIET = False  # `--smoke`: the steps and figures unsaid


def step(message: str) -> None:
    if not QUIET:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"[bench] {message} (peak memory so far {peak:.1f} MB)", file=sys.stderr, flush=True)


# --- the bot, started without Discord -----------------------------------------------------


async def start_bot(config: Config) -> tuple[Projectionist, float]:
    """setup_hook from start to ready (the command push, which needs Discord, left out)."""
    started = time.perf_counter()
    bot = await build_offline(config)
    elapsed = time.perf_counter() - started
    bot._connection.user = discord.ClientUser(
        state=bot._connection,
        data={
            "id": "1",
            "username": "Projectionist",
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
        },
    )
    return bot, elapsed


def reactions_cog(bot: Projectionist) -> ReactionsCog:
    """The cog that hears the reaction events, to swap what it hands them to."""
    # Imported once the bot has loaded it: discord.py runs an extension's module afresh.
    from cogs.reactions import ReactionsCog

    cog = bot.get_cog("Reactions")
    if not isinstance(cog, ReactionsCog):
        raise RuntimeError("the reactions cog is not loaded")
    return cog


class CapturingAdapter(webhook_async.AsyncWebhookAdapter):
    """Stands in for Discord's interaction callback endpoint: notes when the reply left."""

    def __init__(self) -> None:
        super().__init__()
        self.sent_at: float | None = None
        self.replies = 0
        self.reply: dict[str, Any] | None = None  # the last reply's payload

    async def create_interaction_response(
        self, interaction_id, token, *, session, proxy=None, proxy_auth=None, params
    ):
        self.sent_at = time.perf_counter()
        self.replies += 1
        self.reply = params.payload
        return {
            "interaction": {
                "id": str(interaction_id),
                "type": 2,
                "response_message_id": str(interaction_id + 1),
            }
        }


# An INTERACTION_CREATE payload as Discord sends it.
Payload = dict[str, Any]


class Interactions:
    """INTERACTION_CREATE payloads, as Discord sends them, for one member in one channel."""

    def __init__(self, bot: Projectionist) -> None:
        self.bot = bot
        self.next_id = 600_000_000_000_000_000

    def payload(self, kind: int, name: str, sub: str, options: list[dict]) -> Payload:
        self.next_id += 2
        user = {
            "id": str(MEMBER_BASE + 1),
            "username": "bench",
            "discriminator": "0",
            "global_name": "Bench",
            "avatar": None,
        }
        return {
            "id": str(self.next_id),
            "application_id": "1",
            "type": kind,
            "token": "bench-token",
            "version": 1,
            "guild_id": str(GUILD_ID),
            "channel_id": str(CHANNEL_ID),
            "channel": {
                "id": str(CHANNEL_ID),
                "type": 0,
                "guild_id": str(GUILD_ID),
                "name": "general",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "rate_limit_per_user": 0,
                "topic": None,
                "last_message_id": None,
                "flags": 0,
            },
            "member": {
                "user": user,
                "roles": [],
                "joined_at": "2026-01-01T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "permissions": "2248473465835073",
                "flags": 0,
            },
            "app_permissions": "2248473465835073",
            "attachment_size_limit": 26_214_400,
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "context": 0,
            "data": {
                "id": "1",
                "name": name,
                "type": 1,
                "options": [{"type": 1, "name": sub, "options": options}],
            },
        }

    async def run(self, adapter: CapturingAdapter, payload: Payload) -> float:
        """Milliseconds from the parsed interaction to the reply request."""
        # discord.py's payload type leaves out keys Discord sends (the member among them).
        data = cast("InteractionPayload", payload)
        interaction = discord.Interaction(data=data, state=self.bot._connection)
        adapter.sent_at = None
        started = time.perf_counter()
        await self.bot.tree._call(interaction)
        if adapter.sent_at is None:
            raise RuntimeError(f"{payload['data']} sent no reply")
        return (adapter.sent_at - started) * 1000


def command_payloads(
    bot: Projectionist, maker: Interactions, rng: random.Random
) -> dict[str, Callable[[], Payload]]:
    essays = bot.library.visible(GUILD_ID)

    def opt(name, value, focused=False):
        option = {"type": 3, "name": name, "value": value}
        if focused:
            option["focused"] = True
        return option

    def words(n):
        return " ".join(word(rng) for _ in range(n))

    return {
        "essay_read": lambda: maker.payload(
            2,
            "essay",
            "read",
            [opt("essay", rng.choice(essays).key), opt("section", str(rng.randint(1, 6)))],
        ),
        "essay_search": lambda: maker.payload(2, "essay", "search", [opt("query", words(2))]),
        "essay_excerpt": lambda: maker.payload(
            2, "essay", "excerpt", [opt("essay", rng.choice(essays).key)]
        ),
        "quote_random": lambda: maker.payload(2, "quote", "random", []),
        "quote_search": lambda: maker.payload(2, "quote", "search", [opt("query", words(2))]),
        "stats_essay": lambda: maker.payload(
            2, "stats", "essay", [opt("essay", rng.choice(essays).key)]
        ),
        "stats_member": lambda: maker.payload(2, "stats", "member", []),
        "essay_autocomplete": lambda: maker.payload(
            4, "essay", "read", [opt("essay", f"essay {rng.randint(0, 99):02}", focused=True)]
        ),
    }


def report_payloads(maker: Interactions, days_back: int = 30) -> dict[str, Callable[[], Payload]]:
    """Period reports of the last 30 days (a million reactions at full scale), with targets of
    their own beside the commands' (`reports.*`); or of `days_back` days."""
    days = {"type": 4, "name": "days", "value": days_back}
    return {
        "stats_server": lambda: maker.payload(2, "stats", "server", [days]),
        "quote_top": lambda: maker.payload(2, "quote", "top", [days]),
    }


def report_calls(rounds: int) -> int:
    """How many times each period report is timed: a p99 by nearest rank of 51 calls or fewer
    is their single worst one."""
    return max(5, min(P99_CALLS, rounds // 3))


async def measure_latency(bot, adapter, payloads, rounds: int) -> dict[str, dict[str, float]]:
    maker_results: dict[str, list[float]] = {name: [] for name in payloads}
    for _ in range(rounds):
        for name, make in payloads.items():
            maker_results[name].append(await bot_interactions(bot).run(adapter, make()))
            await asyncio.sleep(0)
    return {
        name: {
            "p50_ms": round(statistics.median(values), 2),
            "p99_ms": round(percentile(values, 99), 2),
        }
        for name, values in maker_results.items()
    }


_MAKERS: dict[int, Interactions] = {}


def bot_interactions(bot) -> Interactions:
    return _MAKERS.setdefault(id(bot), Interactions(bot))


# --- reactions ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Removals:
    """Reactions to remove, kept in arrays: the benchmark's own data is not the bot's memory
    (as tuples, 62,500 of them took 15 MB)."""

    messages: array = field(default_factory=lambda: array("q"))
    members: array = field(default_factory=lambda: array("q"))
    emojis: array = field(default_factory=lambda: array("B"))  # indexes into EMOJIS

    def __len__(self) -> int:
        return len(self.messages)

    def key(self, number: int) -> tuple[int, int, str]:
        return self.messages[number], self.members[number], EMOJIS[self.emojis[number]]

    def part(self, start: int, stop: int) -> Removals:
        return Removals(
            self.messages[start:stop], self.members[start:stop], self.emojis[start:stop]
        )


@dataclass(frozen=True)
class Events:
    """The same reaction payloads on every replay, made a chunk at a time so that the
    benchmark's own data does not count as the bot's memory. Every fourth event is a removal:
    of `removals`' reactions in turn (reactions the server has, as Discord sends a removal only
    for a reaction that exists), then of random ones."""

    scale: Scale
    count: int
    seed: int
    removals: Removals = field(default_factory=Removals)

    def slice(self, start: int, stop: int) -> list[tuple[str, dict]]:
        events = reaction_payloads(
            self.scale, stop - start, random.Random(self.seed * 1_000_003 + start)
        )
        for number in range(start, stop):
            if number % REMOVAL_EVERY != REMOVAL_EVERY - 1:
                continue
            data = events[number - start][1]
            removal = number // REMOVAL_EVERY
            if removal < len(self.removals):
                message_id, user_id, emoji = self.removals.key(removal)
                data.update(message_id=str(message_id), user_id=str(user_id))
                data["emoji"] = {"id": None, "name": emoji}
            events[number - start] = ("MESSAGE_REACTION_REMOVE", data)
        return events


REMOVAL_EVERY = 4
REMOVED_PER_POST = 2  # at most, so that the removals are spread over the posts


async def stored_reactions(bot: Projectionist, scale: Scale, count: int, seed: int) -> Removals:
    """`count` reactions the benchmark's server has now, for `Events`' removals: a few of each
    post, the posts drawn at random (the same for the same seed and data)."""
    rng = random.Random(seed)
    removals = Removals()
    posts = rng.sample(range(scale.tracked), scale.tracked)
    for start in range(0, len(posts), 100):
        if len(removals) >= count:
            break
        ids = [MESSAGE_BASE + post for post in posts[start : start + 100]]
        rows = await bot.services.db.fetchall(
            "SELECT message_id, user_id, emoji FROM reactions "
            f"WHERE message_id IN ({', '.join('?' * len(ids))}) ORDER BY message_id, user_id, emoji",
            ids,
        )
        taken: dict[int, int] = {}
        for message_id, user_id, emoji in rows:
            if len(removals) >= count or taken.get(message_id, 0) >= REMOVED_PER_POST:
                continue
            taken[message_id] = taken.get(message_id, 0) + 1
            removals.messages.append(message_id)
            removals.members.append(user_id)
            removals.emojis.append(EMOJIS.index(emoji))
    return removals


async def removing_events(bot: Projectionist, scale: Scale, count: int, seed: int) -> Events:
    """`count` new events whose removals take back reactions the server has."""
    removals = await stored_reactions(bot, scale, count // REMOVAL_EVERY, seed)
    return Events(scale, count, seed, removals)


def reaction_payloads(scale: Scale, count: int, rng: random.Random) -> list[tuple[str, dict]]:
    """Reactions added to random posts by random members (`Events` makes removals of some)."""
    events = []
    for _ in range(count):
        events.append(
            (
                "MESSAGE_REACTION_ADD",
                {
                    "user_id": str(MEMBER_BASE + rng.randrange(scale.members)),
                    "channel_id": str(CHANNEL_ID),
                    "message_id": str(MESSAGE_BASE + rng.randrange(scale.tracked)),
                    "guild_id": str(GUILD_ID),
                    "emoji": {"id": None, "name": rng.choice(EMOJIS)},
                    "burst": False,
                    "type": 0,
                },
            )
        )
    return events


async def drain(before: set[asyncio.Task]) -> None:
    """Wait for the listener tasks the parsers scheduled, but not for the recorder's batch
    writes: the gateway keeps delivering events while a batch is written. The caller's final
    `flush()` waits for every write still in flight, so all commits are in the time measured."""
    while True:
        pending = {
            t
            for t in asyncio.all_tasks()
            if t not in before
            and t is not asyncio.current_task()
            and not t.get_name().startswith(
                ("reaction-flush", "reaction-merge", "reaction-checkpoint")
            )
        }
        if not pending:
            return
        await asyncio.wait(pending)


async def feed(client: discord.Client, events: Events, chunk: int = 500) -> None:
    parsers = client._connection.parsers
    before = asyncio.all_tasks()
    for start in range(0, events.count, chunk):
        for kind, data in events.slice(start, min(start + chunk, events.count)):
            parsers[kind](data)
        # The gateway's reader gives the loop a turn between reads: the events' listeners
        # run, and so do the recorder's commits, which a handler that only queues (no
        # listener task to wait for) would otherwise never let start.
        await asyncio.sleep(0)
        await drain(before)


async def ingest_noop(events, *, listening: bool = True) -> float:
    """discord.py alone: the same Bot class and dispatch path, with listeners that do nothing,
    as any bot that listens to reactions pays for them (a task a listener an event). Without
    `listening`, no listener at all: its parser and dispatch only. Events per second."""
    client = commands.Bot(command_prefix="!", intents=discord.Intents.default())

    async def nothing(payload):
        pass

    if listening:
        client.add_listener(nothing, "on_raw_reaction_add")
        client.add_listener(nothing, "on_raw_reaction_remove")
    await client._async_setup_hook()
    started = time.perf_counter()
    await feed(client, events)
    elapsed = time.perf_counter() - started
    await client.close()
    return events.count / elapsed


async def ingest_bot(bot: Projectionist, events) -> tuple[float, float, float]:
    """A burst through the bot: events per second until every event is committed (to the
    reaction log), the p99 from event to commit, and the seconds after the last commit until the
    burst is merged into `reactions` (the recorder merges once the burst is over)."""
    recorder = bot.recorder
    recorder.commit_latencies = []
    started = time.perf_counter()
    await feed(bot, events)
    await recorder.commit()
    committed = time.perf_counter()
    await recorder.merge()
    merged = time.perf_counter()
    # SQLite's log copied into its file once the merges pause, beside the bot's work: waited
    # for, so that the next round starts with the machine as quiet as this one did.
    await recorder.checkpointed()
    latencies, recorder.commit_latencies = recorder.commit_latencies, None
    p99 = percentile(latencies, 99) * 1000 if latencies else 0.0
    return events.count / (committed - started), p99, merged - committed


async def ingest_sustained(
    bot: Projectionist, parts: list, checkpoints: list[float] | None = None
) -> tuple[float, float, float]:
    """Several bursts back to back, as one stream: (events per second for discord.py alone,
    events per second through the bot until every event is merged into `reactions`, events
    per second for discord.py's parser with no listener). Merges
    now run while events keep coming, and all of their work is inside the time measured. The
    seconds SQLite's checkpoint goes on after that (see `ReactionRecorder.checkpointed`) are
    added to `checkpoints`."""
    noop_seconds = parse_seconds = 0.0
    for events in parts:
        noop_seconds += events.count / await ingest_noop(events)
        parse_seconds += events.count / await ingest_noop(events, listening=False)
    started = time.perf_counter()
    for events in parts:
        await feed(bot, events)
    await bot.recorder.flush()
    elapsed = time.perf_counter() - started
    await bot.recorder.checkpointed()
    if checkpoints is not None:
        checkpoints.append(time.perf_counter() - started - elapsed)
    count = sum(events.count for events in parts)
    return count / noop_seconds, count / elapsed, count / parse_seconds


# The baseline's statements: on PostgreSQL, on the rows behind the view `reactions` (migration
# 0036), whose triggers would write a row with two statements of their own; the benchmark's
# emoji are all numbered by then.
NAIVE_SQL = {
    "sqlite": (
        "INSERT INTO reactions VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        "DELETE FROM reactions WHERE message_id = ? AND user_id = ? AND emoji = ?",
    ),
    "postgresql": (
        "INSERT INTO reaction_rows SELECT ?1, ?2, number, reaction_at(?4) FROM emoji_numbers "
        "WHERE key = ?3 ON CONFLICT DO NOTHING",
        "DELETE FROM reaction_rows r USING emoji_numbers e WHERE r.message_id = ? "
        "AND r.user_id = ? AND e.key = ? AND r.emoji = e.number",
    ),
}


class NaiveRecorder(ReactionRecorder):
    """The baseline: every event committed in a transaction of its own."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._flushes: set[asyncio.Task] = set()

    def _push(self, op):
        task = asyncio.create_task(self._commit_one(op))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _commit_one(self, op):
        add, remove = NAIVE_SQL[self.db.backend]
        async with self.db.transaction() as conn:
            if op[0] == ADD:
                await conn.execute(add, (*op[1:4], int(self.clock())))
            else:
                await conn.execute(remove, op[1:4])


async def ingest_naive(bot: Projectionist, events) -> float:
    naive = NaiveRecorder(bot.db, bot.recorder.clock)
    naive.tracked = bot.recorder.tracked
    # The reactions cog hands events to the recorder it holds: the baseline takes its place.
    cog = reactions_cog(bot)
    original, cog.recorder = cog.recorder, naive
    try:
        started = time.perf_counter()
        await feed(bot, events)
        await asyncio.gather(*naive._flushes)
        return events.count / (time.perf_counter() - started)
    finally:
        cog.recorder = original


LOAD_SPAN = 60  # seconds of load whose removals take back stored reactions (then random ones)


class ReactionsArriving:
    """Reaction events fed to the bot at `rate` a second while the block runs; `events_per_s`
    is the rate achieved, every event committed and merged when the block ends."""

    def __init__(self, bot: Projectionist, scale: Scale, rate: int, seed: int) -> None:
        self.bot, self.scale, self.rate, self.seed = bot, scale, rate, seed
        self.events_per_s = 0

    async def __aenter__(self) -> ReactionsArriving:
        self._events = await removing_events(
            self.bot, self.scale, self.rate * LOAD_SPAN, seed=self.seed
        )
        self._stop = asyncio.Event()
        self._fed = 0
        self._started = time.perf_counter()
        self._task = asyncio.create_task(self._load())
        return self

    async def _load(self) -> None:
        parsers = self.bot._connection.parsers
        tick = 0.01
        next_at = time.perf_counter()
        while not self._stop.is_set():
            for kind, data in self._events.slice(self._fed, self._fed + int(self.rate * tick)):
                parsers[kind](data)
                self._fed += 1
            next_at += tick
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        await self._task
        self.events_per_s = round(self._fed / (time.perf_counter() - self._started))
        await self.bot.recorder.flush()
        await self.bot.recorder.checkpointed()


async def latency_under_load(bot, adapter, payloads, rounds: int, rate: int, scale: Scale) -> dict:
    async with ReactionsArriving(bot, scale, rate, seed=5) as load:
        results = await measure_latency(bot, adapter, payloads, rounds)
    return {"results": results, "events_per_s": load.events_per_s}


async def film_life_under_load(bot: Projectionist, scale: Scale, rounds: int, rate: int) -> dict:
    """The members' film life timed as by `measure_film_life`, while reactions arrive."""
    async with ReactionsArriving(bot, scale, rate, seed=6) as load:
        results = await time_film_life(bot, scale, rounds, seed=7)
    return {**results, "reactions_per_s": load.events_per_s}


# --- the run ------------------------------------------------------------------------------


def child(args: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "bench.prepare", *args], check=True, cwd=ROOT)


def port_in_child(config: Config, url: str) -> None:
    """`db port`, as a host runs it: its memory is not the bot's."""
    subprocess.run(
        [sys.executable, "-m", "bot", "db", "port", "--to", url],
        check=True,
        cwd=ROOT,
        env={**os.environ, "DATABASE_PATH": str(config.database_path)},
        stdout=subprocess.DEVNULL,
    )


RATIO_ROUNDS = 3


def median_round(rounds: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """The (discord.py alone, ours, its parser alone) of the round whose ratio is the median."""
    ordered = sorted(rounds, key=lambda round_: round_[1] / round_[0])
    return ordered[len(ordered) // 2]


def spread(rounds: list[tuple[float, float, float]], against: int = 0) -> list[float]:
    """The lowest and highest ratio of the rounds (to discord.py alone, or to its parser)."""
    ratios = [round_[1] / round_[against] for round_ in rounds]
    return [round(min(ratios), 3), round(max(ratios), 3)]


async def measure_bot(
    bot: Projectionist, scale: Scale, results: dict, cold: float, warm: float, sizes: dict
) -> None:
    scale_factor = scale.factor
    step("measuring command latency")
    results["startup"] = {
        "cold_s": round(cold, 3),
        "warm_s": round(warm, 3),
        "essays": scale.essays,
    }
    results["size"] = {
        "bytes_per_reaction": round(sizes["bytes_per_reaction"], 1),
        "bytes_per_quote": round(sizes["bytes_per_quote"], 1),
        "reactions": sizes["reactions"],
    }

    adapter = CapturingAdapter()
    webhook_async.async_context.set(adapter)
    rng = random.Random(3)
    payloads = command_payloads(bot, bot_interactions(bot), rng)
    rounds = max(30, min(300, int(300 * scale_factor) or 30))
    await measure_latency(bot, adapter, payloads, 5)  # warm caches
    results["latency"] = await measure_latency(bot, adapter, payloads, rounds)
    reports = report_payloads(bot_interactions(bot))
    await measure_latency(bot, adapter, reports, 2)
    results["reports"] = await measure_latency(bot, adapter, reports, report_calls(rounds))
    results["latency"]["p99_ms"] = max(v["p99_ms"] for v in results["latency"].values())
    step("measuring the members' film life")
    results["film_life"] = await measure_film_life(bot, scale, rounds)

    step("measuring command latency while reactions arrive")
    under = await latency_under_load(bot, adapter, payloads, rounds, 2000, scale)
    results["latency_under_load"] = under["results"]
    results["latency_under_load"]["p99_ms"] = max(v["p99_ms"] for v in under["results"].values())
    results["latency_under_load"]["reactions_per_s"] = under["events_per_s"]
    step("measuring the members' film life while reactions arrive")
    results["film_life_under_load"] = await film_life_under_load(bot, scale, rounds, 2000)

    count = max(2000, int(50_000 * scale_factor))
    step(f"ingesting {count} reaction events")
    # Three rounds of each kind, each beside discord.py alone on the same events, and the median
    # round reported with the spread: a noisy moment on a 2-core machine (single rounds vary by
    # about 7% either way) neither decides the ratio nor is hidden. Each round has events of its
    # own: replayed ones would find their rows already written and measure writes that do nothing.
    # A quarter of them remove reactions the server has, as members take theirs back.
    bursts, commit_p99s, merge_seconds = [], [], []
    for round_number in range(RATIO_ROUNDS):
        events = await removing_events(bot, scale, count, 9 + round_number)
        noop_rate = await ingest_noop(events)
        parse_rate = await ingest_noop(events, listening=False)
        step("ingesting through the bot")
        rate, p99, merge = await ingest_bot(bot, events)
        bursts.append((noop_rate, rate, parse_rate))
        commit_p99s.append(p99)
        merge_seconds.append(merge)
    noop, ours, parse = median_round(bursts)
    commit_p99 = max(commit_p99s)
    # Sustained: five bursts' worth of new events as one stream, beside discord.py alone.
    sustained: list[tuple[float, float, float]] = []
    checkpoints: list[float] = []
    for stream in range(RATIO_ROUNDS):
        step(f"ingesting {5 * count} events as one stream, merges included")
        each = count // REMOVAL_EVERY
        removals = await stored_reactions(bot, scale, 5 * each, 20 + stream)
        parts = [
            Events(
                scale, count, 20 + 5 * stream + part, removals.part(part * each, (part + 1) * each)
            )
            for part in range(5)
        ]
        sustained.append(await ingest_sustained(bot, parts, checkpoints))
    sustained_noop, sustained_ours, sustained_parse = median_round(sustained)
    naive_events = await removing_events(bot, scale, max(1000, count // 10), 99)
    step("ingesting with one commit per event")
    naive = await ingest_naive(bot, naive_events)
    results["ingest"] = {
        "events": count,
        "events_per_s": round(ours),
        "noop_events_per_s": round(noop),
        "naive_events_per_s": round(naive),
        "ratio_vs_noop": round(ours / noop, 3),
        "ratio_vs_noop_spread": spread(bursts),
        "parse_events_per_s": round(parse),
        "ratio_vs_parse": round(ours / parse, 3),
        "ratio_vs_parse_spread": spread(bursts, against=2),
        "ratio_vs_naive": round(ours / naive, 1),
        "commit_p99_ms": round(commit_p99, 1),
        "merged_after_burst_ms": round(max(merge_seconds) * 1000, 1),
        "sustained_events": 5 * count,
        "sustained_events_per_s": round(sustained_ours),
        "sustained_noop_events_per_s": round(sustained_noop),
        "sustained_ratio_vs_noop": round(sustained_ours / sustained_noop, 3),
        "sustained_ratio_vs_noop_spread": spread(sustained),
        "sustained_parse_events_per_s": round(sustained_parse),
        "sustained_ratio_vs_parse": round(sustained_ours / sustained_parse, 3),
        "sustained_ratio_vs_parse_spread": spread(sustained, against=2),
        # None where the database makes its own (PostgreSQL): nothing was waited for.
        "checkpoint_after_stream_ms": (
            round(statistics.median(checkpoints) * 1000, 1) if bot.recorder.db.checkpoints else None
        ),
        "rounds": RATIO_ROUNDS,
    }
    step(f"lengthening the counts to nine months; the reports over {HISTORY_DAYS} days")
    results["history"] = await measure_history(bot, adapter, scale, rounds)


async def shown_as_counted(bot: Projectionist, adapter: CapturingAdapter, payload: Payload) -> None:
    """Refuses to time a `/stats server` whose reply is not the period's reactions as its days
    count them: an error's reply, or counts the lengthening left unequal."""
    await bot_interactions(bot).run(adapter, payload)
    embeds = (adapter.reply or {}).get("data", {}).get("embeds") or [{}]
    shown = embeds[0].get("description", "").split(" reaction")[0]
    days = payload["data"]["options"][0]["options"][0]["value"]
    counted = await bot.services.db.fetchval(
        "SELECT sum(reactions) FROM reaction_days WHERE guild_id = ? AND day >= ?",
        (GUILD_ID, counted_since(int(time.time()), days) // 86400),
    )
    if shown != f"{counted or 0:,}":
        raise RuntimeError(f"/stats server days:{days} showed {shown!r}; the days count {counted}")


async def measure_history(
    bot: Projectionist, adapter: CapturingAdapter, scale: Scale, rounds: int
) -> dict:
    """The period reports and the club's year over nine months of counts (bench/history.py),
    as often as the month's reports and years are timed."""
    await bot.services.recorder.flush()  # nothing of the bot's left to write beside the child
    await bot.services.recorder.checkpointed()
    config = bot.config
    url = config.database_url or f"sqlite://{config.database_path.resolve()}"
    started = time.perf_counter()
    counts_held = json.loads(
        await asyncio.to_thread(
            subprocess.check_output,
            [sys.executable, "-m", "bench.prepare", "history", url],
            cwd=ROOT,
        )
    )
    lengthened = round(time.perf_counter() - started, 2)
    # the statistics a bot with this history plans by: its daily chore on SQLite
    await bot.services.db.refresh_statistics()
    reports = report_payloads(bot_interactions(bot), HISTORY_DAYS)
    await shown_as_counted(bot, adapter, reports["stats_server"]())
    await measure_latency(bot, adapter, reports, 2)
    figures = await measure_latency(bot, adapter, reports, report_calls(rounds))
    film_life = film_life_commands(bot, *await film_members_of(bot, scale), seed=7)
    figures["stats_year_club"] = await timed(
        film_life["stats_year_club"], calls_of(rounds)["stats_year_club"]
    )
    return {
        **counts_held,
        "lengthened_s": lengthened,
        "days_reported": HISTORY_DAYS,
        "year_weeks": year_weeks(),
        **figures,
    }


async def build_community(folder: Path, scale_factor: float) -> tuple[Config, float]:
    """The synthetic community in `folder`: essays synced by a first start (timed: the cold
    start-up), then quotes, reactions and weeks filled in. Returns its config and that time."""
    config = Config(database_path=folder / "bench.db", essays_dir=folder / "essays")
    child(["essays", str(config.essays_dir), str(scale_factor)])
    step(f"cold start with {Scale(scale_factor).essays} new essays")
    bot, cold = await start_bot(config)
    await bot.close()
    step("filling quotes, reactions and weeks")
    child(["fill", str(config.database_path), str(scale_factor), str(int(time.time()))])
    return config, cold


async def on_postgres(config: Config, server, sizes: dict) -> tuple[Config, float, dict]:
    """The same community moved into the throwaway server with `db port`; the cold start timed
    on an empty database of its own. Returns the config, that time and the sizes there."""
    from bot.postgres import PostgresDatabase

    step("cold start on an empty PostgreSQL database")
    empty = dataclasses.replace(config, database_url=server.create_database("cold"))
    bot, cold = await start_bot(empty)
    await bot.close()
    step("moving the community into PostgreSQL (db port, in a process of its own)")
    url = server.create_database("bench")
    port_in_child(config, url)
    db = await PostgresDatabase.open(url)
    try:
        await db.write("VACUUM ANALYZE")
        quotes = await db.fetchval("SELECT count(*) FROM quotes")
        reactions = await db.fetchval("SELECT count(*) FROM reactions")
        size = "SELECT pg_total_relation_size(?)"
        sizes = {
            **sizes,
            "bytes_per_quote": (
                await db.fetchval(size, ("quotes",)) + await db.fetchval(size, ("quote_words",))
            )
            / max(quotes, 1),
            # the rows behind the view `reactions` and their emoji's numbers (migration 0036)
            "bytes_per_reaction": (
                await db.fetchval(size, ("reaction_rows",))
                + await db.fetchval(size, ("emoji_numbers",))
            )
            / max(reactions, 1),
        }
    finally:
        await db.close()
    return dataclasses.replace(config, database_url=url), cold, sizes


async def run(scale_factor: float, backend: str = "sqlite", film_life_only: bool = False) -> dict:
    scale = Scale(scale_factor)
    results: dict = {"scale": scale_factor, "backend": backend}
    server = None
    with tempfile.TemporaryDirectory(prefix="projectionist-bench-") as tmp:
        tmp_path = Path(tmp)
        try:
            config, cold = await build_community(tmp_path, scale_factor)
            sizes = json.loads((tmp_path / "bench.db.sizes.json").read_text())
            if backend == "postgresql":
                from tests.postgres_server import PostgresServer, unavailable

                if reason := unavailable():
                    raise SystemExit(f"Cannot run the benchmark on PostgreSQL: {reason}.")
                server = PostgresServer().start()
                config, cold, sizes = await on_postgres(config, server, sizes)
            gc.collect()
            bot, warm = await start_bot(config)
            # SQLite's planner statistics, as the bot's timers make them once it is connected
            await bot.services.db.refresh_statistics()
            try:
                if film_life_only:
                    rounds = max(30, min(300, int(300 * scale_factor) or 30))
                    results["film_life"] = await measure_film_life(bot, scale, rounds)
                else:
                    await measure_bot(bot, scale, results, cold, warm, sizes)
            finally:
                await bot.close()
        finally:
            if server is not None:
                server.stop()
    results["memory"] = {
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    }
    return results


def results_path(backend: str) -> Path:
    name = "results.json" if backend == "sqlite" else f"results-{backend}.json"
    return ROOT / "bench" / name


def flatten(results: dict, prefix: str = "") -> dict[str, float]:
    flat = {}
    for key, value in results.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def table(results: dict) -> str:
    flat = flatten(results)
    goals = targets(results.get("backend", "sqlite"))
    lines = [f"{'figure':<44} {'value':>12}  target", "-" * 70]
    for key, value in flat.items():
        target = goals.get(key) if isinstance(value, int | float) else None
        mark = ""
        if target is not None:
            op, bound = target
            ok = value >= bound if op == ">=" else value <= bound
            mark = f"{op} {bound}  {'ok' if ok else 'MISSED'}"
        lines.append(f"{key:<44} {value!s:>12}  {mark}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--out", help="default: bench/results.json (results-postgresql.json)")
    parser.add_argument(
        "--if-available",
        action="store_true",
        help="on PostgreSQL: without a server to start here, say so and exit 0 (make test)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="check that every round runs without an error, printing no figures (make test): "
        "figures at a small scale mean nothing; they belong to make bench",
    )
    parser.add_argument(
        "--film-life",
        action="store_true",
        help="only the members' film life rounds, printed and not saved (while working on them)",
    )
    args = parser.parse_args()
    if args.film_life:
        figures = asyncio.run(run(args.scale, args.backend, film_life_only=True))
        print(json.dumps(figures["film_life"], indent=2))
        return 0
    if args.backend == "postgresql" and args.if_available and no_postgresql("PostgreSQL benchmark"):
        return 0
    if args.smoke:
        global QUIET
        QUIET = True
        asyncio.run(run(args.scale, args.backend))  # an error ends it with its traceback
        print(f"Benchmark rounds on {args.backend}: every one ran without an error.")
        return 0
    args.out = args.out or str(results_path(args.backend))
    results = asyncio.run(run(args.scale, args.backend))
    save(results, args.out, table(results))
    return 0


if __name__ == "__main__":
    limit_malloc_arenas()  # before any thread starts
    sys.exit(main())
