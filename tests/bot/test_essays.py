import re

import pytest

from bot.errors import EssayFormatError
from bot.essays.parse import (
    escape_markdown,
    looks_like_heading,
    markdown_with_front_matter,
    parse_essay,
    plain_paragraphs,
    plain_to_markdown,
)
from tests.conftest import SEED_ESSAY, SEED_TEXT

SEED_HEADINGS = [
    "Opening",
    "The Introduction: A Woman in Control of Nothing and Everything",
    "The Pact: Love Without Redemption",
    "The Performance: Fearless, Vulnerable, Unsentimental",
    "The Descent: Violence, Loneliness, and Loss",
    "The Aftermath: A Love That Outlives",
    "Elisabeth Shue’s Masterpiece",
    "The Angel in the Desert",
]


def words(text: str) -> list[str]:
    return re.sub(r"\\(.)", r"\1", text).split()


def test_bundled_seed_essay_has_the_eight_sections_in_order():
    essay = parse_essay(SEED_ESSAY.read_text(encoding="utf-8"))
    assert [s.heading for s in essay.sections] == SEED_HEADINGS
    assert essay.title == "Sera: Elisabeth Shue in Leaving Las Vegas"
    assert (essay.film, essay.year, essay.director) == ("Leaving Las Vegas", 1995, "Mike Figgis")
    assert essay.sections[6].slug == "elisabeth-shues-masterpiece"
    assert essay.warnings == ()


def test_bundled_seed_essay_keeps_every_word_of_the_seed_in_order():
    essay = parse_essay(SEED_ESSAY.read_text(encoding="utf-8"))
    served = []
    for section in essay.sections:
        if section.heading != "Opening":
            served += section.heading.split()
        served += words(section.body)
    assert served == SEED_TEXT.read_text(encoding="utf-8").split()


def test_importing_the_seed_again_gives_the_bundled_file():
    markdown = plain_to_markdown(
        SEED_TEXT.read_text(encoding="utf-8"),
        title="Sera: Elisabeth Shue in Leaving Las Vegas",
        film="Leaving Las Vegas",
        year=1995,
        director="Mike Figgis",
    )
    assert markdown == SEED_ESSAY.read_text(encoding="utf-8")


def test_front_matter_and_opening_section():
    essay = parse_essay(
        "Title: Heat\nFilm: Heat\nYear: 1995\nAuthor: Sam\n\nBefore any heading.\n\n"
        "## The Diner\n\nTwo men, **one table**.\n\n> A quote\n"
    )
    assert [(s.slug, s.heading) for s in essay.sections] == [
        ("opening", "Opening"),
        ("the-diner", "The Diner"),
    ]
    assert essay.sections[1].body == "Two men, **one table**.\n\n> A quote"
    assert essay.author == "Sam"
    assert essay.warnings == ("No director given.",)


def test_duplicate_and_markup_headings_get_unique_toc_slugs():
    essay = parse_essay(
        "Title: T\nFilm: F\nDirector: D\n\n## Opening\n\nA.\n\n## *Opening*\n\nB.\n\n## Ça va\n\nC.\n"
    )
    assert [(s.slug, s.heading) for s in essay.sections] == [
        ("opening", "Opening"),
        ("opening_1", "Opening"),
        ("ca-va", "Ça va"),
    ]


def test_a_heading_inside_a_code_fence_is_text():
    essay = parse_essay("Title: T\nFilm: F\n\n## Real\n\n```\n## not a heading\n```\n")
    assert [s.heading for s in essay.sections] == ["Real"]
    assert "## not a heading" in essay.sections[0].body


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Body.\n", "no title"),
        ("---\n- a list\ntitle: T\n---\n\nBody.\n", "not valid YAML"),
        ("+++\ntitle = Heat\n+++\n\nBody.\n", "not valid TOML"),
        ("Title: T\nFilm: F\nYear: 95\n\nBody.\n", "four-digit year"),
        ("Title: T\nFilm: F\n\n", "no text"),
    ],
)
def test_essays_that_cannot_be_served_say_why(text, message):
    with pytest.raises(EssayFormatError, match=message):
        parse_essay(text)


def test_overrides_replace_front_matter():
    essay = parse_essay("Title: Old\nFilm: F\n\nBody.\n", title="New", year=2001)
    assert (essay.title, essay.year) == ("New", 2001)


def test_a_leading_h1_is_the_title_when_front_matter_has_none():
    essay = parse_essay("# Night of the Hunter\n\nText.\n", film="The Night of the Hunter")
    assert essay.title == "Night of the Hunter"
    assert essay.sections[0].body == "Text."


def test_heading_detection():
    assert looks_like_heading("The Pact: Love Without Redemption")
    assert looks_like_heading("Leaving Las Vegas (1995)")
    assert not looks_like_heading("It ends.")
    assert not looks_like_heading("“I loved him.”")
    assert not looks_like_heading("A list, of things,")
    assert not looks_like_heading("1995")
    assert not looks_like_heading("word " * 20)


def test_plain_paragraphs_with_blank_lines_join_hard_wraps():
    text = "First line\nstill first.\n\nSecond.\n"
    assert plain_paragraphs(text) == ["First line still first.", "Second."]
    assert plain_paragraphs("One.\nTwo.\n") == ["One.", "Two."]


def test_importer_escapes_markup_in_plain_text_and_needs_a_following_paragraph():
    markdown = plain_to_markdown(
        "Intro with *stars* and @everyone.\n\nShort Heading\n\nBody text here.\n\nTrailing Line",
        title="T",
        film="F",
    )
    essay = parse_essay(markdown)
    assert [s.heading for s in essay.sections] == ["Opening", "Short Heading"]
    assert essay.sections[0].body == r"Intro with \*stars\* and @everyone."
    assert essay.sections[1].body.endswith("Trailing Line")


def test_escape_markdown_line_starts():
    assert escape_markdown("# not a heading") == r"\# not a heading"
    assert escape_markdown("> not a quote") == r"\> not a quote"
    assert escape_markdown("- not a list") == r"\- not a list"
    assert escape_markdown("1. not a list") == r"1\. not a list"
    assert escape_markdown("a-b 1.5") == "a-b 1.5"


def test_markdown_with_front_matter_merges_options_and_keeps_body():
    merged = markdown_with_front_matter("Title: A\nFilm: B\n\n## H\n\nText.\n", year=1999)
    assert merged == "Title: A\nFilm: B\nYear: 1999\n\n## H\n\nText.\n"


def test_a_plain_text_title_line_is_the_title_and_never_a_section():
    text = "Night Moves\n\nThe diner scene is the film.\n\nThe Airport\n\nLights on the runway."
    untitled = parse_essay(plain_to_markdown(text, title="", film="Heat"))
    assert untitled.title == "Night Moves"
    assert [s.heading for s in untitled.sections] == ["Opening", "The Airport"]
    titled = parse_essay(plain_to_markdown(text, title="Heat, again", film="Heat"))
    assert titled.title == "Heat, again"
    assert [s.heading for s in titled.sections] == ["Opening", "The Airport"]
    assert titled.sections[0].body == "The diner scene is the film."
