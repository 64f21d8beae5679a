"""`python -m bot`: run the bot (default), import and check essays, push the command tree."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Config, ConfigError
from bot.db import DatabaseTooNew, DatabaseUnavailable
from bot.errors import UserError
from bot.essays.library import decode_essay_bytes, scan_directory
from bot.essays.parse import file_stem, read_file
from bot.memory import limit_malloc_arenas
from bot.metrics import MetricsUnavailable
from bot.sqlite import explain_open_failure
from bot.text import plural

if TYPE_CHECKING:
    from bot.client import Projectionist

log = logging.getLogger("bot")

NO_TOKEN = (
    "No DISCORD_TOKEN is set. Put DISCORD_TOKEN=<your bot token> in a .env file next to the "
    "Makefile (see .env.example) or in the environment, then run `make run` again."
)


# A password shorter than this is masked only inside its URL: replaced wherever its text occurs,
# it would cut up unrelated words of every log line.
SHORTEST_PASSWORD_MASKED_ALONE = 8


def setup_logging(config: Config) -> None:
    from bot.logs import redact
    from bot.logs import setup_logging as setup

    setup(config.log_level_number, config.token)
    password = config.database_password
    if password and len(password) >= SHORTEST_PASSWORD_MASKED_ALONE:
        redact(password)


async def run_bot(config: Config) -> int:
    import aiohttp
    import discord

    from bot import create_bot

    # Discord out of reach: DNS, a refused or dropped connection, a timeout, a server error.
    unreachable = (aiohttp.ClientError, OSError, asyncio.TimeoutError, discord.DiscordServerError)

    if not config.token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    # The database first: one that cannot be used is said in one line, before any network.
    from bot.db import open_database

    await (await open_database(config)).close()
    log.info("Connecting to Discord")
    async with create_bot(config) as bot:
        if config.metrics_port is not None:  # a port in use is said before any network too
            bot.metrics.serve(config.metrics_port)
        stop_on_signals(bot)
        try:
            await bot.start(config.token)
        except discord.LoginFailure:
            log.error("Discord refused the token: check DISCORD_TOKEN in .env")
            return 1
        except unreachable as error:
            log.error(
                "Cannot reach Discord (%s): check this machine's network and try again.",
                type(error).__name__,
            )
            return 1
    return 0


def start_demo(config: Config, db: str | None, port: int | None) -> int:
    try:
        from bot.demo import load_simcord, run_demo

        load_simcord()
    except ImportError:
        if not config.token:
            print(NO_TOKEN, file=sys.stderr)
        print(
            "The offline demo needs the demo extra: pip install -e '.[demo]' (make run does it).",
            file=sys.stderr,
        )
        return 2
    try:
        return asyncio.run(run_demo(config, database=Path(db) if db else None, port=port))
    except (DatabaseTooNew, DatabaseUnavailable) as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def stop_on_signals(bot: Projectionist) -> None:
    """SIGTERM and Ctrl-C close the bot cleanly: pending writes flushed, the database closed."""
    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task[None]] = set()

    def stop(name: str) -> None:
        log.info("Received %s; shutting down", name)
        task = loop.create_task(bot.close())
        closing.add(task)
        task.add_done_callback(closing.discard)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop, sig.name)


async def sync_commands(config: Config) -> int:
    from bot import create_bot

    if not config.token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    # A push while the bot runs: its metrics port is the running bot's.
    forced = dataclasses.replace(config, force_sync=True, metrics_port=None)
    async with create_bot(forced) as bot:
        await bot.login(config.token)  # setup_hook runs here and pushes the tree
    return 0


def import_essay(args: argparse.Namespace, essays_dir: Path) -> int:
    source = Path(args.file)
    try:
        text = decode_essay_bytes(source.read_bytes(), source.name)
        markdown, essay = read_file(
            text,
            source.name,
            title=args.title,
            film=args.film,
            year=args.year,
            director=args.director,
            author=args.author,
        )
    except OSError as exc:
        print(f"Cannot read {source}: {exc.strerror}", file=sys.stderr)
        return 1
    except UserError as exc:
        print(f"{source.name}: {exc.message}", file=sys.stderr)
        return 1
    target = Path(args.out) if args.out else essays_dir / f"{file_stem(essay.title)}.md"
    if target.exists() and not args.force:
        print(f"{target} already exists; pass --force to replace it.", file=sys.stderr)
        return 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(markdown, encoding="utf-8")
    print(f"Wrote {target}: “{essay.title}”, {plural(len(essay.sections), 'section')}")
    for section in essay.sections:
        print(f"  {section.slug}: {section.heading}")
    for warning in essay.warnings:
        print(f"  warning: {warning}")
    return 0


def check_essays(essays_dir: Path) -> int:
    if not essays_dir.is_dir():
        print(f"No essays folder at {essays_dir}: check ESSAYS_DIR.", file=sys.stderr)
        return 1
    results = scan_directory(essays_dir, {})
    problems = 0
    for name, _digest, outcome in results:
        if isinstance(outcome, str):
            problems += 1
            print(f"FAIL {name}: {outcome}")
        elif outcome is not None:
            print(f"ok   {name}: “{outcome.title}”, {plural(len(outcome.sections), 'section')}")
            for warning in outcome.warnings:
                print(f"     warning: {warning}")
    if not results:
        print(f"No essays found in {essays_dir}")
    print(f"{plural(len(results), 'essay')}, {problems:,} with problems")
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Projectionist")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser(
        "run", help="run the bot on Discord; without a token, the offline demo (default)"
    )
    demo = sub.add_parser("demo", help="the offline demo: a simulated server in your browser")
    demo.add_argument("--db", help="keep the demo's database in this file (default: a temp file)")
    demo.add_argument("--port", type=int, help="the loopback port for the preview")
    sub.add_parser("sync", help="push the slash command tree to Discord now")
    essays = sub.add_parser("essays", help="work with the essays folder")
    essays_sub = essays.add_subparsers(dest="essays_command", required=True)
    imp = essays_sub.add_parser("import", help="turn a .txt or .md file into a library essay")
    imp.add_argument("file")
    imp.add_argument("--title")
    imp.add_argument("--film")
    imp.add_argument("--year", type=int)
    imp.add_argument("--director")
    imp.add_argument("--author")
    imp.add_argument("--out", help="where to write (default: essays/<title>.md)")
    imp.add_argument("--force", action="store_true", help="replace an existing file")
    essays_sub.add_parser("check", help="parse every essay and report problems")
    invite = sub.add_parser("invite", help="the link that adds the bot to a server")
    invite.add_argument("client_id", type=int, help="the application's client id")
    db = sub.add_parser("db", help="the database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_backup = db_sub.add_parser("backup", help="a consistent copy, safe while the bot runs")
    db_backup.add_argument("path")
    db_sub.add_parser("check", help="integrity check and schema version")
    db_port = db_sub.add_parser(
        "port", help="copy the SQLite database into an empty PostgreSQL database"
    )
    db_port.add_argument("--to", required=True, metavar="URL", help="postgresql://...")
    sub.add_parser("status", help="the bot's running processes, their shards and heartbeats")
    exp = sub.add_parser("export", help="a server's or a member's data as JSON")
    who = exp.add_mutually_exclusive_group(required=True)
    who.add_argument("--guild", type=int, help="a server id")
    who.add_argument("--member", type=int, help="a member id")
    exp.add_argument("--out", help="write here instead of standard output")
    return parser


def database_command(args: argparse.Namespace, config: Config) -> int:
    from bot import ops

    try:
        if args.command == "export":
            exported = asyncio.run(ops.export(config, guild_id=args.guild, member_id=args.member))
            data = ops.export_json(exported)
            if args.out:
                Path(args.out).write_text(data, encoding="utf-8")
                print(f"Wrote {args.out}")
            else:
                print(data)
            return 0
        if args.db_command == "port":
            # The source is the SQLite file (DATABASE_PATH) and the target --to alone, whatever
            # DATABASE_URL says: it may already name the new database.
            same, lines = asyncio.run(ops.port(config, args.to))
            print("\n".join(lines))
            return 0 if same else 1
        if args.db_command == "backup":
            if config.database_url:
                print(ops.pg_dump_advice(config, args.path), file=sys.stderr)
                return 1
            size = ops.backup(config.database_path, Path(args.path))
            print(f"Backed up {config.database_path} to {args.path} ({plural(size, 'byte')})")
            return 0
        if config.database_url:
            healthy, lines = asyncio.run(ops.check_postgres(config))
        else:
            healthy, lines = ops.check(config.database_path)
        print("\n".join(lines))
        return 0 if healthy else 1
    except Exception as exc:
        if not (line := database_refusal(exc, config)):
            raise
        print(line, file=sys.stderr)
        return 1


def database_refusal(error: Exception, config: Config) -> str | None:
    """What a `db` or `status` command prints when the database refuses it: one line naming
    the file or the server, or None for any other error (a bug, raised as it is)."""
    from bot import ops

    if isinstance(error, sqlite3.Error):  # the file opened, then could not be read
        return explain_open_failure(config.database_path, error)
    if isinstance(error, (FileNotFoundError, DatabaseUnavailable, DatabaseTooNew, ops.PortRefused)):
        return str(error)
    if not type(error).__module__.startswith("asyncpg"):
        return None
    from bot.postgres import explain_migration_failure

    return explain_migration_failure(config.database_url or "", error)


def cluster_status(config: Config) -> int:
    """Every process of the bot with its shards and last heartbeat; exit 1 if a shard runs
    nowhere, runs twice, or a process stopped beating."""
    from bot import ops

    try:
        healthy, lines = asyncio.run(ops.status(config))
    except Exception as exc:
        if not (line := database_refusal(exc, config)):
            raise
        print(line, file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0 if healthy else 1


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = Config.from_env()
    except ConfigError as exc:
        print(f"Configuration problem: {exc}", file=sys.stderr)
        return 2
    if args.command == "essays":
        if args.essays_command == "import":
            return import_essay(args, config.essays_dir)
        return check_essays(config.essays_dir)
    if args.command == "invite":
        from bot.client import invite_url

        print(invite_url(args.client_id))
        return 0
    if args.command in ("db", "export"):
        return database_command(args, config)
    if args.command == "status":
        return cluster_status(config)
    if args.command == "sync" and not config.token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    setup_logging(config)
    if args.command == "demo" or (args.command in (None, "run") and not config.token):
        return start_demo(config, getattr(args, "db", None), getattr(args, "port", None))
    log.info("Using the real Discord with the token from DISCORD_TOKEN")
    runner = sync_commands if args.command == "sync" else run_bot
    try:
        return asyncio.run(runner(config))
    except (DatabaseTooNew, DatabaseUnavailable, MetricsUnavailable) as exc:
        log.error("%s", exc)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    limit_malloc_arenas()  # before any thread starts
    sys.exit(main())
