"""Builds the synthetic community in a child process, so its memory is not the bot's; and
lengthens its counts (bench/history.py), printing what they hold as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from bench.community import Scale, fill, write_essays
from bench.history import lengthen
from bot import Config
from bot.db import open_database


async def lengthened(url: str) -> dict[str, int]:
    """`lengthen` on the database of a DATABASE_URL (sqlite:///path or postgresql://...)."""
    db = await open_database(Config(database_url=url))
    try:
        return await lengthen(db)
    finally:
        await db.close()


def main(argv: list[str]) -> None:
    if argv[0] == "history":
        print(json.dumps(asyncio.run(lengthened(argv[1]))))
        return
    what, path, factor = argv[0], Path(argv[1]), float(argv[2])
    if what == "essays":
        write_essays(path, Scale(factor))
    else:
        sizes = fill(path, Scale(factor), now=int(argv[3]))
        Path(f"{path}.sizes.json").write_text(json.dumps(sizes))


if __name__ == "__main__":
    main(sys.argv[1:])
