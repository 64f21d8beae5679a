"""The offline demo starts without a token, seeds its world and serves its page on loopback."""

import asyncio

import aiohttp

from bot import Config
from bot.demo import run_demo
from tests.conftest import ROOT


async def test_the_demo_seeds_a_film_club_and_serves_its_page(tmp_path, capsys):
    seen = {}

    async def visit(url: str, preview, world) -> None:
        assert url.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession() as session, session.get(url.split("#")[0]) as page:
            seen["status"] = page.status
            seen["html"] = await page.text()
        seen["snapshot"] = await preview.snapshot()
        visitor, weekly = world["viewers"][0], world["weekly"]
        r = await visitor.slash(weekly, "demo advance", hours=30)
        seen["advance"] = r.response.content

        async def close_when_the_move_is_told():
            for _ in range(200):
                if r.response.content.startswith("Moved"):
                    break
                await asyncio.sleep(0.05)
            seen["moved"] = r.response.content
            seen["second_prompt"] = any(
                "Prompt 2 ·" in str(m.embeds[0].author.name) for m in weekly.history() if m.embeds
            )
            again = await visitor.slash(weekly, "demo advance", hours=1)
            for _ in range(200):
                if again.response.content.startswith("Moved"):
                    break
                await asyncio.sleep(0.05)
            seen["moved_again"] = again.response.content
            await preview.close()

        seen["closer"] = asyncio.create_task(close_when_the_move_is_told())

    config = Config(essays_dir=ROOT / "essays", database_path=tmp_path / "unused.db")
    assert await run_demo(config, database=tmp_path / "demo.db", on_ready=visit) == 0
    assert seen["status"] == 200 and "<html" in seen["html"].lower()
    text = str(seen["snapshot"])
    assert "Prompt 1 · Leaving Las Vegas (1995)" in text
    assert "Which scene of Sera's stayed with you?" in text
    assert "alice's take on Leaving Las Vegas (1995)" in text
    assert "Welcome to the Projectionist demo." in text
    assert "#general" not in text, "the page shows one channel: the welcome names no other"
    assert "Projectionist" in text and "TestBot" not in text
    assert "you's" not in text and "'sam'" in text
    assert seen["advance"] == "Moving the clock forward 30 hours…"
    assert seen["second_prompt"], "advancing the clock fired the next scheduled prompt"
    # The reply says the move is done, where the clock now is in the server's zone (the zone
    # the page shows timestamps in) and what arrived: the prompt of 18:00 New York time.
    assert seen["moved"] == (
        "Moved the clock forward 30 hours: it is now Friday 2 January 2026, 01:00 in "
        "America/New_York. 1 new post in this channel."
    )
    assert seen["moved_again"] == (
        "Moved the clock forward 1 hour: it is now Friday 2 January 2026, 02:00 in "
        "America/New_York. No new posts in this channel."
    )
    assert capsys.readouterr().out == "", "the URL is handed to the caller, not printed or logged"
