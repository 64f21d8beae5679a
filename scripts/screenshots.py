"""`make screenshots`: drive the offline demo and photograph its messages in headless Chromium.

Each picture is cropped to the messages it shows, as Discord shows them, without the preview's
own toolbar and sidebar. Needs Debian's `chromium` (apt-get install chromium) and Playwright (the
screenshots extra); writes PNGs to docs/, and beside them docs/screenshots.json: the texts each
picture shows. A test plays the same scenario without a browser and compares its texts with that
file, so a picture that no longer shows what the demo shows is noticed.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import discord

from bot import Config
from bot.demo import CHROMIUM_FLAGS, SEED_ESSAY_KEY, ZONE, demo_world

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MANIFEST = DOCS / "screenshots.json"
FLAGS = [*CHROMIUM_FLAGS, "--hide-scrollbars"]
PASSAGE = "She’s a survivor in heels, maintaining control in a profession where control is a myth."

# (picture, channel handle, the messages it shows, oldest first), as the visitor (sam) sees them.
Take = Callable[[str, object, list[discord.Message]], Awaitable[None]]


async def play(world, take: Take) -> None:
    """The demo's scenario for the pictures: `take` is called for each, in order."""
    sam = world["viewers"][0]
    guild, weekly = world["guild"], world["weekly"]

    def shown(channel) -> list[discord.Message]:
        return channel.history(viewer=sam)

    scenes = [
        (
            "essay-section.png",
            "essay read",
            {"essay": SEED_ESSAY_KEY, "section": "elisabeth-shues-masterpiece"},
        ),
        ("contents.png", "essay read", {"essay": SEED_ESSAY_KEY}),
        (
            "quote.png",
            "quote add",
            {
                "text": PASSAGE,
                "essay": SEED_ESSAY_KEY,
                "section": "the-introduction-a-woman-in-control-of-nothing-and-everything",
            },
        ),
        ("stats-essay.png", "stats essay", {"essay": SEED_ESSAY_KEY}),
    ]
    for name, command, options in scenes:
        channel = guild.create_text_channel(name.removesuffix(".png"))
        await sam.slash(channel, command, **options)
        await take(name, channel, shown(channel)[-1:])
    # The prompt with its reactions and the talk under it, as the week's channel shows it.
    messages = shown(weekly)
    first = next(
        i for i, m in enumerate(messages) if m.embeds and "Prompt 1" in str(m.embeds[0].author.name)
    )
    last = next(
        i for i, m in enumerate(messages) if m.embeds and "'s take" in str(m.embeds[0].author.name)
    )
    await take("prompt.png", weekly, messages[first : last + 1])
    asked = await sam.slash(weekly, "film end")
    await sam.click(asked.response, label="End the week")
    await take("digest.png", weekly, shown(weekly)[-1:])


def texts(world, message: discord.Message) -> list[str]:
    """What a picture of `message` shows in words: author, content, embeds, controls, reactions.
    Mentions as names, so the lines do not depend on the simulated ids."""
    names = {member.id: member.name for member in world["viewers"]}

    def words(text: str | None) -> list[str]:
        if not text:
            return []
        text = re.sub(r"<@!?(\d+)>", lambda m: "@" + names.get(int(m[1]), "someone"), text)
        text = re.sub(r"\[([^\]]+)\]\(<?https?://[^)\s]+>?\)", r"\1", text)  # a link's words
        return text.splitlines()

    lines = [f"[{message.author.name}]", *words(message.content)]
    for embed in message.embeds:
        lines += words(embed.author.name) + words(embed.title) + words(embed.description)
        for field in embed.fields:
            lines += words(field.name) + words(field.value)
        lines += words(embed.footer.text)
        if embed.image and embed.image.url:
            lines.append(f"(image {embed.image.url.rsplit('/', 1)[-1]})")
    for attachment in message.attachments:
        lines.append(f"(attachment {attachment.filename})")
    for row in message.components:
        for item in getattr(row, "children", [row]):
            label = getattr(item, "label", None) or getattr(item, "placeholder", None)
            if label:
                lines.append(f"[{label}]")
    if message.reactions:
        lines.append(" ".join(f"{r.emoji} {r.count}" for r in message.reactions))
    return [line for line in lines if line.strip(" \u200b")]


async def manifest() -> dict[str, list[str]]:
    """The texts of every picture, from the demo's scenario through the simulated Discord alone."""
    pictures: dict[str, list[str]] = {}
    async with demo_world(Config(essays_dir=ROOT / "essays")) as (_env, _bot, world):

        async def note(name: str, _channel, messages: list[discord.Message]) -> None:
            pictures[name] = [line for m in messages for line in texts(world, m)]

        await play(world, note)
    return pictures


def write_manifest(pictures: dict[str, list[str]]) -> None:
    MANIFEST.write_text(json.dumps(pictures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


async def photograph(browser, env, channel, viewers, name: str, messages) -> None:
    """The messages, from the first to the last, cropped from the channel's page."""
    async with env.preview(channel, viewers=viewers, layout="channel", timezone=ZONE) as preview:
        page = await browser.new_page(viewport={"width": 760, "height": 6000})
        await page.goto(preview.url)
        await page.wait_for_selector(".channel-message")
        await asyncio.sleep(0.5)  # images and fonts

        def one(message):
            return page.locator(f'.channel-message[data-message-id="{message.id}"]')

        top = await one(messages[0]).bounding_box()
        bottom = await one(messages[-1]).bounding_box()
        clip = {
            "x": top["x"],
            "y": top["y"],
            "width": max(top["width"], bottom["width"]),
            "height": bottom["y"] + bottom["height"] - top["y"],
        }
        await page.screenshot(path=str(DOCS / name), clip=clip)
        await page.close()
    print(f"wrote docs/{name}")


async def shoot(chromium: str) -> None:
    from playwright.async_api import async_playwright

    pictures: dict[str, list[str]] = {}
    async with (
        demo_world(Config(essays_dir=ROOT / "essays")) as (env, _bot, world),
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(executable_path=chromium, args=FLAGS)

        async def take(name: str, channel, messages: list[discord.Message]) -> None:
            pictures[name] = [line for m in messages for line in texts(world, m)]
            await photograph(browser, env, channel, world["viewers"], name, messages)

        await play(world, take)
        await browser.close()
    write_manifest(pictures)
    print(f"wrote docs/{MANIFEST.name}")


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
