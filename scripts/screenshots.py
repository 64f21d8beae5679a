"""`make screenshots`: drive the offline demo and photograph its messages in headless Chromium.

Each picture is cropped to the message it shows, as Discord shows it, without the preview's own
toolbar and sidebar. Needs Debian's `chromium` (apt-get install chromium) and Playwright (the
test extra); writes PNGs to docs/.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

from bot import Config
from bot.demo import CHROMIUM_FLAGS, SEED_ESSAY_KEY, demo_world

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FLAGS = [*CHROMIUM_FLAGS, "--hide-scrollbars"]
PASSAGE = "She’s a survivor in heels, maintaining control in a profession where control is a myth."


async def photograph(browser, env, channel, viewers, name: str, first=None, last=None) -> None:
    """Messages of the channel from `first` to `last` (its last message by default), cropped."""
    async with env.preview(channel, viewers=viewers, layout="channel") as preview:
        page = await browser.new_page(viewport={"width": 760, "height": 6000})
        await page.goto(preview.url)
        await page.wait_for_selector(".channel-message")
        await asyncio.sleep(0.5)  # images and fonts
        messages = page.locator(".channel-message")

        def one(message):
            if message is None:
                return messages.last
            return page.locator(f'.channel-message[data-message-id="{message.id}"]')

        top = await one(first or last).bounding_box()
        bottom = await one(last).bounding_box()
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

    config = Config(essays_dir=ROOT / "essays")
    async with (
        demo_world(config) as (env, _bot, world),
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        sam, viewers = world["viewers"][0], world["viewers"]
        guild, weekly = world["guild"], world["weekly"]
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
            await photograph(browser, env, channel, viewers, name)
        # The prompt with its reactions and the talk under it, as the week's channel shows it.
        shown = list(weekly.history())
        prompt = next(m for m in shown if m.embeds and "Prompt 1" in str(m.embeds[0].author.name))
        take = next(m for m in shown if m.embeds and "'s take" in str(m.embeds[0].author.name))
        await photograph(browser, env, weekly, viewers, "prompt.png", prompt, take)
        asked = await sam.slash(weekly, "film end")
        await sam.click(asked.response, label="End the week")
        await photograph(browser, env, weekly, viewers, "digest.png")
        await browser.close()


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
