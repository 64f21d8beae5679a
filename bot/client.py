"""The Bot: its setup (database, migrations, essays, cogs, command sync) and the one error
handler every command and component goes through."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
import secrets
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.cluster import Cluster, take_identify_turn
from bot.config import Config
from bot.db import Database
from bot.errors import UserError
from bot.essays.library import Library
from bot.films.screenings import Screenings
from bot.films.service import Films
from bot.films.vote import Vote
from bot.interactions import send_ephemeral
from bot.jobs import Jobs
from bot.metrics import Metrics
from bot.quotes.service import Quotes
from bot.reactions.recorder import ReactionRecorder
from bot.services import COMMAND_PUSH, Services
from bot.stats.service import Stats
from bot.text import clip, shown
from bot.timers import Scheduler

if TYPE_CHECKING:
    from bot.demo import ClockRequest

log = logging.getLogger(__name__)

# The database runs in threads that need the GIL back after each SQLite call. At Python's 5 ms
# default, an event loop busy with a burst of events kept each such call waiting up to 5 ms per
# handoff (on the benchmark's full-scale data, a reaction batch waited up to 100 ms to start);
# threads that are idle compete for nothing, so a shorter interval costs only while both work.
GIL_SWITCH_INTERVAL_S = 0.0005

# What the bot needs in the channels it posts in, and nothing more.
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    create_events=True,  # a week's screening is a Discord event (the bot edits only its own)
)


def invite_url(client_id: int) -> str:
    return discord.utils.oauth_url(
        client_id,
        permissions=INVITE_PERMISSIONS,
        scopes=("bot", "applications.commands"),
    )


MESSAGE_LIMIT = 2000  # characters in a message's content

EXTENSIONS = (
    "cogs.essays",
    "cogs.films",
    "cogs.reactions",
    "cogs.quotes",
    "cogs.stats",
    "cogs.diary",
)
TREE_HASH_KEY = "command_tree_hash"


def refusal_message(error: BaseException) -> str | None:
    """What to tell a member whose command was refused (a UserError raised by the command or by
    one of its options), or None when the error is not a refusal."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, app_commands.TransformerError) and isinstance(error.__cause__, UserError):
        error = error.__cause__
    return clip(error.message, MESSAGE_LIMIT) if isinstance(error, UserError) else None


def acted_on(interaction: discord.Interaction) -> str:
    """What a member ran or clicked, as the log names it."""
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    data = interaction.data
    return str(data.get("custom_id", "?")) if data else "?"


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the member what went wrong: their own mistake plainly (a refusal, logged as such),
    ours with an id to quote."""
    refusal = refusal_message(error)
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if refusal is not None:
        log.info("member %s was refused %s", interaction.user.id, acted_on(interaction))
        message = refusal
    elif isinstance(error, app_commands.CheckFailure) and str(error):
        message = str(error)
    elif isinstance(error, app_commands.TransformerError):
        message = f"“{shown(str(error.value))}” is not a valid value for that option."
    else:
        error_id = secrets.token_hex(4)
        name = interaction.command.qualified_name if interaction.command else interaction.data
        log.error(
            "Unexpected error %s in %s (member %s)",
            error_id,
            name,
            interaction.user.id,
            exc_info=error,
        )
        message = (
            f"Sorry, something went wrong on our side. It has been logged as error `{error_id}`; "
            "a moderator can quote that id."
        )
    try:
        await send_ephemeral(interaction, message)
    except discord.HTTPException:
        what = "a refusal" if refusal is not None else "an error message"
        log.warning("Could not deliver %s to member %s", what, interaction.user.id)


def count_command(interaction: discord.Interaction, outcome: str) -> None:
    """A command's outcome and latency in the bot's metrics (bot/metrics.py)."""
    metrics = getattr(interaction.client, "metrics", None)
    if metrics is not None and interaction.command is not None:
        started = interaction.extras.get("started")
        took = None if started is None else time.perf_counter() - started
        metrics.command(interaction.command.qualified_name, outcome, took)


class ProjectionistTree(app_commands.CommandTree):
    """The command tree, through discord.py's public hooks only: `interaction_check` notes when
    a command started (for the completion log line), and `on_error` answers every command that
    failed. discord.py calls `on_error` for every slash command and context menu that raised,
    after any command, group or cog handler (context menus skip the cog's), so it is the one
    place that sees them all: a refusal (a UserError raised by the command or one of its
    options) gets its private reply there, anything else an apology with an id."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        interaction.extras["started"] = time.perf_counter()
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        count_command(interaction, "error" if refusal_message(error) is None else "refused")
        await report_error(interaction, error)


class Projectionist(commands.Bot):
    def __init__(
        self, config: Config, *, push_commands: bool = True, heartbeat: bool = True
    ) -> None:
        # Handlers `dispatch` calls itself, by event name (see `listen_inline`).
        self._inline: dict[str, tuple[Callable[..., None], ...]] = {}
        intents = discord.Intents.default()
        intents.message_content = False
        shards: dict[str, Any] = (  # discord.py's options for an AutoShardedBot
            {"shard_count": config.shard_count, "shard_ids": list(config.shard_ids or ()) or None}
            if config.shard_count is not None
            else {}
        )
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=ProjectionistTree,
            help_command=None,
            **shards,
        )
        self.config = config
        self.push_commands = push_commands
        # A running bot records its heartbeat; the demo and tools built offline do not.
        self.beats = heartbeat and not config.demo
        # The offline demo's requests to move its simulated clock (see cogs/demo.py).
        self.demo_requests: asyncio.Queue[ClockRequest] = asyncio.Queue()
        self._services: Services | None = None
        self._closing = False
        self.metrics = Metrics(config.shards_line)

    def listen_inline(self, event: str, handler: Callable[..., None]) -> None:
        """Have `handler` called with `event`'s arguments inside discord.py's dispatch of it,
        rather than as a listener. discord.py runs every listener of every event as a task of
        its own: about 10 µs an event on this project's benchmark, where parsing a reaction
        takes about 4. A handler that never awaits (the reactions', which only queue) is called
        in place instead. It must be quick; what it raises is logged and the event goes on to
        the listeners."""
        self._inline[event] = (*self._inline.get(event, ()), handler)

    def stop_listening_inline(self, event: str, handler: Callable[..., None]) -> None:
        left = tuple(h for h in self._inline.get(event, ()) if h != handler)
        if left:
            self._inline[event] = left
        else:
            self._inline.pop(event, None)

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        handlers = self._inline.get(event_name)
        if handlers is not None:
            for handler in handlers:
                try:
                    handler(*args, **kwargs)
                except Exception:
                    log.exception("Ignoring exception in %s handling %s", handler, event_name)
        super().dispatch(event_name, *args, **kwargs)

    @property
    def services(self) -> Services:
        """Every service, from `setup_hook` on (cogs load after it is built)."""
        if self._services is None:
            raise RuntimeError("the bot's services are built by setup_hook")
        return self._services

    @property
    def has_services(self) -> bool:
        """True from `setup_hook` until `close` has closed the database."""
        return self._services is not None

    # The services cogs use most, by name.
    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def library(self) -> Library:
        return self.services.library

    @property
    def films(self) -> Films:
        return self.services.films

    @property
    def vote(self) -> Vote:
        return self.services.vote

    @property
    def screenings(self) -> Screenings:
        return self.services.screenings

    @property
    def jobs(self) -> Jobs:
        return self.services.jobs

    @property
    def scheduler(self) -> Scheduler:
        return self.services.scheduler

    @property
    def recorder(self) -> ReactionRecorder:
        return self.services.recorder

    @property
    def quotes(self) -> Quotes:
        return self.services.quotes

    @property
    def stats(self) -> Stats:
        return self.services.stats

    async def setup_hook(self) -> None:
        started = time.perf_counter()
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        if self.beats and self.config.metrics_port is not None:  # a running bot, not a tool
            self.metrics.serve(self.config.metrics_port)
        self._services = await Services.start(
            self.config, clock=lambda: discord.utils.utcnow().timestamp(), metrics=self.metrics
        )
        for extension in EXTENSIONS + (("cogs.demo",) if self.config.demo else ()):
            await self.load_extension(extension)
        # The wall clock, as `python -m bot status` reads it in another process.
        self.cluster = Cluster(self.db, self.config, clock=time.time)
        if self.beats:  # every running bot, sharded or not: `python -m bot status` sees it
            self.heartbeat.change_interval(seconds=self.config.heartbeat_seconds)
            self.heartbeat.start()
        if self.push_commands:
            await self.sync_commands(force=self.config.force_sync)
        self.scheduler.start(self.wait_until_ready)
        # What start-up built (modules, the essay catalog, the command tree) lives as long as the
        # process. Frozen, it is left out of the collector's full passes, which under a burst of
        # events ran every few hundred milliseconds and held the event loop 20-40 ms each.
        gc.collect()
        gc.freeze()
        self.db.members_first()
        log.info("Ready to connect after %.2fs of setup", time.perf_counter() - started)

    def _tree_scope(self) -> discord.Object | None:
        return discord.Object(self.config.dev_guild_id) if self.config.dev_guild_id else None

    def tree_fingerprint(self) -> str:
        guild = self._tree_scope()
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = [c.to_dict(self.tree) for c in self.tree.get_commands(guild=guild)]
        encoded = json.dumps(payload, sort_keys=True, default=str).encode()
        return f"{guild.id if guild else 'global'}:{hashlib.sha256(encoded).hexdigest()}"

    async def sync_commands(self, *, force: bool = False) -> bool:
        """Push the command tree to Discord when it changed since the last push (Discord limits
        how often commands may be created), or always when `force` is set."""
        fingerprint = self.tree_fingerprint()
        # Processes starting together push once: the others find the fingerprint stored.
        async with self.db.once(COMMAND_PUSH):
            if not force and await self.db.get_meta(TREE_HASH_KEY) == fingerprint:
                log.info("Command tree unchanged; not syncing")
                return False
            synced = await self.tree.sync(guild=self._tree_scope())
            await self.db.set_meta(TREE_HASH_KEY, fingerprint)
        log.info("Synced %d commands", len(synced))
        return True

    async def on_app_command_completion(
        self,
        interaction: discord.Interaction,
        command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu,
    ) -> None:
        took = (time.perf_counter() - interaction.extras.get("started", time.perf_counter())) * 1000
        count_command(interaction, "ok")
        log.info("member %s ran /%s in %.0f ms", interaction.user.id, command.qualified_name, took)

    @tasks.loop(seconds=30)
    async def heartbeat(self) -> None:
        """This process's shards and the time, for `python -m bot status`."""
        try:
            await self.cluster.beat()
        except Exception as error:  # the next beat tries again
            log.warning("Could not record the heartbeat: %s", error)

    async def close(self) -> None:
        """Stop the timers, leave the cluster, close discord.py's side, then commit what the
        recorder holds and close the database: each step runs whatever the others met (a
        dispatcher that died, a database that is down)."""
        try:
            if self._services is not None:
                await self._services.scheduler.stop()
                if self.beats:
                    self.heartbeat.cancel()
                    try:
                        await self.cluster.leave()
                    except Exception as error:
                        log.warning("Could not leave the list of processes: %s", error)
        finally:
            try:
                await super().close()
            finally:
                # `has_services` stays true until what the recorder holds is committed and the
                # database closed; a second close meanwhile leaves it to the first.
                services = self._services
                if services is not None and not self._closing:
                    self._closing = True
                    try:
                        await services.close()
                    finally:
                        self._services = None
                gc.unfreeze()  # what start-up froze may now be collected with the rest
                self.metrics.stop()


class ShardedProjectionist(Projectionist, commands.AutoShardedBot):
    """The bot over `SHARD_COUNT` shards, or the `SHARD_IDS` of them this process runs."""

    _identify_buckets: int | None = None

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Every process's logins take turns through the database: one per bucket each
        5 seconds, however many processes start at once."""
        if self._identify_buckets is None:
            try:
                _, _, limits = await self.http.get_bot_gateway()
                self._identify_buckets = max(1, int(limits["max_concurrency"]))
            except (discord.HTTPException, discord.GatewayNotFound, KeyError):
                self._identify_buckets = 1
        waited = await take_identify_turn(self.db, (shard_id or 0) % self._identify_buckets)
        if waited:
            log.info("Shard %s waited %.1fs for its turn to log in", shard_id, waited)


async def build_offline(config: Config) -> Projectionist:
    """A bot set up as at start-up (database, essays, cogs) without connecting or pushing
    commands, for tools that read its command tree or drive its layers directly."""
    bot = bot_class(config)(config, push_commands=False, heartbeat=False)
    await bot._async_setup_hook()
    await bot.setup_hook()
    return bot


def create_bot(config: Config | None = None) -> Projectionist:
    """A bot that has not connected yet; `setup_hook` does the rest when it logs in."""
    config = config or Config()
    return bot_class(config)(config)


def bot_class(config: Config) -> type[Projectionist]:
    return ShardedProjectionist if config.shard_count is not None else Projectionist
