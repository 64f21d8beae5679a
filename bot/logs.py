"""Logging through discord.py's handler, with secrets (the token, the demo's preview token)
replaced wherever they would appear."""

from __future__ import annotations

import logging

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


def setup_logging(level: int, token: str | None) -> None:
    discord.utils.setup_logging(level=level, root=True)
    redact(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets())
