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
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, TypedDict

import discord

from bot.config import Config
from bot.logs import Silence, redact

if TYPE_CHECKING:
    from simcord import ChannelHandle, Env, GuildHandle, MemberActor
    from simcord.preview import Preview

    from bot.client import Projectionist

log = logging.getLogger(__name__)

SEED_ESSAY_KEY = "sera-elisabeth-shue-in-leaving-las-vegas"
# The demo server's zone. The page shows every `<t:…>` timestamp in it too, as a member in New
# York sees them, so the times the bot spells out ("18:00 America/New_York") agree with them.
ZONE = "America/New_York"


@dataclass(frozen=True)
class ClockRequest:
    """`/demo advance`: move the clock this many hours, then call `moved` to tell the visitor
    (it edits the reply to the interaction `interaction_id`)."""

    hours: int
    moved: Callable[[], Awaitable[None]]
    interaction_id: int


WELCOME = (
    "**Welcome to the Projectionist demo.** This is #film-of-the-week, where the week runs: the "
    "kickoff, the prompts, members' takes, the poll for the next film and the digest all appear "
    "here, the one channel this page shows. Type a slash command below: `/essay read`, "
    "`/film rate`, `/film nominate`, `/quote random`, `/stats essay`. `/demo advance hours:24` "
    "moves the simulated clock: the prompts and the end of the week it passes arrive here by "
    "themselves. Times show as a member in New York sees them, the server's zone. Click a "
    "reaction under a post to add yours; switch *viewing as* to see what alice or bob sees."
)
REACTIONS = ("🎬", "❤️", "🔥", "👍")
# Headless Chromium on the demo's page (tests, screenshots): no sandbox as root, and nothing that
# reaches for the network, which is closed here.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
)


class World(TypedDict):
    """The seeded club, as the page and the screenshots use it."""

    guild: GuildHandle
    general: ChannelHandle
    weekly: ChannelHandle
    viewers: list[MemberActor]


async def seed(env: Env, bot: Projectionist) -> World:
    """A film club with something to see at once, all of it in the channel the page shows."""
    guild = env.create_guild("Film Club")
    general = guild.create_text_channel("general")
    weekly = guild.create_text_channel("film-of-the-week")
    mods = guild.create_role("Moderators", permissions=discord.Permissions(manage_guild=True))
    visitor = guild.add_member(env.create_user("sam"), roles=[mods])
    alice = guild.add_member(env.create_user("alice"))
    bob = guild.add_member(env.create_user("bob"))

    channel = bot.get_channel(weekly.id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send(WELCOME)
    await env.settle()
    await visitor.slash(general, "film settings", channel=weekly, timezone=ZONE, threads=False)
    await visitor.slash(
        general, "film start", title="Leaving Las Vegas", year=1995, essay=SEED_ESSAY_KEY
    )
    await visitor.slash(weekly, "film prompt add", text="Which scene of Sera's stayed with you?")
    await visitor.slash(weekly, "film prompt now")
    prompt = weekly.history()[-1]
    said = await alice.send(
        weekly, "Shue never asks for our pity. That's what makes it unbearable."
    )
    await bob.send(weekly, "The therapist scenes feel like a documentary.")
    await bob.context_menu(weekly, "Save as quote", said)
    await alice.slash(
        weekly, "film rate", stars=5, take="Shue is devastating and never sentimental."
    )
    take = weekly.history()[-1]
    await bob.slash(weekly, "film rate", stars=4)
    await alice.slash(weekly, "film nominate", title="Heat", year=1995)
    await bob.slash(weekly, "film nominate", title="Thief", year=1981)
    read = await visitor.slash(
        weekly, "essay read", essay=SEED_ESSAY_KEY, section="the-pact-love-without-redemption"
    )
    assert read.response is not None
    # A few reactions on what the visitor sees: the page lets a visitor add theirs to these.
    for post in (prompt, take, read.response.message):
        for member, emoji in zip((alice, bob, alice, bob), REACTIONS, strict=True):
            await member.react(post, emoji)
    return {
        "guild": guild,
        "general": general,
        "weekly": weekly,
        "viewers": [visitor, alice, bob],
    }


def load_simcord() -> ModuleType:
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


def answer_refusals_quietly(bot: Projectionist) -> None:
    """A member's mistake (a refusal) is an ordinary private reply, but it reaches the command
    tree's error hook, which the simulated Discord watches: its page would report the member's
    action as failed ("outcome uncertain") and stop taking actions. Refusals are answered
    before its watch; everything else still goes through it."""
    from bot.client import ProjectionistTree, refusal_message
    from bot.interactions import Interaction

    tree = bot.tree
    watched = tree.on_error  # the simulated Discord's recorder around the bot's own handler

    async def on_error(
        interaction: Interaction, error: discord.app_commands.AppCommandError
    ) -> None:
        if refusal_message(error) is not None and isinstance(tree, ProjectionistTree):
            await ProjectionistTree.on_error(tree, interaction, error)
        else:
            await watched(interaction, error)

    tree.on_error = on_error  # type: ignore[method-assign]


@asynccontextmanager
async def demo_world(
    config: Config, database: Path | None = None
) -> AsyncIterator[tuple[Env, Projectionist, World]]:
    """(env, bot, world): the bot running against a seeded, simulated Film Club."""
    simcord = load_simcord()

    from bot import create_bot

    with tempfile.TemporaryDirectory(prefix="projectionist-demo-") as tmp:
        db_path = database or Path(tmp) / "demo.db"
        demo_config = dataclasses.replace(config, token=None, database_path=db_path, demo=True)
        bot = create_bot(demo_config)
        env = simcord.Env(bot, check_errors=False)
        env.backend.bot_user.name = "Projectionist"  # the simulated Discord calls it TestBot
        await env.start()
        answer_refusals_quietly(bot)
        try:
            yield env, bot, await seed(env, bot)
        finally:
            await env.shutdown()
            await bot.close()


async def after_the_action(env: Env, operation: Callable[[], Awaitable[None]]) -> bool:
    """Run `operation` (move the clock, republish the page) once the page's action that asked
    for it (`/demo advance`) is over: the simulated Discord refuses both while a visitor's action
    is in flight. The wait yields without a timer: the action settles only when no timer is
    pending, so a sleeping retry would hold it up until it timed out. Whether it ran."""
    import simcord

    for _ in range(1_000_000):
        try:
            await operation()
            return True
        except simcord.SetupError as error:
            if "overlaps" not in str(error):
                raise
            await asyncio.sleep(0)
    return False


async def move_the_clock(env: Env, preview: Preview, request: ClockRequest) -> None:
    """Move the clock, tell the visitor what it brought, and push it all to the open pages:
    the page shows what was last published to it, so without this nothing new would appear
    until the visitor clicked "Refresh preview"."""
    import simcord

    # An interaction's reply can be edited for 15 minutes, which the simulated Discord counts on
    # its own clock: a jump of hours would end it, though the visitor asked seconds ago.
    asked = env.backend.interactions.get(request.interaction_id)
    if asked is not None:
        asked.expires_at = None
    if not await after_the_action(env, lambda: env.advance_time(request.hours * 3600)):
        log.warning("The clock could not be moved: the page kept acting")
        return
    try:
        with env.time_context():  # the bot's clock is the simulated one here too
            await request.moved()
    except Exception:
        log.exception("Could not tell the visitor the clock has moved")
    try:
        await after_the_action(env, preview.refresh)
    except simcord.SetupError as error:  # the page was closed meanwhile
        log.warning("The page could not be updated (%s)", error)


def why_offline(config: Config) -> str:
    """Why this is the demo, in the line that opens it."""
    if config.token:
        return "DISCORD_TOKEN is set, but the demo never connects to Discord"
    return "no Discord token set"


async def run_demo(
    config: Config,
    *,
    database: Path | None = None,
    port: int | None = None,
    on_ready: Callable[[str, object, World], Awaitable[None]] | None = None,
) -> int:
    """Run until the preview session ends. `on_ready(url, preview, world)` is for tests."""
    async with (
        demo_world(config, database) as (env, bot, world),
        env.preview(
            world["weekly"], viewers=world["viewers"], layout="channel", port=port, timezone=ZONE
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
            print(f"Projectionist offline demo ({why_offline(config)}): open {url}", flush=True)
        try:
            while not closed.done():
                request = asyncio.create_task(bot.demo_requests.get())
                done, _ = await asyncio.wait({closed, request}, return_when=asyncio.FIRST_COMPLETED)
                if request in done:
                    await move_the_clock(env, preview, request.result())
                else:
                    request.cancel()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
    return 0
