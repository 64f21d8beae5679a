"""`make screenshots`: drive the offline demo and photograph it with headless Chromium.

Needs Debian's `chromium` (apt-get install chromium); writes PNGs to docs/.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from bot import Config
from bot.demo import SEED_ESSAY_KEY, demo_world

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--hide-scrollbars",
    "--virtual-time-budget=8000",
]


async def photograph(chromium: str, env, channel, viewers, name: str, height: int = 900) -> None:
    async with env.preview(channel, viewers=viewers, layout="channel") as preview:
        with tempfile.TemporaryDirectory() as profile:
            process = await asyncio.create_subprocess_exec(
                chromium,
                *CHROMIUM_FLAGS,
                f"--window-size=1100,{height}",
                f"--user-data-dir={profile}",
                f"--screenshot={DOCS / name}",
                preview.url,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            await process.wait()
    print(f"wrote docs/{name}")


async def shoot(chromium: str) -> None:
    config = Config(essays_dir=ROOT / "essays")
    async with demo_world(config) as (env, _bot, world):
        you, viewers, guild = world["viewers"][0], world["viewers"], world["guild"]
        await photograph(chromium, env, world["thread"], viewers, "prompt.png")
        scenes = [
            (
                "essay-section.png",
                "essay read",
                {"essay": SEED_ESSAY_KEY, "section": "elisabeth-shues-masterpiece"},
                900,
            ),
            ("contents.png", "essay read", {"essay": SEED_ESSAY_KEY}, 1000),
            ("quote.png", "quote show", {"number": 1}, 600),
            ("stats-essay.png", "stats essay", {"essay": SEED_ESSAY_KEY}, 1100),
        ]
        for name, command, options, height in scenes:
            channel = guild.create_text_channel(name.removesuffix(".png"))
            await you.slash(channel, command, **options)
            await photograph(chromium, env, channel, viewers, name, height)
        await you.slash(world["general"], "film end")
        await photograph(chromium, env, world["thread"], viewers, "digest.png", 1500)


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("Headless Chromium is needed: apt-get install chromium", file=sys.stderr)
        return 1
    DOCS.mkdir(exist_ok=True)
    asyncio.run(shoot(chromium))
    return 0


if __name__ == "__main__":
    sys.exit(main())
