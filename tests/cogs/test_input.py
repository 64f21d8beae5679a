"""Whatever a member types: blank, invisible, control characters, far too long."""

from __future__ import annotations

import pytest

from tests.cogs.test_films import start_week
from tests.conftest import SERA
from tests.helpers import missing, refusal

INVISIBLE = " \u200b\u200e\u2066\ufeff \t"
HUGE = "Europe/Paris" + "x" * 4000


async def test_blank_titles_nominations_prompts_takes_and_quotes_are_refused(club):
    env = club.env
    r = await club.mia.slash(club.general, "film start", title=INVISIBLE)
    assert refusal(env, r).startswith("The film title is blank once spaces and invisible")
    assert await env.bot.films.running_week(club.guild.id) is None
    r = await club.alice.slash(club.general, "film nominate", title="\u200b\u200b")
    assert refusal(env, r).startswith("The film title is blank")
    assert await env.bot.db.fetchval("SELECT count(*) FROM nominations") == 0

    thread = await start_week(club)
    r = await club.mia.slash(club.general, "film prompt add", text=INVISIBLE)
    assert refusal(env, r).startswith("The question is blank")
    r = await club.alice.slash(club.general, "film rate", stars=3, take="\u200b\n\u200f")
    assert refusal(env, r).startswith("The take is blank")
    assert await env.bot.db.fetchval("SELECT count(*) FROM viewings") == 0
    assert [m for m in thread.history() if m.embeds] == []

    r = await club.alice.slash(club.general, "quote add", text=INVISIBLE)
    assert refusal(env, r).startswith("The quote is blank")
    r = await club.alice.slash(club.general, "quote add", text="Fine words.", author="\u2060 ")
    assert refusal(env, r).startswith("The author is blank")
    assert await env.bot.db.fetchval("SELECT count(*) FROM quotes") == 0


async def test_control_characters_are_removed_and_lines_kept_only_where_text_has_lines(club):
    thread = await start_week(club, title="Heat\x00\x07\x1b")
    week = await club.env.bot.films.running_week(club.guild.id)
    assert week.title == "Heat"
    await club.alice.slash(
        club.general, "film rate", stars=4, take="First line.\x07\nSecond\x1b line."
    )
    take = [m for m in thread.history() if m.embeds][-1]
    assert take.embeds[0].description == "||First line.\nSecond line.||"


async def test_a_year_typed_in_the_title_obeys_the_year_range(club):
    r = await club.alice.slash(club.general, "film nominate", title="Heat (9999)")
    assert not missing(refusal(club.env, r), "9999", "1870", "2100")
    ok = await club.alice.slash(club.general, "film nominate", title="Heat (1995)")
    assert ok.response.content.endswith("nominated **Heat (1995)**.")


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("film settings", {"timezone": HUGE}),
        ("film settings", {"prompt_time": HUGE}),
        ("film settings", {"prompt_days": HUGE}),
        ("essay read", {"essay": HUGE}),
        ("essay read", {"essay": SERA, "section": HUGE}),
        ("essay excerpt", {"essay": HUGE}),
        ("stats essay", {"essay": HUGE}),
        ("quote random", {"essay": HUGE}),
        ("film start", {"title": "Heat", "essay": HUGE}),
    ],
)
async def test_a_value_far_too_long_still_gets_a_short_private_refusal(club, command, options):
    r = await club.mia.slash(club.general, command, **options)
    text = refusal(club.env, r)
    assert len(text) < 600
    assert "xxxxxxxxxx…" in text


async def test_an_essay_whose_paragraph_never_ends_still_gives_excerpts(club):
    paragraph = " ".join(["the neon hums and the city keeps glowing"] * 250)  # 10 KB, no full stop
    upload = f"Title: Endless\nFilm: Heat\n\n{paragraph}\n\n## Then\n\n{paragraph}\n".encode()
    r = await club.mia.slash(club.general, "essay add", file=("endless.md", upload))
    await club.mia.click(r.response, label="Publish")
    for _ in range(3):
        excerpt = await club.alice.slash(club.general, "essay excerpt", essay="Endless")
        embed = excerpt.response.embeds[0]
        assert len(embed.description) <= 4096
        assert embed.description.endswith("…")


async def test_an_upload_whose_title_is_invisible_is_refused(club):
    upload = "Title: \u200b\u200b\nFilm: Heat\n\nWords.\n".encode()
    r = await club.mia.slash(club.general, "essay add", file=("blank.md", upload))
    assert "This essay has no title" in refusal(club.env, r)
