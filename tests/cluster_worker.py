"""One process of a sharded bot, for the cluster tests: its own simulated Discord (one simcord
world per process), its shards of four, one PostgreSQL shared with the other processes. Driven
by one JSON command per line on standard input, answering one JSON line each.

    python -m tests.cluster_worker <database url> <shard ids> <days into 2026> <essays folder>
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import UTC
from pathlib import Path

from bot import Config, create_bot
from bot.demo import load_simcord
from tests.conftest import SERA

SHARDS = 4


class Worker:
    def __init__(self, url: str, shard_ids: tuple[int, ...], essays: Path) -> None:
        self.config = Config(
            database_url=url,
            essays_dir=essays,
            shard_count=SHARDS,
            shard_ids=shard_ids,
            process_name="shards " + ",".join(map(str, shard_ids)),
            heartbeat_seconds=30 * 86400,  # the virtual clock runs days at a time here
        )
        self.guilds: list = []

    async def start(self, days: int) -> dict:
        simcord = load_simcord()
        # The command tree is pushed once for the cluster (whichever process starts first); in
        # its own simulated Discord, the other process's commands are registered as pushed.
        self.env = simcord.Env(create_bot(self.config), check_errors=False, strict_sync=False)
        await self.env.start()
        await self.env.advance_time(days * 86400)  # a world of its own: ids of its own
        return {"ready": True}

    async def setup(self) -> dict:
        env = self.env
        for shard in self.config.shard_ids or ():
            guild = env.create_guild(f"Club on shard {shard}", shard_id=shard)
            channel = guild.create_text_channel("films")
            import discord

            mods = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
            mia = guild.add_member(env.create_user("mia"), roles=[mods])
            alice = guild.add_member(env.create_user("alice"))
            self.guilds.append((guild, channel, mia, alice))
        await env.settle()
        return {"guilds": [g.id for g, *_ in self.guilds]}

    async def start_weeks(self) -> dict:
        replies = []
        for _, channel, mia, _ in self.guilds:
            r = await mia.slash(channel, "film start", title="Leaving Las Vegas", essay=SERA)
            replies.append(r.response.content)
        return {"replies": replies}

    async def react(self) -> dict:
        reacted = []
        for _, channel, _, alice in self.guilds:
            kickoff = next(m for m in channel.history() if m.embeds)
            await alice.react(kickoff, "🎬")
            reacted.append(kickoff.id)
        await self.env.bot.recorder.flush()
        return {"messages": reacted}

    async def advance(self, seconds: float) -> dict:
        await self.env.advance_time(seconds)
        return {"now": self.env.now().isoformat()}

    async def offline(self) -> dict:
        await self.env.bot.close()  # the process is gone: no gateway, no timers
        return {"offline": True}

    async def restart(self) -> dict:
        await self.env.restart_bot(create_bot(self.config))
        return {"restarted": True}

    def prompts(self) -> dict:
        found = {}
        for guild, channel, *_ in self.guilds:
            thread = channel.threads[-1]
            found[str(guild.id)] = [
                [m.embeds[0].author.name.split(" ·")[0], m.created_at.astimezone(UTC).isoformat()]
                for m in thread.history()
                if m.embeds and (m.embeds[0].author.name or "").startswith("Prompt ")
            ]
        return {"prompts": found}

    async def handle(self, command: dict) -> dict:
        action = command["do"]
        if action == "prompts":
            return self.prompts()
        if action == "advance":
            return await self.advance(command["seconds"])
        return await getattr(self, action)()


async def main(argv: list[str]) -> None:
    url, shards, days, essays = argv
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    worker = Worker(url, tuple(int(s) for s in shards.split(",")), Path(essays))
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps(await worker.start(int(days))), flush=True)
    while line := await reader.readline():
        command = json.loads(line)
        if command["do"] == "quit":
            break
        print(json.dumps(await worker.handle(command)), flush=True)
    await worker.env.shutdown()
    await worker.env.bot.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
