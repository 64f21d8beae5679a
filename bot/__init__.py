"""Projectionist: a Discord bot for film discussion communities."""

from bot.client import create_bot
from bot.config import Config

__all__ = ["Config", "create_bot"]
