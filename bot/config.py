"""Settings, read from the environment and `.env`, validated with messages a host can act on."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from dotenv import dotenv_values

from bot import dburl
from bot.dburl import redact_url
from bot.text import is_number

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# More shards than any bot runs: a typo like SHARD_COUNT=99999999999 is refused, not allocated.
MAX_SHARDS = 100_000
# Reconciliation may take at most this many of Discord's 50 calls a second, leaving the rest.
MAX_RECONCILE_RATE = 40


# A metrics address's host: none (every interface), a name, an IPv4 or a bracketed IPv6 address.
METRICS_HOST = re.compile(r"|[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]")
# Servers whose timers the dispatcher may run at once: more would only queue on the pool.
MAX_DISPATCH = 256


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the setting and what to put there."""


def metrics_address(text: str) -> str:
    """`9100`, `127.0.0.1:9100` or `[::1]:9100`, checked: a port from 1 to 65535."""
    text = text.strip()
    host, _, port = text.rpartition(":")
    if not is_number(port) or not 1 <= int(port) <= 65535 or not METRICS_HOST.fullmatch(host):
        raise ConfigError(
            f"METRICS_PORT must be a port (9100) or an address and a port (127.0.0.1:9100), "
            f"not {text!r}."
        )
    return text


def parse_shard_ids(text: str, count: int | None = None) -> tuple[int, ...]:
    """`0-7`, `8,9,10` or `0-3,8` -> the shard ids, each below `count` (or MAX_SHARDS)."""
    bound = count if count is not None else MAX_SHARDS
    ids: list[int] = []
    for part in text.replace(" ", "").split(","):
        bounds = part.split("-")
        if not part or len(bounds) > 2 or not all(is_number(b) for b in bounds):
            raise ConfigError(f"SHARD_IDS must be shard numbers like 0-7 or 8,9,10, not {text!r}.")
        first, last = int(bounds[0]), int(bounds[-1])
        if last < first:
            raise ConfigError(f"SHARD_IDS has a range that runs backwards: {part!r}.")
        if last >= bound:
            raise ConfigError(
                f"SHARD_IDS must be shards from 0 to {bound - 1}, not {last}"
                + (" (SHARD_COUNT is the number of shards in all)." if count else ".")
            )
        ids.extend(range(first, last + 1))
    return tuple(ids)


class Settings(TypedDict, total=False):
    """The fields of Config that `from_env` reads."""

    token: str | None
    database_path: Path
    database_url: str
    essays_dir: Path
    dev_guild_id: int
    shard_count: int
    shard_ids: tuple[int, ...]
    process_name: str
    log_level: str
    reconcile_days: int
    metrics_port: str
    dispatch_concurrency: int
    reconcile_rate: float


@dataclass(frozen=True)
class Config:
    token: str | None = field(default=None, repr=False)
    database_path: Path = PROJECT_ROOT / "data" / "projectionist.db"
    # `postgresql://user:password@host:port/database` for PostgreSQL; `sqlite:///path` (or
    # unset: `database_path`) for SQLite. Kept out of repr: it may hold a password.
    database_url: str | None = field(default=None, repr=False)
    # Sharding (an AutoShardedBot when shard_count is set): this process runs `shard_ids`, or
    # every shard when None.
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    process_name: str | None = None  # in `status`; host:pid unless PROCESS_NAME is set
    heartbeat_seconds: int = 30  # between a running process's heartbeats
    statistics_seconds: int = 86400  # between two refreshes of SQLite's planner statistics
    # Between two of the timers' checkpoints of SQLite's write-ahead log: the writes that are not
    # reactions (imports, essays) copied into the file when no merge of reactions has done it.
    checkpoint_seconds: int = 3600
    essays_dir: Path = PROJECT_ROOT / "essays"
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    force_sync: bool = False
    reconcile_days: int = 14
    # `[host:]port` where this process serves Prometheus metrics (bot/metrics.py), or None: off.
    metrics_port: str | None = None
    # How many servers' due timers and owed posts the dispatcher runs at once (bot/timers.py).
    dispatch_concurrency: int = 16
    # Discord calls a second that reconciling reactions may take (of Discord's 50 in all).
    reconcile_rate: float = 5.0
    demo: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "database_path", Path(self.database_path))
        if self.database_url is not None:
            url = self.database_url.strip()
            if url.startswith("sqlite:///"):
                object.__setattr__(self, "database_path", Path(url.removeprefix("sqlite://")))
                object.__setattr__(self, "database_url", None)
            elif url.startswith(("postgresql://", "postgres://")):
                if wrong := dburl.problem(url):
                    raise ConfigError(f"DATABASE_URL {redact_url(url)}: {wrong}.")
                object.__setattr__(self, "database_url", url)
            else:
                raise ConfigError(
                    "DATABASE_URL must be sqlite:///path/to/file.db or "
                    "postgresql://user:password@host:port/database, not "
                    f"{redact_url(url)!r}."
                )
        object.__setattr__(self, "essays_dir", Path(self.essays_dir))
        if self.shard_ids is not None:
            object.__setattr__(self, "shard_ids", tuple(sorted(set(self.shard_ids))))
            if self.shard_count is None:
                raise ConfigError(
                    "SHARD_IDS needs SHARD_COUNT: how many shards the bot has in all."
                )
            outside = [i for i in self.shard_ids if not 0 <= i < self.shard_count]
            if outside or not self.shard_ids:
                raise ConfigError(
                    f"SHARD_IDS must be shards from 0 to {self.shard_count - 1}, not "
                    f"{', '.join(map(str, outside)) or 'none'}."
                )
        if self.shard_count is not None and not 1 <= self.shard_count <= MAX_SHARDS:
            raise ConfigError(
                f"SHARD_COUNT must be from 1 to {MAX_SHARDS:,}, not {self.shard_count}."
            )
        partial = self.shard_ids is not None and len(self.shard_ids) < (self.shard_count or 0)
        if partial and not self.database_url:
            raise ConfigError(
                "SHARD_IDS names only some shards, so other processes run the rest: they must "
                "share a PostgreSQL database (DATABASE_URL), not a SQLite file."
            )
        level = str(self.log_level).upper()
        if level not in LOG_LEVELS:
            raise ConfigError(
                f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}."
            )
        object.__setattr__(self, "log_level", level)
        if self.metrics_port is not None:
            object.__setattr__(self, "metrics_port", metrics_address(str(self.metrics_port)))
        if not 1 <= self.dispatch_concurrency <= MAX_DISPATCH:
            raise ConfigError(
                f"DISPATCH_CONCURRENCY must be from 1 to {MAX_DISPATCH}, not "
                f"{self.dispatch_concurrency}."
            )

    @property
    def backend(self) -> str:
        return "postgresql" if self.database_url else "sqlite"

    @property
    def database_name(self) -> str:
        """The database as a log line or a message names it: never with its password."""
        return redact_url(self.database_url) if self.database_url else str(self.database_path)

    @property
    def shards_line(self) -> str:
        """This process's shards as `status` shows them: `0,1` or `all`."""
        return "all" if self.shard_ids is None else ",".join(map(str, self.shard_ids))

    @property
    def database_password(self) -> str | None:
        """The password in DATABASE_URL, if any (redacted from every log line)."""
        if not self.database_url:
            return None
        return dburl.password(self.database_url)

    @property
    def log_level_number(self) -> int:
        level: int = logging.getLevelName(self.log_level)
        return level

    @classmethod
    def from_env(cls, env_file: str | Path | None = ".env") -> Config:
        """Read settings from the process environment, falling back to `env_file` if it exists."""
        values: dict[str, str | None] = {}
        if env_file is not None and Path(env_file).is_file():
            try:
                values.update(dotenv_values(env_file))
            except OSError as error:
                user = _user()
                raise ConfigError(
                    f"Cannot read {Path(env_file).resolve()} ({error.strerror}): let the user "
                    f"{user} read it (`chown {user} {env_file}`; mode 600 keeps others out)."
                ) from None
        values.update(os.environ)

        def get(name: str) -> str | None:
            value = values.get(name)
            return value.strip() if value and value.strip() else None

        kwargs: Settings = {"token": get("DISCORD_TOKEN")}
        if path := get("DATABASE_PATH"):
            kwargs["database_path"] = Path(path)
        if url := get("DATABASE_URL"):
            kwargs["database_url"] = url
        if path := get("ESSAYS_DIR"):
            kwargs["essays_dir"] = Path(path)
        if guild := get("DEV_GUILD_ID"):
            if not is_number(guild):
                raise ConfigError(
                    f"DEV_GUILD_ID must be a server id (digits only), not {guild!r}. "
                    "Leave it empty to register commands globally."
                )
            kwargs["dev_guild_id"] = int(guild)
        if count := get("SHARD_COUNT"):
            if not is_number(count):
                raise ConfigError(f"SHARD_COUNT must be a number of shards, not {count!r}.")
            kwargs["shard_count"] = int(count)
        if ids := get("SHARD_IDS"):
            shards = kwargs.get("shard_count")
            bound = None if shards is None else max(1, min(shards, MAX_SHARDS))
            kwargs["shard_ids"] = parse_shard_ids(ids, bound)  # Config refuses it without a count
        if name := get("PROCESS_NAME"):
            kwargs["process_name"] = name
        if level := get("LOG_LEVEL"):
            kwargs["log_level"] = level
        if days := get("RECONCILE_DAYS"):
            if not is_number(days) or not 0 <= int(days) <= 90:
                raise ConfigError(
                    f"RECONCILE_DAYS must be a number of days from 0 to 90, not {days!r}."
                )
            kwargs["reconcile_days"] = int(days)
        if port := get("METRICS_PORT"):
            kwargs["metrics_port"] = port
        if concurrency := get("DISPATCH_CONCURRENCY"):
            if not is_number(concurrency):
                raise ConfigError(
                    f"DISPATCH_CONCURRENCY must be a number of servers, not {concurrency!r}."
                )
            kwargs["dispatch_concurrency"] = int(concurrency)
        if rate := get("RECONCILE_RATE"):
            try:
                value = float(rate)
            except ValueError:
                value = 0.0
            if not 0 < value <= MAX_RECONCILE_RATE:
                raise ConfigError(
                    "RECONCILE_RATE must be a number of Discord calls a second, above 0 and at "
                    f"most {MAX_RECONCILE_RATE} (Discord allows 50 in all), not {rate!r}."
                )
            kwargs["reconcile_rate"] = value
        return cls(**kwargs)


def _user() -> str:
    """This process's user name, as `chown` takes it."""
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except (KeyError, OSError):
        return str(os.geteuid())
