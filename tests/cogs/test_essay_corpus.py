"""Real essays from public blogs, read through /essay as members read them, on both backends:
the contents and its menu, every page of every section, a search typed without accents, an
excerpt; and the library's own `essays check` accepting them."""

from __future__ import annotations

import pytest

from bot.text import fold, is_prose, paragraphs
from tests.conftest import ROOT, SEED_ESSAY
from tests.essay_corpus import FILES, copy_corpus, corpus_essay, distinctive_words, raw_markup
from tests.helpers import select_options
from tests.test_cli import cli


@pytest.fixture
def essays_dir(tmp_path):
    folder = tmp_path / "essays"
    copy_corpus(folder)
    (folder / SEED_ESSAY.name).write_bytes(SEED_ESSAY.read_bytes())
    return folder


def next_page_enabled(message) -> bool:
    return any(
        c.get("label") == "Next page" and not c.get("disabled", False)
        for row in message.components
        for c in row["components"]
    )


@pytest.mark.parametrize("name", FILES)
async def test_a_corpus_essay_reads_cleanly_through_essay_commands(club, name):
    essay = corpus_essay(name)
    alice, general = club.alice, club.general

    contents = (await alice.slash(general, "essay read", essay=essay.title)).response
    embed = contents.embeds[0]
    assert embed.title == essay.title
    assert not raw_markup(embed.description), raw_markup(embed.description)
    for preview in embed.description.split("\n")[1::2]:
        assert "](" not in preview and "**" not in preview and "||" not in preview
    assert [o.split(". ", 1)[1] for o in select_options(contents)] == [
        s.heading for s in essay.sections
    ][:25]

    for number, section in enumerate(essay.sections, 1):
        message = (
            await alice.slash(general, "essay read", essay=essay.title, section=str(number))
        ).response
        shown = [message.embeds[0].description]
        while next_page_enabled(message):
            message = (await alice.click(message, label="Next page")).response
            shown.append(message.embeds[0].description)
        assert message.embeds[0].title == section.heading
        for page in shown:
            assert page.strip() and not raw_markup(page), (section.heading, raw_markup(page))
        assert " ".join("\n\n".join(shown).split()) == " ".join(section.body.split())

    word = distinctive_words()[name]
    found = (await alice.slash(general, "essay search", query=fold(word))).response.embeds[0]
    mine = [f for f in found.fields if f.name.endswith(f"— {essay.title}")]
    assert mine, (fold(word), [f.name for f in found.fields])
    assert f"**{word}" in mine[0].value
    assert not raw_markup(mine[0].value)

    excerpt = (await alice.slash(general, "essay excerpt", essay=essay.title)).response
    passage = excerpt.embeds[0].description
    assert all(is_prose(p) for p in paragraphs(passage)), passage


def test_essays_check_accepts_the_corpus(tmp_path):
    folder = tmp_path / "essays"
    copy_corpus(folder)
    result = cli("essays", "check", cwd=ROOT, env_extra={"ESSAYS_DIR": str(folder)})
    assert result.returncode == 0, result.stdout
    assert f"{len(FILES)} essays, 0 with problems" in result.stdout
