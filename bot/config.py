"""Settings, read from the environment and `.env`, validated with messages a host can act on."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def redact_url(url: str) -> str:
    """The URL with its password (if any) replaced by ***."""
    return re.sub(r"(://[^:/@]*:)[^/]*@", r"\1***@", url)


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the setting and what to put there."""


@dataclass(frozen=True)
class Config:
    token: str | None = field(default=None, repr=False)
    database_path: Path = PROJECT_ROOT / "data" / "projectionist.db"
    # `postgresql://user:password@host:port/database` for PostgreSQL; `sqlite:///path` (or
    # unset: `database_path`) for SQLite. Kept out of repr: it may hold a password.
    database_url: str | None = field(default=None, repr=False)
    essays_dir: Path = PROJECT_ROOT / "essays"
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    force_sync: bool = False
    reconcile_days: int = 14
    demo: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "database_path", Path(self.database_path))
        if self.database_url is not None:
            url = self.database_url.strip()
            if url.startswith("sqlite:///"):
                object.__setattr__(self, "database_path", Path(url.removeprefix("sqlite://")))
                object.__setattr__(self, "database_url", None)
            elif url.startswith(("postgresql://", "postgres://")):
                object.__setattr__(self, "database_url", url)
            else:
                raise ConfigError(
                    "DATABASE_URL must be sqlite:///path/to/file.db or "
                    "postgresql://user:password@host:port/database, not "
                    f"{redact_url(url)!r}."
                )
        object.__setattr__(self, "essays_dir", Path(self.essays_dir))
        level = str(self.log_level).upper()
        if level not in LOG_LEVELS:
            raise ConfigError(
                f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}."
            )
        object.__setattr__(self, "log_level", level)

    @property
    def backend(self) -> str:
        return "postgresql" if self.database_url else "sqlite"

    @property
    def database_name(self) -> str:
        """The database as a log line or a message names it: never with its password."""
        return redact_url(self.database_url) if self.database_url else str(self.database_path)

    @property
    def database_password(self) -> str | None:
        """The password in DATABASE_URL, if any (redacted from every log line)."""
        if not self.database_url:
            return None
        return urlsplit(self.database_url).password

    @property
    def log_level_number(self) -> int:
        return logging.getLevelName(self.log_level)

    @classmethod
    def from_env(cls, env_file: str | Path | None = ".env") -> Config:
        """Read settings from the process environment, falling back to `env_file` if it exists."""
        values: dict[str, str | None] = {}
        if env_file is not None and Path(env_file).is_file():
            values.update(dotenv_values(env_file))
        values.update(os.environ)

        def get(name: str) -> str | None:
            value = values.get(name)
            return value.strip() if value and value.strip() else None

        kwargs: dict[str, object] = {"token": get("DISCORD_TOKEN")}
        if path := get("DATABASE_PATH"):
            kwargs["database_path"] = Path(path)
        if url := get("DATABASE_URL"):
            kwargs["database_url"] = url
        if path := get("ESSAYS_DIR"):
            kwargs["essays_dir"] = Path(path)
        if guild := get("DEV_GUILD_ID"):
            if not guild.isdigit():
                raise ConfigError(
                    f"DEV_GUILD_ID must be a server id (digits only), not {guild!r}. "
                    "Leave it empty to register commands globally."
                )
            kwargs["dev_guild_id"] = int(guild)
        if level := get("LOG_LEVEL"):
            kwargs["log_level"] = level
        if days := get("RECONCILE_DAYS"):
            if not days.isdigit() or not 0 <= int(days) <= 90:
                raise ConfigError(
                    f"RECONCILE_DAYS must be a number of days from 0 to 90, not {days!r}."
                )
            kwargs["reconcile_days"] = int(days)
        return cls(**kwargs)
