"""The offline demo: the real bot against a simulated Discord server, shown in the browser.

Needs the `demo` extra (simcord with its local preview). Nothing leaves this machine: the
preview listens on loopback only, and its address carries a secret token printed once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import discord

from bot.config import Config
from bot.logs import Silence, redact

log = logging.getLogger(__name__)

SEED_ESSAY_KEY = "sera-elisabeth-shue-in-leaving-las-vegas"


async def seed(env, bot) -> dict:
    """A film club with something to see at once."""
    guild = env.create_guild("Film Club")
    general = guild.create_text_channel("general")
    weekly = guild.create_text_channel("film-of-the-week")
    mods = guild.create_role("Moderators", permissions=discord.Permissions(manage_guild=True))
    visitor = guild.add_member(env.create_user("you"), roles=[mods])
    alice = guild.add_member(env.create_user("alice"))
    bob = guild.add_member(env.create_user("bob"))

    await visitor.slash(general, "film settings", channel=weekly, timezone="America/New_York")
    await visitor.slash(
        general, "film start", title="Leaving Las Vegas", year=1995, essay=SEED_ESSAY_KEY
    )
    thread = weekly.threads[0]
    await visitor.slash(general, "film prompt add", text="Which scene of Sera's stayed with you?")
    await visitor.slash(general, "film prompt now")
    prompt = thread.history()[-1]
    await alice.react(prompt, "🎬")
    await bob.react(prompt, "❤️")
    said = await alice.send(
        thread, "Shue never asks for our pity. That's what makes it unbearable."
    )
    await bob.send(thread, "The therapist scenes feel like a documentary.")
    await bob.context_menu(thread, "Save as quote", said)
    await alice.slash(
        general, "film rate", stars=5, take="Shue is devastating and never sentimental."
    )
    await bob.slash(general, "film rate", stars=4)
    await alice.slash(general, "film nominate", title="Heat", year=1995)
    await bob.slash(general, "film nominate", title="Thief", year=1981)
    read = await visitor.slash(
        general, "essay read", essay=SEED_ESSAY_KEY, section="the-pact-love-without-redemption"
    )
    await alice.react(read.response.message, "🎬")
    await bob.react(read.response.message, "🔥")
    return {
        "guild": guild,
        "general": general,
        "weekly": weekly,
        "thread": thread,
        "viewers": [visitor, alice, bob],
    }


def load_simcord():
    """simcord, imported without discord.py's warning about the client of no intents it probes
    discord.py with on import (the bot itself always has the guilds intent)."""
    probe_warning = Silence("Guilds intent seems to be disabled")
    state_log = logging.getLogger("discord.state")
    state_log.addFilter(probe_warning)
    try:
        import simcord
    finally:
        state_log.removeFilter(probe_warning)
    return simcord


@asynccontextmanager
async def demo_world(config: Config, database: Path | None = None) -> AsyncIterator[tuple]:
    """(env, bot, world): the bot running against a seeded, simulated Film Club."""
    simcord = load_simcord()

    from bot import create_bot

    with tempfile.TemporaryDirectory(prefix="projectionist-demo-") as tmp:
        db_path = database or Path(tmp) / "demo.db"
        demo_config = dataclasses.replace(config, token=None, database_path=db_path, demo=True)
        bot = create_bot(demo_config)
        bot.demo_requests = asyncio.Queue()
        env = simcord.Env(bot, check_errors=False)
        await env.start()
        try:
            yield env, bot, await seed(env, bot)
        finally:
            await env.shutdown()
            await bot.close()


async def run_demo(
    config: Config,
    *,
    database: Path | None = None,
    port: int | None = None,
    on_ready: Callable[[str, object, dict], Awaitable[None]] | None = None,
) -> int:
    """Run until the preview session ends. `on_ready(url, preview, world)` is for tests."""
    async with (
        demo_world(config, database) as (env, bot, world),
        env.preview(
            world["thread"], viewers=world["viewers"], layout="channel", port=port
        ) as preview,
    ):
        url = preview.url
        redact(preview.capability)
        closed = asyncio.create_task(preview.wait_closed())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, closed.cancel)
        if on_ready is not None:
            await on_ready(url, preview, world)
        else:
            print(f"Projectionist offline demo (no Discord token set): open {url}", flush=True)
        try:
            while not closed.done():
                request = asyncio.create_task(bot.demo_requests.get())
                done, _ = await asyncio.wait({closed, request}, return_when=asyncio.FIRST_COMPLETED)
                if request in done:
                    await env.advance_time(request.result() * 3600)
                else:
                    request.cancel()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
    return 0
