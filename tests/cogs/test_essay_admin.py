"""Moderators adding and removing essays from Discord, and what members can't do."""

from __future__ import annotations

import logging

import pytest
import simcord

from tests.conftest import SEED_TEXT, SERA
from tests.helpers import missing, refusal

NEW_ESSAY = (
    b"Title: Night Moves\nFilm: Heat\nYear: 1995\nDirector: Michael Mann\n\n"
    b"Opening words.\n\n## The Diner\n\nTwo men at a table. @everyone look.\n\n## The Airport\n\nLights.\n"
)


def buttons(message) -> list[str]:
    return [c["label"] for row in message.components for c in row["components"] if c["type"] == 2]


async def test_a_member_cannot_add_an_essay_and_nothing_changes(club):
    assert "essay add" in club.alice.available_commands(club.general)
    r = await club.alice.slash(club.general, "essay add", file=("night.md", NEW_ESSAY))
    assert not missing(refusal(club.env, r), "moderators", "Manage Server", "add essays")
    assert len(club.env.bot.library.visible(club.guild.id)) == 2


async def test_a_moderator_previews_then_publishes_an_upload(club):
    r = await club.mia.slash(club.general, "essay add", file=("night.md", NEW_ESSAY))
    preview = r.response
    assert preview.ephemeral
    embed = preview.embeds[0]
    assert embed.title == "Preview: Night Moves"
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Film"] == "Heat (1995)"
    assert fields["Director"] == "Michael Mann"
    assert fields["3 sections"].splitlines() == [
        "1. Opening — 14 characters",
        "2. The Diner — 35 characters",
        "3. The Airport — 7 characters",
    ]
    assert buttons(preview) == ["Publish", "Cancel"]
    assert club.env.bot.library.match_essays(club.guild.id, "night") == []

    done = await club.mia.click(preview, label="Publish")
    assert not missing(
        done.response.content, "**Night Moves**", "Heat (1995)", "3 sections", "`/essay read`"
    )
    rows = await club.env.bot.db.fetchall(
        "SELECT title, source, guild_id, added_by FROM essays WHERE title = 'Night Moves'"
    )
    assert [tuple(row) for row in rows] == [("Night Moves", "upload", club.guild.id, club.mia.id)]

    read = await club.alice.slash(
        club.general, "essay read", essay="night moves", section="the diner"
    )
    assert read.response.embeds[0].description == "Two men at a table. @everyone look."
    posted = [e for e in club.env.http_requests if e.method == "POST" and "callback" in e.path][-1]
    assert posted.json["data"]["allowed_mentions"] == {"parse": []}


async def test_the_same_title_updates_the_essay_and_keeps_sections(club):
    first = await club.mia.slash(club.general, "essay add", file=("night.md", NEW_ESSAY))
    await club.mia.click(first.response, label="Publish")
    library = club.env.bot.library
    diner = library.resolve_section(
        library.resolve_essay(club.guild.id, "Night Moves"), "the diner"
    )
    edited = NEW_ESSAY.replace(b"Two men at a table.", b"Two men, one table.")
    second = await club.mia.slash(club.general, "essay add", file=("night-v2.md", edited))
    notes = {f.name: f.value for f in second.response.embeds[0].fields}["Notes"]
    assert "Publishing updates the existing essay “Night Moves”." in notes
    done = await club.mia.click(second.response, label="Publish")
    assert done.response.content.startswith("Updated **Night Moves**")
    essay = library.resolve_essay(club.guild.id, "Night Moves")
    assert library.resolve_section(essay, "the diner").id == diner.id
    assert (await library.section_text(essay, diner.id)).body.startswith("Two men, one table.")


async def test_cancel_adds_nothing(club):
    r = await club.mia.slash(club.general, "essay add", file=("night.md", NEW_ESSAY))
    done = await club.mia.click(r.response, label="Cancel")
    assert not missing(done.response.content, "nothing was added")
    assert (
        await club.env.bot.db.fetchval("SELECT count(*) FROM essays WHERE title = 'Night Moves'")
        == 0
    )


async def test_plain_text_upload_goes_through_the_importer(club):
    r = await club.mia.slash(
        club.general,
        "essay add",
        file=("sera.txt", "\ufeff".encode() + SEED_TEXT.read_bytes()),
        title="Sera, uploaded",
        film="Leaving Las Vegas",
        year=1995,
    )
    embed = r.response.embeds[0]
    assert embed.title == "Preview: Sera, uploaded"
    assert {f.name for f in embed.fields} >= {"8 sections", "Notes"}
    assert "No director given." in {f.name: f.value for f in embed.fields}["Notes"]


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        (
            "big.md",
            b"Title: T\nFilm: F\n\n" + b"word " * 120_000,
            "big.md is 586 KB; essays can be at most 512 KB.",
        ),
        (
            "latin1.md",
            "Title: Café\nFilm: F\n\nÀ bientôt.\n".encode("latin-1"),
            "latin1.md is not UTF-8 text.",
        ),
        (
            "poster.md",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
            "poster.md is not UTF-8 text.",
        ),
        (
            "broken.md",
            b"---\n- a list\ntitle: T\n---\n\nText.\n",
            "The front matter between the `---` lines is not valid YAML",
        ),
        (
            "notitle.txt",
            b"Just a paragraph.\n",
            "This essay has no title: put the title alone on the first line",
        ),
        (
            "essay.pdf",
            b"%PDF-1.7",
            "essay.pdf is not an essay file: upload a `.md` (Markdown) or `.txt` file.",
        ),
        (
            "heat.md",
            b"Title: The Long Take\nFilm: Rope\n\nText.\n",
            "“The Long Take” is already in the bundled library.",
        ),
    ],
)
async def test_bad_uploads_are_refused_plainly(club, filename, data, expected):
    r = await club.mia.slash(club.general, "essay add", file=(filename, data))
    assert refusal(club.env, r).startswith(expected)
    assert await club.env.bot.db.fetchval("SELECT count(*) FROM essays") == 2


async def test_remove_needs_a_moderator_and_a_confirmation(club):
    r = await club.alice.slash(club.general, "essay remove", essay=SERA)
    assert not missing(refusal(club.env, r), "moderators", "Manage Server", "remove essays")

    r = await club.mia.slash(club.general, "essay remove", essay=SERA)
    assert r.response.ephemeral and buttons(r.response) == ["Remove", "Keep it"]
    kept = await club.mia.click(r.response, label="Keep it")
    assert not missing(kept.response.content, "nothing was removed")
    assert club.env.bot.library.resolve_essay(club.guild.id, SERA)

    r = await club.mia.slash(club.general, "essay remove", essay=SERA)
    done = await club.mia.click(r.response, label="Remove")
    assert done.response.content.startswith("Removed **Sera: Elisabeth Shue in Leaving Las Vegas**")
    listed = await club.alice.slash(club.general, "essay list")
    assert "Sera" not in listed.response.embeds[0].description
    assert await club.env.bot.db.fetchval("SELECT count(*) FROM sections WHERE hidden = 0") == 11


async def test_unexpected_errors_get_an_apology_with_an_id(club, caplog, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(club.env.bot.library, "search", broken)
    with caplog.at_level(logging.ERROR, logger="bot.client"):
        r = await club.alice.slash(club.general, "essay search", query="love")
    simcord.assert_error(club.env, RuntimeError)
    assert r.response.ephemeral
    assert r.response.content.startswith(
        "Sorry, something went wrong on our side. It has been logged as error `"
    )
    error_id = r.response.content.split("`")[1]
    assert any(error_id in rec.getMessage() for rec in caplog.records)
    assert "disk on fire" not in r.response.content


async def test_buttons_keep_working_after_a_restart_without_resyncing(club, make_bot):
    r = await club.alice.slash(club.general, "essay read", essay=SERA, section="1")
    syncs = [
        e for e in club.env.http_requests if e.method == "PUT" and e.path.endswith("/commands")
    ]
    await club.env.restart_bot(make_bot())
    after = [
        e for e in club.env.http_requests if e.method == "PUT" and e.path.endswith("/commands")
    ]
    assert len(after) == len(syncs) == 1
    clicked = await club.alice.click(r.response, label="Next section ▶")
    assert clicked.response.embeds[0].footer.text == "Section 2 of 8"


async def test_sync_on_request_pushes_the_tree_even_when_unchanged(club, make_bot, config):
    import dataclasses

    await club.env.restart_bot(make_bot(dataclasses.replace(config, force_sync=True)))
    pushes = [
        e for e in club.env.http_requests if e.method == "PUT" and e.path.endswith("/commands")
    ]
    assert len(pushes) == 2


async def test_a_plain_text_upload_takes_its_first_line_as_the_title(club):
    upload = b"Night Moves\n\nThe diner scene is the film.\n\nThe Airport\n\nLights.\n"
    r = await club.mia.slash(club.general, "essay add", file=("night.txt", upload), film="Heat")
    preview = r.response.embeds[0]
    assert preview.title == "Preview: Night Moves"
    fields = {f.name: f.value for f in preview.fields}
    assert fields["2 sections"].splitlines()[0].startswith("1. Opening")
