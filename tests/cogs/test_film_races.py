"""Check-then-act through simcord: actions that reach the bot at the same moment."""

from __future__ import annotations

import discord

from tests.cogs.test_film_posts import kickoffs_in, takes_in
from tests.cogs.test_films import prompts_in, start_week
from tests.conftest import SERA
from tests.helpers import at_once, refusal


async def test_two_moderators_starting_at_once_make_one_week_and_one_thread(club):
    env = club.env
    hosts = club.guild.create_role("Hosts", permissions=discord.Permissions(manage_guild=True))
    noor = club.guild.add_member(env.create_user("noor"), roles=[hosts])
    first, second = await at_once(
        env,
        lambda: club.mia.slash(club.general, "film start", title="Heat"),
        lambda: noor.slash(club.general, "film start", title="Thief"),
    )
    (started,) = [r for r in (first, second) if r.response.content.startswith("Started **")]
    (refused,) = [r for r in (first, second) if r is not started]
    assert refusal(env, refused).startswith("A film of the week is already running")
    assert len(kickoffs_in(club.general)) == 1
    assert len(club.general.threads) == 1
    rows = await env.bot.db.fetchall("SELECT title FROM weeks")
    assert len(rows) == 1


async def test_two_prompt_nows_at_once_post_two_different_prompts(club):
    thread = await start_week(club, essay=SERA)
    await club.mia.slash(club.general, "film prompt add", text="Which scene stayed with you?")
    first, second = await at_once(
        club.env,
        lambda: club.mia.slash(club.general, "film prompt now"),
        lambda: club.mia.slash(club.general, "film prompt now"),
    )
    assert sorted([first.response.content, second.response.content]) == [
        f"Posted prompt 1 in <#{thread.id}>.",
        f"Posted prompt 2 in <#{thread.id}>.",
    ]
    # Two posts sent at once reach the thread in whichever order Discord answers them.
    posted = prompts_in(thread)
    prompts = {m.embeds[0].author.name.split(" ·")[0]: m.embeds[0] for m in posted}
    assert len(posted) == 2 and sorted(prompts) == ["Prompt 1", "Prompt 2"]
    assert prompts["Prompt 1"].description == "Which scene stayed with you?"
    assert prompts["Prompt 2"].title == "Opening"


async def test_one_member_rating_twice_at_once_leaves_one_take_the_latest(club):
    thread = await start_week(club)
    await at_once(
        club.env,
        lambda: club.alice.slash(club.general, "film rate", stars=2, take="Too bleak."),
        lambda: club.alice.slash(club.general, "film rate", stars=4, take="Bleak, but true."),
    )
    # Which of two commands sent at once commits last is the database's to decide: the take
    # left is the one whose rating was stored last, whichever that is, and there is one.
    takes = takes_in(thread)
    row = await club.env.bot.db.fetchone("SELECT rating, review, take_message_id FROM viewings")
    assert (row["rating"], row["review"]) in {(4, "Too bleak."), (8, "Bleak, but true.")}
    assert [m.embeds[0].description for m in takes] == [f"||{row['review']}||"]
    assert row["take_message_id"] == takes[0].id


async def test_two_members_nominating_one_film_at_once_make_one_nomination(club):
    first, second = await at_once(
        club.env,
        lambda: club.alice.slash(club.general, "film nominate", title="Heat", year=1995),
        lambda: club.bob.slash(club.general, "film nominate", title="Heat", year=1995),
    )
    texts = sorted([first.response.content, second.response.content])
    assert any(t.endswith("nominated **Heat (1995)**.") for t in texts), texts
    assert any(t.endswith("seconded **Heat (1995)** (2 nominations).") for t in texts), texts
    rows = await club.env.bot.db.fetchall("SELECT id FROM nominations")
    assert len(rows) == 1


async def test_five_nominations_at_once_stop_at_three(club):
    titles = ["Heat", "Thief", "Collateral", "Ali", "Manhunter"]
    results = await at_once(
        club.env,
        *(
            (lambda title=title: club.alice.slash(club.general, "film nominate", title=title))
            for title in titles
        ),
    )
    refused = [r for r in results if r.response.ephemeral]
    assert len(refused) == 2
    assert all(refusal(club.env, r).startswith("You have nominated 3 films") for r in refused)
    count = await club.env.bot.db.fetchval("SELECT count(*) FROM nominators")
    assert count == 3


async def test_a_double_click_on_forget_me_tells_the_true_count_twice(club):
    await club.alice.slash(club.general, "quote add", text="A line worth keeping.")
    ask = await club.alice.slash(club.general, "privacy forget-me")
    first, second = await at_once(
        club.env,
        lambda: club.alice.click(ask.response, label="Delete my data"),
        lambda: club.alice.click(ask.response, label="Delete my data"),
    )
    assert first.response.content.startswith("Done. Deleted 1 quote, ")
    assert second.response.content == first.response.content
    assert await club.env.bot.db.fetchval("SELECT count(*) FROM quotes") == 0
