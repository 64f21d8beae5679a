"""Print the command reference (a Markdown table) from the bot's own command tree, or, with
--check README.md, fail when the README's copy has drifted from it."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import discord
from discord import app_commands

from bot import Config
from bot.client import build_offline

START, END = "<!-- commands:start -->", "<!-- commands:end -->"


def usage(command: app_commands.Command) -> str:
    parts = [f"/{command.qualified_name}"]
    for param in command.parameters:
        parts.append(param.display_name if param.required else f"[{param.display_name}]")
    return " ".join(parts)


async def reference() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        bot = await build_offline(Config(database_path=Path(tmp) / "ref.db", essays_dir=Path(tmp)))
        try:
            rows = ["| Command | What it does |", "| --- | --- |"]
            for command in sorted(bot.tree.walk_commands(), key=lambda c: c.qualified_name):
                if isinstance(command, app_commands.Command):
                    rows.append(f"| `{usage(command)}` | {command.description} |")
            for menu in bot.tree.get_commands(type=discord.AppCommandType.message):
                # Discord gives menus no description: each keeps its own in `extras`.
                rows.append(f"| `{menu.name}` (message menu) | {menu.extras['description']} |")
            return "\n".join(rows)
        finally:
            await bot.close()


def main(argv: list[str]) -> int:
    table = asyncio.run(reference())
    if len(argv) == 2 and argv[0] == "--check":
        text = Path(argv[1]).read_text(encoding="utf-8")
        current = text.split(START, 1)[1].split(END, 1)[0].strip() if START in text else ""
        if current != table:
            print(
                f"{argv[1]}'s command reference is out of date: run `make docs`.", file=sys.stderr
            )
            return 1
        return 0
    if len(argv) == 2 and argv[0] == "--write":
        path = Path(argv[1])
        text = path.read_text(encoding="utf-8")
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
        path.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")
        return 0
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
