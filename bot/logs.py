"""Logging through discord.py's handler, with secrets (the token, the demo's preview token)
replaced wherever they would appear."""

from __future__ import annotations

import logging
import re
from typing import TextIO

import discord

from bot.dburl import redact_url

_secrets: set[str] = set()
# A database URL in a log line, up to a space or a quote: its password, however written, is
# masked by parsing it (bot/dburl.py) rather than by searching for the password's text, which
# for a short password would cut up every line it happens to occur in.
DATABASE_URL = re.compile(r"postgres(?:ql)?://[^\s'\"<>]+")


def redact(secret: str | None) -> None:
    """Never let `secret` reach a log line."""
    if secret:
        _secrets.add(secret)


def clean(message: str) -> str:
    """The message with every database URL's password masked and every secret replaced."""
    if "postgres" in message:
        message = DATABASE_URL.sub(lambda m: redact_url(m.group(0)), message)
    for secret in _secrets:
        message = message.replace(secret, "[redacted]")
    return message


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = clean(message)
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
