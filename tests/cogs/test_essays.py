"""/essay through simcord, as members and moderators use it."""

from __future__ import annotations

import pytest
import simcord

from bot.essays.parse import parse_essay
from tests.conftest import SEED_ESSAY, SERA
from tests.helpers import missing, refusal, select_options

SEED = parse_essay(SEED_ESSAY.read_text(encoding="utf-8"))


def labels(message) -> dict[str, bool]:
    """Button label -> disabled, for every button on a message."""
    return {
        c["label"]: c.get("disabled", False)
        for row in message.components
        for c in row["components"]
        if c["type"] == 2
    }


# --- list -------------------------------------------------------------------------------


async def test_list_shows_title_film_director_and_section_count(club):
    r = await club.alice.slash(club.general, "essay list")
    embed = r.response.embeds[0]
    assert not r.ephemeral
    assert "**Sera: Elisabeth Shue in Leaving Las Vegas**" in embed.description
    assert "Leaving Las Vegas (1995), dir. Mike Figgis · 8 sections" in embed.description
    assert "Rope (1948), dir. Alfred Hitchcock · 3 sections" in embed.description
    assert r.response.components == []


async def test_list_pages_past_ten(club, essays_dir, make_bot):
    for i in range(12):
        (essays_dir / f"extra-{i:02}.md").write_text(
            f"Title: Extra {i:02}\nFilm: Film {i}\n\nText {i}.\n", encoding="utf-8"
        )
    await club.env.restart_bot(make_bot())
    r = await club.alice.slash(club.general, "essay list")
    assert r.response.embeds[0].footer.text == "14 essays · Page 1 of 2"
    assert r.response.embeds[0].description.count("**") == 20
    assert labels(r.response) == {"Previous page": True, "Next page": False}
    page2 = await club.alice.click(r.response, label="Next page")
    assert page2.response.embeds[0].footer.text == "14 essays · Page 2 of 2"
    assert labels(page2.response) == {"Previous page": False, "Next page": True}


# --- read -------------------------------------------------------------------------------


async def test_read_without_section_shows_contents_and_a_menu(club):
    r = await club.alice.slash(club.general, "essay read", essay=SERA)
    embed = r.response.embeds[0]
    assert embed.title == SEED.title
    assert embed.author.name == "Leaving Las Vegas (1995)"
    for i, section in enumerate(SEED.sections, 1):
        assert f"**{i}. {section.heading}**" in embed.description
    assert "Mike Figgis’s Leaving Las Vegas (1995) is a film" in embed.description
    assert select_options(r.response) == [
        f"{i}. {s.heading}" for i, s in enumerate(SEED.sections, 1)
    ]

    picked = await club.alice.select(r.response, [str(_section_id(club, 7))])
    shown = picked.response.embeds[0]
    assert shown.title == "Elisabeth Shue’s Masterpiece"
    assert shown.footer.text == "Section 7 of 8"


def _section_id(club, position: int) -> int:
    essay = club.env.bot.library.resolve_essay(club.guild.id, SERA)
    return essay.sections[position - 1].id


async def test_read_a_section_by_name_with_section_buttons(club):
    r = await club.alice.slash(
        club.general,
        "essay read",
        essay="Sera: Elisabeth Shue in Leaving Las Vegas",
        section="the pact: love without redemption",
    )
    embed = r.response.embeds[0]
    assert embed.title == "The Pact: Love Without Redemption"
    assert (
        embed.author.name == "Sera: Elisabeth Shue in Leaving Las Vegas · Leaving Las Vegas (1995)"
    )
    assert embed.description == SEED.sections[2].body
    assert embed.footer.text == "Section 3 of 8"
    assert labels(r.response) == {
        "◀ Previous section": False,
        "Next section ▶": False,
        "Contents": False,
    }

    back = await club.alice.click(r.response, label="◀ Previous section")
    assert back.response.id == r.response.id
    assert back.response.embeds[0].title == SEED.sections[1].heading
    assert back.response.embeds[0].footer.text == "Section 2 of 8"


async def test_last_section_disables_next(club):
    r = await club.alice.slash(club.general, "essay read", essay=SERA, section="8")
    assert r.response.embeds[0].title == "The Angel in the Desert"
    assert labels(r.response)["Next section ▶"] is True
    with pytest.raises(simcord.SetupError):
        await club.alice.click(r.response, label="Next section ▶")


async def test_a_long_section_pages_on_paragraph_boundaries(club):
    r = await club.alice.slash(
        club.general, "essay read", essay="The Long Take", section="The Apartment"
    )
    first = r.response.embeds[0]
    assert first.footer.text == "Section 2 of 3 · Page 1 of 3"
    assert first.description.startswith("1. The camera lingers")
    assert labels(r.response) == {
        "◀ Previous section": False,
        "Previous page": True,
        "Next page": False,
        "Next section ▶": False,
        "Contents": False,
    }
    seen = [first.description]
    message = r.response
    for page in (2, 3):
        message = (await club.alice.click(message, label="Next page")).response
        assert message.embeds[0].footer.text == f"Section 2 of 3 · Page {page} of 3"
        seen.append(message.embeds[0].description)
    assert labels(message)["Next page"] is True
    body = club.env.bot.library
    essay = body.resolve_essay(club.guild.id, "the long take")
    full = (await body.section_text(essay, essay.sections[1].id)).body
    assert "\n\n".join(seen) == full
    assert all(p.split("\n\n")[0][0].isdigit() for p in seen), "pages start on a paragraph"


async def test_another_members_click_opens_a_private_copy(club):
    r = await club.alice.slash(club.general, "essay read", essay=SERA, section="1")
    bob_view = await club.bob.click(r.response, label="Next section ▶")
    assert bob_view.ephemeral
    assert bob_view.response.embeds[0].footer.text == "Section 2 of 8"
    still = club.general.last_message if hasattr(club.general, "last_message") else None
    original = await _fetch(club, r.response.id)
    assert original.embeds[0].footer.text == "Section 1 of 8"
    again = await club.bob.click(bob_view.response, label="Next section ▶")
    assert again.response.embeds[0].footer.text == "Section 3 of 8"
    del still


async def _fetch(club, message_id):
    return await club.env.bot.get_channel(club.general.id).fetch_message(message_id)


async def test_unknown_essay_and_section_suggest_the_closest(club):
    r = await club.alice.slash(
        club.general, "essay read", essay="Sera Elisabeth Shue in Leaving Las Vegs"
    )
    text = refusal(club.env, r)
    assert text.startswith("No essay called “Sera Elisabeth Shue in Leaving Las Vegs”.")
    assert "Did you mean **Sera: Elisabeth Shue in Leaving Las Vegas**?" in text

    r = await club.alice.slash(
        club.general, "essay read", essay=SERA, section="The Angle in the Desert"
    )
    text = refusal(club.env, r)
    assert "has no section called “The Angle in the Desert”" in text
    assert "**The Angel in the Desert**" in text


async def test_autocomplete_answers_loosely_within_discord_limits(club, essays_dir, make_bot):
    for i in range(40):
        (essays_dir / f"vegas-{i:02}.md").write_text(
            f"Title: Vegas Night {i:02} " + "x" * 120 + f"\nFilm: Vegas {i}\n\nText.\n",
            encoding="utf-8",
        )
    await club.env.restart_bot(make_bot())
    choices = await club.alice.autocomplete(club.general, "essay read", "essay", "vegas")
    assert len(choices) == 25
    assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
    choices = await club.alice.autocomplete(club.general, "essay read", "essay", "figgis")
    assert [c["value"] for c in choices] == [SERA]
    sections = await club.alice.autocomplete(
        club.general, "essay read", "section", "desert", essay=SERA
    )
    assert sections == [{"name": "8. The Angel in the Desert", "value": "the-angel-in-the-desert"}]


# --- excerpt ----------------------------------------------------------------------------


async def test_excerpt_is_a_short_whole_passage_with_a_read_button(club):
    r = await club.alice.slash(club.general, "essay excerpt", essay=SERA)
    embed = r.response.embeds[0]
    assert len(embed.description) <= 600
    assert embed.description.rstrip('”’"')[-1] in ".!?"
    heading = embed.footer.text.split("“", 1)[1].split("”", 1)[0]
    section = next(s for s in SEED.sections if s.heading == heading)
    assert all(p in section.body for p in embed.description.split("\n\n"))
    opened = await club.alice.click(r.response, label="Read the whole section")
    assert not opened.ephemeral
    assert opened.response.embeds[0].title == heading
    assert opened.response.id != r.response.id
    private = await club.bob.click(r.response, label="Read the whole section")
    assert private.ephemeral and private.response.embeds[0].title == heading


async def test_excerpt_from_anywhere(club):
    r = await club.alice.slash(club.general, "essay excerpt")
    assert r.response.embeds[0].author.name.split(" · ")[0] in {SEED.title, "The Long Take"}


# --- search -----------------------------------------------------------------------------


async def test_search_shows_the_best_hits_and_opens_one(club):
    r = await club.alice.slash(club.general, "essay search", query="therapist monologues")
    embed = r.response.embeds[0]
    assert len(embed.fields) == 1
    assert (
        embed.fields[0].name
        == "1. The Performance: Fearless, Vulnerable, Unsentimental — " + SEED.title
    )
    assert "**therapist**" in embed.fields[0].value and "**monologues**" in embed.fields[0].value
    value = f"{_essay_id(club)}:{_section_id(club, 4)}"
    opened = await club.alice.select(r.response, [value])
    assert opened.response.embeds[0].title == "The Performance: Fearless, Vulnerable, Unsentimental"


def _essay_id(club) -> int:
    return club.env.bot.library.resolve_essay(club.guild.id, SERA).id


async def test_search_caps_at_five(club):
    r = await club.alice.slash(club.general, "essay search", query="Sera")
    assert len(r.response.embeds[0].fields) == 5


@pytest.mark.parametrize(
    "query", ['"love', "love AND loss", "lov*", "-love", "NEAR(love, loss", "love 🎬"]
)
async def test_search_survives_whatever_is_typed(club, query):
    r = await club.alice.slash(club.general, "essay search", query=query)
    assert r.response.embeds and r.response.embeds[0].fields


async def test_search_that_finds_nothing_says_so(club):
    r = await club.alice.slash(club.general, "essay search", query="🎬🍿")
    assert not missing(refusal(club.env, r), "Nothing found", "🎬🍿", "fewer or different words")
