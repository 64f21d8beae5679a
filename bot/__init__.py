"""Projectionist: a Discord bot for film discussion communities."""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["Config", "create_bot"]

if TYPE_CHECKING:
    from bot.client import create_bot
    from bot.config import Config


def __getattr__(name: str) -> object:
    # Imported on first use, so that `python -m bot essays check` and `db check` load neither
    # discord.py nor the bot's services.
    if name == "Config":
        from bot.config import Config

        return Config
    if name == "create_bot":
        from bot.client import create_bot

        return create_bot
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
