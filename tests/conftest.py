from __future__ import annotations

import asyncio
import dataclasses
import functools
import gc
import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot import Config, create_bot, services
from bot import client as bot_client
from bot.db import open_database
from bot.postgres import PostgresDatabase
from bot.reactions.recorder import ReactionRecorder
from bot.sqlite import SqliteDatabase
from tests import postgres_server

ROOT = Path(__file__).resolve().parent.parent
SEED_ESSAY = ROOT / "essays" / "sera-elisabeth-shue-in-leaving-las-vegas.md"
SEED_TEXT = ROOT / "tests" / "fixtures" / "sera.txt"  # the seed essay as its author gave it
SERA = "sera-elisabeth-shue-in-leaving-las-vegas"


def long_essay() -> str:
    """An essay whose middle section needs three pages."""
    paragraph = (
        "The camera lingers on the neon while the score hums under every scene. "
        "Each shot is held a beat longer than comfort allows, and the city keeps glowing. "
    ) * 6
    long_section = "\n\n".join(f"{i}. {paragraph.strip()}" for i in range(1, 11))
    return (
        "Title: The Long Take\nFilm: Rope\nYear: 1948\nDirector: Alfred Hitchcock\n\n"
        "A short opening about a film shot as if in one take.\n\n"
        "## The Apartment\n\n" + long_section + "\n\n"
        "## The Trunk\n\nThe trunk sits in the middle of the room, *waiting*.\n"
    )


@pytest.fixture
def essays_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "essays"
    folder.mkdir()
    shutil.copy(SEED_ESSAY, folder / SEED_ESSAY.name)
    (folder / "the-long-take.md").write_text(long_essay(), encoding="utf-8")
    return folder


# Two costs of the bots a test process starts (some 700):
# - A bot collects the whole process's garbage before it freezes what its start built (see
#   `Projectionist.setup_hook`): 40 ms a start there, for nothing a test looks at.
# - simcord waits a bot's sleeps shorter than its settle timeout in real time, and each reaction
#   waited for the recorder's commit (within 50 ms) and its merge (after 100 ms idle): 160 ms a
#   reaction. simcord settles each action before the next, so a batch holds the same events at
#   2 and 4 ms. A test that needs events still queued (a close during a burst) sets the delay
#   back on its bot; the recorder's own tests drive its timing by hand
#   (tests/bot/test_reactions.py).
bot_client.gc = SimpleNamespace(collect=lambda: 0, freeze=gc.freeze, unfreeze=gc.unfreeze)
services.ReactionRecorder = functools.partial(ReactionRecorder, max_delay=0.002, merge_idle=0.004)

BACKENDS = ("sqlite", "postgresql")
MIGRATED = "projectionist_migrated"  # a database every PostgreSQL test starts from a copy of


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server for the session, with a migrated template database."""
    reason = postgres_server.unavailable()
    if reason:
        pytest.skip(f"PostgreSQL: {reason}")
    server = postgres_server.PostgresServer(in_memory=True).start()
    try:
        url = server.create_database(MIGRATED)

        async def migrate() -> None:
            await (await PostgresDatabase.open(url)).close()

        asyncio.run(migrate())
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def config(tmp_path: Path, essays_dir: Path, backend: str, request) -> Iterator[Config]:
    """The bot's settings on a fresh database of the test's backend."""
    config = Config(
        database_path=tmp_path / "data" / "test.db",
        essays_dir=essays_dir,
        heartbeat_seconds=TEST_HEARTBEAT,
        statistics_seconds=TEST_HEARTBEAT,
        checkpoint_seconds=TEST_HEARTBEAT,
    )
    if backend != "postgresql":
        yield config
        return
    server = request.getfixturevalue("postgres")
    name = f"test_{next(DATABASE_NUMBERS)}"
    url = server.create_database(name, template=MIGRATED)
    yield dataclasses.replace(config, database_url=url)
    server.drop_database(name)


# Every bot records its heartbeat (and refreshes SQLite's statistics, checkpoints its log) at
# start and then every this many seconds: tests move the virtual clock by days, and a beat each
# 30 virtual seconds would be thousands of transactions.
TEST_HEARTBEAT = 30 * 86400


DATABASE_NUMBERS = itertools.count(1)


@pytest.fixture
async def db(config: Config):
    """The test's database, opened and migrated, on its backend."""
    database = await open_database(config)
    yield database
    await database.close()


@pytest.fixture
def opener(backend: str, tmp_path: Path, request):
    """Opens one empty database of the test's backend with the migrations given (all: None),
    as often as asked: an upgrade's test opens it at an older version, then as it stands."""
    if backend == "sqlite":
        path = tmp_path / "old.db"
        return lambda migrations=None: SqliteDatabase.open(path, migrations)
    url = request.getfixturevalue("postgres").create_database(f"upgraded_{next(DATABASE_NUMBERS)}")
    return lambda migrations=None: PostgresDatabase.open(url, migrations)


def backend_of(nodeid: str) -> str | None:
    params = nodeid.partition("[")[2].removesuffix("]").split("-")
    return next((name for name in BACKENDS if name in params), None)


def sibling(nodeid: str, name: str) -> str:
    """The same test's id on the other backend."""
    other = next(b for b in BACKENDS if b != name)
    head, _, params = nodeid.partition("[")
    swapped = [other if p == name else p for p in params.removesuffix("]").split("-")]
    return f"{head}[{'-'.join(swapped)}]"


COLLECTED: set[str] = set()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items) -> None:
    COLLECTED.update(item.nodeid for item in items)  # before -k leaves any out


def pytest_terminal_summary(terminalreporter) -> None:
    """How many tests ran on each backend, why the counts differ, and why PostgreSQL's did not
    run when they did not."""
    counts = {name: 0 for name in BACKENDS}
    alone = {name: 0 for name in BACKENDS}
    # Under pytest-xdist the workers collect: every test reported counts as collected.
    for reports in terminalreporter.stats.values():
        COLLECTED.update(getattr(report, "nodeid", "") for report in reports)
    for report in terminalreporter.stats.get("passed", []):
        if report.when != "call":
            continue
        name = backend_of(report.nodeid)
        if name is not None:
            counts[name] += 1
            alone[name] += sibling(report.nodeid, name) not in COLLECTED
    line = ", ".join(f"{counts[name]} on {name}" for name in BACKENDS)
    terminalreporter.write_line(
        f"Passed per backend: {line} (of them, {alone['sqlite']} test what only SQLite has, "
        "its reaction log, its writer's priority and moving its file to PostgreSQL, and "
        f"{alone['postgresql']} what only PostgreSQL has: sharded processes, folds beside other "
        "processes' batches)"
    )
    reason = postgres_server.unavailable()
    if reason:
        terminalreporter.write_line(f"PostgreSQL tests skipped: {reason}")


@pytest.fixture
async def make_bot(config: Config):
    """Builds bots on the test's database and closes every one of them at teardown."""
    built: list[discord.Client] = []

    def build(cfg: Config | None = None):
        bot = create_bot(cfg or config)
        built.append(bot)
        return bot

    yield build
    for bot in built:
        await bot.close()  # closing twice is harmless; an unclosed database hangs the run


@pytest.fixture
def simcord_bot(make_bot):
    return make_bot()


@pytest.fixture
def club(simcord_env):
    return film_club(simcord_env)


def film_club(env, name: str = "Film Club", **where: Any):
    """A film club server: #general, a moderator (mia) and two members (alice, bob); `where`
    goes to simcord's `create_guild` (a shard)."""
    guild = env.create_guild(name, **where)
    general = guild.create_text_channel("general")
    mods = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
    mia = guild.add_member(env.create_user("mia"), roles=[mods])
    alice = guild.add_member(env.create_user("alice"))
    bob = guild.add_member(env.create_user("bob"))
    return type(
        "Club",
        (),
        {"env": env, "guild": guild, "general": general, "mia": mia, "alice": alice, "bob": bob},
    )
