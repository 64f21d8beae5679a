"""Where reaction ingestion spends its time: the benchmark's ingestion run again with parts of
the pipeline left out, each beside discord.py alone in the same round.

    python -m bench.breakdown [--scale 1.0] [--rounds 6]

- discord.py alone: `commands.Bot` with listeners that do nothing (the benchmark's baseline);
- discord.py's parser with no listener at all;
- the bot, its reaction handlers swapped for ones that do nothing: what the bot's process costs;
- the handlers' checks, without queueing anything;
- checks and queueing, batches dropped instead of written;
- everything: batches written, the round ending when its last batch is committed to the log;
- everything, the round ending when the log is merged into `reactions` too.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path
from unittest.mock import patch

from bench.community import Scale
from bench.run import (
    Events,
    build_community,
    ingest_bot,
    ingest_noop,
    reactions_cog,
    removing_events,
    start_bot,
)


def ignore(*args: object, **kwargs: object) -> None:
    pass


async def measure(scale_factor: float, rounds: int) -> dict[str, list[float]]:
    scale = Scale(scale_factor)
    count = max(2000, int(50_000 * scale_factor))
    rates: dict[str, list[float]] = {
        "discord.py alone": [],
        "discord.py's parser, no listener": [],
        "bot, handlers that do nothing": [],
        "handlers' checks only": [],
        "checks and queueing": [],
        "everything": [],
        "everything, merged": [],
    }
    with tempfile.TemporaryDirectory(prefix="projectionist-breakdown-") as tmp:
        config, _ = await build_community(Path(tmp), scale_factor)
        bot, _ = await start_bot(config)
        cog, recorder = reactions_cog(bot), bot.recorder
        handlers = {
            "raw_reaction_add": cog.reaction_added,
            "raw_reaction_remove": cog.reaction_removed,
        }

        async def drop() -> int:
            recorder._queue.clear()
            return 0

        async def rates_of(events: Events) -> tuple[float, float]:
            """Events per second until committed, and until merged."""
            committed, _, merge_seconds = await ingest_bot(bot, events)
            return committed, events.count / (events.count / committed + merge_seconds)

        async def rate(events: Events) -> float:
            return (await rates_of(events))[0]

        try:
            for round_number in range(rounds):
                events = await removing_events(bot, scale, count, 500 + round_number)
                rates["discord.py alone"].append(await ingest_noop(events))
                parser = await ingest_noop(events, listening=False)
                rates["discord.py's parser, no listener"].append(parser)
                for name, handler in handlers.items():
                    bot.stop_listening_inline(name, handler)
                    bot.listen_inline(name, ignore)
                rates["bot, handlers that do nothing"].append(await rate(events))
                for name, handler in handlers.items():
                    bot.stop_listening_inline(name, ignore)
                    bot.listen_inline(name, handler)
                with (
                    patch.object(recorder, "add", ignore),
                    patch.object(recorder, "remove", ignore),
                ):
                    rates["handlers' checks only"].append(await rate(events))
                with patch.object(recorder, "commit", drop):
                    rates["checks and queueing"].append(await rate(events))
                committed, merged = await rates_of(events)
                rates["everything"].append(committed)
                rates["everything, merged"].append(merged)
        finally:
            await bot.close()
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    rates = asyncio.run(measure(args.scale, args.rounds))
    alone = statistics.median(rates["discord.py alone"])
    print(f"{'':34} {'events/s (median)':>18}  of discord.py alone")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:34} {median:18,.0f}  {median / alone:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
