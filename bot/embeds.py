"""What every embed and reply of the bot shares: its colour, Discord's limits, and the one way
to show what a member, a moderator or a file named (a title, a name, a quote) as written."""

from __future__ import annotations

import discord

from bot.text import spoiler_parts

COLOUR = discord.Colour(0xC9A227)  # projector-lamp amber
TITLE_LIMIT = 256


def literal(text: str, *, spoilers: bool = False) -> str:
    """`text` shown exactly as typed: Markdown, masked links and code escaped, mentions broken
    so they never render or ping. With `spoilers`, the spoilers Discord would see in it stay
    spoilers (paired as Discord pairs them, escapes and code spans first), their inside escaped
    too; any other `||` is shown as typed."""
    if not spoilers:
        return discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    parts, _ = spoiler_parts(text)
    shown = [
        f"||{discord.utils.escape_markdown(piece)}||"
        if hidden
        else discord.utils.escape_markdown(piece)
        for piece, hidden in parts
    ]
    return discord.utils.escape_mentions("".join(shown))


def hidden(text: str) -> str:
    """Member text (with its own Markdown) hidden whole behind one spoiler: its own bars shown
    as typed, and a backslash at its end kept from escaping the closing bars."""
    text = text.replace("||", r"\|\|")
    if (len(text) - len(text.rstrip("\\"))) % 2:
        text += "\\"
    return f"||{text}||"
