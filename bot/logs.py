"""Logging through discord.py's handler, with secrets (the token, the demo's preview token)
replaced wherever they would appear."""

from __future__ import annotations

import logging
from typing import TextIO

import discord

_secrets: set[str] = set()


def redact(secret: str | None) -> None:
    """Never let `secret` reach a log line."""
    if secret:
        _secrets.add(secret)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            message = record.getMessage()
            cleaned = message
            for secret in _secrets:
                cleaned = cleaned.replace(secret, "[redacted]")
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


class Silence(logging.Filter):
    """Drops log records whose message starts with one of `prefixes`."""

    def __init__(self, *prefixes: str) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefixes)


# The bot has no voice features: discord.py's warnings about voice libraries mean nothing here.
NO_VOICE = Silence("PyNaCl is not installed", "davey is not installed")
PLAIN_FORMAT = "{asctime} {levelname:<8} {name} {message}"


def setup_logging(level: int, token: str | None, stream: TextIO | None = None) -> None:
    """Log lines to standard error, in colour only on a terminal (never into the journal or a
    file), secrets redacted."""
    handler = logging.StreamHandler(stream)
    formatter = None
    if not (hasattr(handler.stream, "isatty") and handler.stream.isatty()):
        formatter = logging.Formatter(PLAIN_FORMAT, "%Y-%m-%d %H:%M:%S", style="{")
    discord.utils.setup_logging(
        level=level, root=True, handler=handler, **({"formatter": formatter} if formatter else {})
    )
    redact(token)
    handler.addFilter(RedactSecrets())
    logging.getLogger("discord.client").addFilter(NO_VOICE)
