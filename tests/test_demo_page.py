"""The offline demo as a visitor meets it: `python -m bot demo`, its page in headless Chromium."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys

import pytest

from bot.demo import CHROMIUM_FLAGS
from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip(
    "playwright.async_api", reason="the page test needs Playwright: pip install -e '.[test]'"
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="the page test needs Debian's Chromium: apt-get install chromium"
)
FLAGS = list(CHROMIUM_FLAGS)


async def run(page, command: str, **options) -> str:
    """Type a slash command in the composer as a visitor would; the status once it is over."""
    status = page.locator("#action-status")
    before = await status.inner_text()
    composer = page.locator("#channel-composer-input")
    await composer.click()
    await composer.press_sequentially(command, delay=10)
    await page.keyboard.press("Enter")  # picks the command from the list
    for name, value in options.items():
        field = page.locator(f'input.command-option-input[data-option="{name}"]')
        await field.click()
        await field.press_sequentially(str(value), delay=10)
    await page.keyboard.press("Enter")
    text = before
    for _ in range(100):  # until the status says how this action ended
        await asyncio.sleep(0.05)
        text = await status.inner_text()
        if text != before and not text.endswith("…"):
            break
    return text


async def wait_for_text(page, text: str, seconds: float = 10) -> bool:
    """Whether `text` comes to show in the channel, with nothing clicked: no "Refresh preview",
    no "New messages"."""
    for _ in range(int(seconds * 10)):
        if text in await page.locator("#channel-message-list").inner_text():
            return True
        await asyncio.sleep(0.1)
    await page.screenshot(path=str(ROOT / ".pytest_cache" / "demo-page.png"))
    return False


async def visit(url: str, log) -> None:
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(viewport={"width": 1200, "height": 900})
        await page.goto(url)
        await page.wait_for_selector("#channel-composer-input")
        shown = await page.locator("#channel-message-list").inner_text()
        assert "Welcome to the Projectionist demo." in shown
        assert "Projectionist" in shown and "TestBot" not in shown
        # Timestamps show in the server's zone, as the kickoff spells its prompt time: the first
        # prompt's <t:…> is 18:00 in New York (23:00 UTC).
        assert "Prompts (18:00 America/New_York, every day)" in shown
        assert "Thursday, January 1, 2026 at 6:00 PM" in shown, shown

        # The clock moves after the page's own action is over; what it brings, and the reply
        # saying the move is done, arrive on the page by themselves.
        assert await run(page, "/demo advance", hours=30) == "Action completed"
        assert await wait_for_text(page, "Prompt 2 ·"), log.read_text()[-3000:]
        assert await wait_for_text(page, "Moved the clock forward 30 hours: it is now Friday")
        assert "Connection interrupted" not in await page.inner_text("body")

        # A visitor adds a reaction of their own to a post that shows an essay section.
        chip = page.locator('button.reaction-chip[aria-pressed="false"]').last
        await chip.click()
        for _ in range(50):
            if await chip.get_attribute("aria-pressed") == "true":
                break
            await asyncio.sleep(0.1)

        # A member refused a moderator command gets an ordinary private reply.
        await page.select_option("#viewer-picker", label="alice")
        await page.wait_for_selector("#channel-composer-input")
        assert await run(page, "/film end") == "Action completed"
        assert await wait_for_text(page, "Only moderators (Manage Server) can end the film week.")
        await browser.close()


def test_a_visitor_follows_the_week_in_the_page(tmp_path):
    database = tmp_path / "demo.db"
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    log = tmp_path / "demo.log"
    with log.open("w") as errors:
        demo = subprocess.Popen(
            [sys.executable, "-m", "bot", "demo", "--db", str(database)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    try:
        url = demo.stdout.readline().split("open ", 1)[1].strip()
        asyncio.run(visit(url, log))
        assert demo.poll() is None, "the demo is still running"
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)
    text = log.read_text()
    assert "Traceback" not in text and "SetupError" not in text, text
    with sqlite3.connect(database) as conn:
        reactions = conn.execute("SELECT count(*) FROM reactions").fetchone()[0]
        weeks = conn.execute("SELECT count(*) FROM weeks WHERE ended_at IS NULL").fetchone()[0]
    assert reactions == 13, "three posts had four reactions each; the visitor added one"
    assert weeks == 1, "alice could not end the week"
