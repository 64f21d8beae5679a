"""Essays as people write them: front matter of every kind, any heading level, raw HTML,
shortcodes, footnotes, tables, Obsidian links, spoilers; one case at a time."""

from __future__ import annotations

import random

import pytest

from bench.community import essay_markdown as bench_essay
from bot.errors import EssayFormatError
from bot.essays import markup
from bot.essays.frontmatter import read_front_matter
from bot.essays.library import opening_words, pick_passage
from bot.essays.parse import parse_essay, read_file
from bot.text import fold, fold_unicode, highlight, is_prose, paginate, paragraphs
from tests.conftest import SEED_ESSAY
from tests.essay_corpus import FILES, corpus_essay, raw_markup


def bodies(essay) -> list[str]:
    return [s.body for s in essay.sections]


# --- the corpus -------------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_every_corpus_essay_reads_cleanly(name):
    essay = corpus_essay(name)
    assert essay.title and essay.film
    assert not raw_markup(essay.title), essay.title
    assert essay.title[0] not in "\"'" and "<" not in essay.title
    for section in essay.sections:
        assert section.body.strip(), section.heading
        assert not raw_markup(section.body), (section.heading, raw_markup(section.body))
        assert not any(ch in section.heading for ch in "#*[]<>|`"), section.heading
        # Front matter never shows as text.
        assert not section.body.startswith(("---", "+++", "title:", "layout:"))
    assert not any("front matter key" in w for w in essay.warnings)


@pytest.mark.parametrize("name", FILES)
def test_every_section_of_a_corpus_essay_gives_prose_to_prompts_and_excerpts(name):
    # A week's prompt quotes its section as `pick_passage(body, Random(section id))` does.
    for section in corpus_essay(name).sections:
        for seed in range(5):
            passage = pick_passage(section.body, random.Random(seed))
            if passage is not None:
                assert all(is_prose(p) for p in paragraphs(passage)), (section.heading, passage)
                assert not raw_markup(passage), (section.heading, raw_markup(passage))


def test_the_corpus_covers_three_languages_and_real_sections():
    assert len(FILES) >= 20
    languages = {name.split("-")[0] for name in FILES if name[:3] in ("en-", "fr-", "de-", "es-")}
    assert {"en", "fr", "es"} <= languages
    assert any(len(corpus_essay(n).sections) >= 5 for n in FILES)


def test_plain_prose_fast_path_gives_what_the_full_conversion_gives():
    rng = random.Random(7)
    texts = [bench_essay(i, rng) for i in range(30)] + [SEED_ESSAY.read_text(encoding="utf-8")]
    for text in texts:
        body = read_front_matter(text)[1]
        fast = markup.plain_blocks(body)
        assert fast is not None
        writer = markup.Writer()
        for child in markup._blocks_of(markup.parse_html(markup.to_html(body))):
            writer.block(child)
        assert [(b.level, b.text) for b in fast] == [(b.level, b.text) for b in writer.blocks]


# --- front matter -----------------------------------------------------------------------


def test_yaml_front_matter_with_quotes_lists_nested_authors_and_folded_values():
    essay = parse_essay(
        "---\n"
        'title: "Vertigo: a spiral"\n'
        "movie: 'Vertigo'\n"
        'year: "1958"\n'
        "director: [Alfred Hitchcock]\n"
        "author:\n  name: Sam Lee\n  url: https://example.org\n"
        "tags:\n  - hitchcock\n  - noir\n"
        "description: >\n  A long\n  folded value.\n"
        "layout: post\npermalink: /vertigo/\n"
        "---\n\nThe tower, the stairs, the fall.\n"
    )
    assert (essay.title, essay.film, essay.year) == ("Vertigo: a spiral", "Vertigo", 1958)
    assert (essay.director, essay.author) == ("Alfred Hitchcock", "Sam Lee")
    assert essay.tags == ("hitchcock", "noir")
    assert essay.warnings == ()
    assert bodies(essay) == ["The tower, the stairs, the fall."]


def test_authors_as_a_list_of_maps_and_tags_inline():
    essay = parse_essay(
        "---\ntitle: Heat\nfilm: Heat\nauthors:\n  - name: Ana\n  - name: Bo\n"
        "tags: [crime, la]\n---\n\nText.\n"
    )
    assert essay.author == "Ana, Bo"
    assert essay.tags == ("crime", "la")


def test_toml_front_matter():
    essay = parse_essay(
        '+++\ntitle = "Stalker"\nfilm = "Stalker"\nyear = 1979\ndirector = "Andrei Tarkovsky"\n'
        'tags = ["zone"]\ndraft = false\n+++\n\nThe Zone asks for patience.\n'
    )
    assert (essay.title, essay.year, essay.director) == ("Stalker", 1979, "Andrei Tarkovsky")
    assert bodies(essay) == ["The Zone asks for patience."]


def test_a_date_is_the_year_only_when_no_film_year_is_given():
    dated = "---\ntitle: T\nfilm: F\ndate: 2021-07-14 10:00:00\n---\n\nText.\n"
    assert parse_essay(dated).year == 2021
    both = "---\ntitle: T\nfilm: F\nyear: 1958\ndate: 2021-07-14\n---\n\nText.\n"
    assert parse_essay(both).year == 1958


def test_titles_lose_their_quotes_and_html():
    essay = parse_essay('---\ntitle: "<em>Vertigo</em> &amp; me"\nfilm: Vertigo\n---\n\nText.\n')
    assert essay.title == "Vertigo & me"
    assert parse_essay('Title: "Heat"\nFilm: Heat\n\nText.\n').title == "Heat"


def test_a_bad_year_says_what_to_change():
    with pytest.raises(EssayFormatError, match="`year` line"):
        parse_essay("---\ntitle: T\nfilm: F\nyear: soon\n---\n\nText.\n")


# --- sections ---------------------------------------------------------------------------


def test_hash_sections_under_no_title():
    essay = parse_essay("---\ntitle: T\nfilm: F\n---\n\n# One\n\nA.\n\n# Two\n\nB.\n")
    assert [s.heading for s in essay.sections] == ["One", "Two"]


def test_double_hash_sections_under_a_hash_title_that_repeats_the_title():
    essay = parse_essay("---\ntitle: Heat\nfilm: Heat\n---\n\n# Heat\n\nIntro.\n\n## One\n\nA.\n")
    assert [s.heading for s in essay.sections] == ["Opening", "One"]
    assert essay.sections[0].body == "Intro."


def test_triple_hash_steps_in_an_essay_with_one_hash_and_deeper_headings_inside():
    essay = parse_essay(
        "# Rope\n\nIntro.\n\n### First\n\nA.\n\n#### Detail\n\nB.\n\n### Second\n\nC.\n",
        film="Rope",
    )
    assert essay.title == "Rope"
    assert [s.heading for s in essay.sections] == ["Opening", "First", "Second"]
    assert essay.sections[1].body == "A.\n\n### Detail\n\nB."


def test_setext_headings():
    essay = parse_essay(
        "Title: T\nFilm: F\n\nPart one\n========\n\nA.\n\nPart two\n========\n\nB.\n\n"
        "Detail\n------\n\nC.\n"
    )
    assert [s.heading for s in essay.sections] == ["Part one", "Part two"]
    assert essay.sections[1].body == "B.\n\n### Detail\n\nC."


def test_slugs_stay_what_they_were_for_the_same_headings():
    before = parse_essay("Title: T\nFilm: F\n\n## Ça va\n\nA.\n\n## *The* End\n\nB.\n")
    after = parse_essay(
        "---\ntitle: T\nfilm: F\n---\n\n## Ça va\n\nA, edited.\n\n## The End\n\nB.\n"
    )
    assert [s.slug for s in before.sections] == [s.slug for s in after.sections]
    assert [s.slug for s in after.sections] == ["ca-va", "the-end"]


# --- the body ---------------------------------------------------------------------------


def one_body(markdown: str) -> str:
    essay = parse_essay("Title: T\nFilm: F\nDirector: D\n\n" + markdown)
    return "\n\n".join(bodies(essay))


def test_hard_wrapped_lines_flow():
    assert one_body("A line\nwrapped at\nseventy-two.\n") == "A line wrapped at seventy-two."


def test_raw_html_becomes_discord_markdown():
    body = one_body(
        '<p style="text-align: justify;">A <em>great</em> film by <a href="https://x.org/d">'
        "her</a> &amp; him<br>again.</p>\n\n<!-- more -->\n\n<p>Next &mdash; <b>bold</b>.</p>\n"
    )
    assert body == "A *great* film by [her](https://x.org/d) & him\nagain.\n\nNext — **bold**."


def test_images_are_dropped_and_players_become_a_short_link_line():
    body = one_body(
        "Before.\n\n![poster](/img/p.jpg)\n\n<img src='a.jpg'>\n\n![[still.png]]\n\n"
        '<iframe src="https://www.youtube.com/embed/abc" width="560"></iframe>\n\nAfter.\n'
    )
    assert body == "Before.\n\n[▶ www.youtube.com](https://www.youtube.com/embed/abc)\n\nAfter."


def test_footnotes_are_numbered_notes_at_the_end_of_their_section():
    essay = parse_essay(
        "Title: T\nFilm: F\n\n## One\n\nA claim.[^a]\n\n## Two\n\nAnother.[^b] And more.[^a]\n\n"
        "[^a]: The source.\n[^b]: A second source.\n"
    )
    assert essay.sections[0].body == "A claim.¹\n\n**Notes**\n1. The source."
    assert essay.sections[1].body == (
        "Another.² And more.¹\n\n**Notes**\n2. A second source.\n1. The source."
    )


def test_tables_read_as_text():
    body = one_body("| Year | Film |\n| --- | --- |\n| 1958 | Vertigo |\n| 1960 | Psycho |\n")
    assert body == "**Year · Film**\n1958 · Vertigo\n1960 · Psycho"


def test_shortcodes_and_attribute_lists_keep_their_visible_text():
    body = one_body(
        '{% include image.html name="m.jpg" caption="The motel at night" %}\n\n'
        '{{< figure src="/x.jpg" caption="Janet Leigh" >}}\n\n{{< youtube abc123 >}}\n\n'
        'A [link](https://x.org){:target="_blank"} here.\n{: .lead}\n\n'
        "![]({{site.baseurl}}/img.jpg)\n"
    )
    assert body == (
        "*The motel at night*\n\n*Janet Leigh*\n\n"
        "[▶ www.youtube.com](https://www.youtube.com/watch?v=abc123)\n\n"
        "A [link](https://x.org) here."
    )


def test_shortcodes_ox_hugo_exported_escaped_keep_their_caption():
    body = one_body(
        'Before.\n\n{{&lt; figure src="m.jpg" alt="Moira, one of the\nprincipal characters."'
        ' caption="Moira, one of the\nprincipal characters."&gt;}}\n\nAfter.\n'
    )
    assert body == "Before.\n\n*Moira, one of the principal characters.*\n\nAfter."


def test_html_a_tool_escaped_into_text_is_read_as_html():
    body = one_body(
        'Before.\n\n<div class="html">\n\n&lt;iframe width="600" src="https://x.org/chart"&gt;'
        '\n\n</div>\n\n<div class="html">\n\n&lt;/iframe&gt;\n\n</div>\n\n'
        '<div class="html">\n\n&lt;iframe width="600" src="<https://x.org/c?a=1&amp;b=2>"&gt;'
        "\n\n</div>\n\nAfter: a &lt;b&gt; tag, in words.\n"
    )
    assert body == "Before.\n\n[▶ x.org](https://x.org/chart)\n\nAfter: a <b> tag, in words."


def test_liquid_captions_given_as_assigned_variables():
    body = one_body(
        '{% assign caption1 = "A barcode of The Lion King" %}\n'
        '{% include caption_image.html imgpath="https://x.org/a.jpg" alt=example1'
        " caption=caption1 %}\n\n"
        '{% include caption_image.html imgpath="https://x.org/b.jpg" caption=unset %}\n\nEnd.\n'
    )
    assert body == "*A barcode of The Lion King*\n\nEnd."


def test_a_list_right_under_a_paragraph_line_is_a_list():
    body = one_body(
        "## Why\nAveraging is a problem because it:  \n- alters lightness\n- collapses colours\n\n"
        "I wait for:\n* Dune\n* Alien\n\nA dash\n-not a list, nor 2. this\n"
    )
    assert body == (
        "Averaging is a problem because it:\n\n- alters lightness\n- collapses colours"
        "\n\nI wait for:\n\n- Dune\n- Alien\n\nA dash -not a list, nor 2. this"
    )


def test_obsidian_links_show_their_label():
    body = one_body("See [[Vertigo (1958)|Vertigo]], [[Psycho]] and [[Rope#Ending]].\n")
    assert body == "See Vertigo, Psycho and Rope."


def test_spoiler_blocks_become_discord_spoilers_whole_in_each_paragraph():
    body = one_body("Before.\n\n[spoiler]He dies.\n\nShe lives.[/spoiler]\n\nAfter.\n")
    assert body == "Before.\n\n||He dies.||\n\n||She lives.||\n\nAfter."
    details = one_body("<details><summary>Ending</summary>\n\nIt was a dream.\n\n</details>\n")
    assert details == "||It was a dream.||"


def test_pages_never_cut_inside_a_link_a_spoiler_or_a_code_span():
    words = "word " * 60
    paragraph = f"{words}[a link label](https://example.org/path) ||a hidden end|| `a b c` {words}"
    for limit in range(300, 340):
        for page in paginate(paragraph, limit):
            assert not raw_markup(page), (limit, page)
            assert page.count("](") == page.count("[a link label]")


# --- excerpts, previews, snippets -------------------------------------------------------


def test_excerpts_are_prose():
    body = (
        "### A sub-heading\n\n**Year · Film**\n1958 · Vertigo\n\n[▶ x.org](https://x.org/v)\n\n"
        "Runtime: 128 minutes\n\nThe camera climbs the tower and we climb with it, dizzy."
    )
    for seed in range(20):
        assert pick_passage(body, random.Random(seed)) == (
            "The camera climbs the tower and we climb with it, dizzy."
        )
    assert pick_passage("### Only\n\n- a list", random.Random(1)) is None
    assert not is_prose("Verfügbar bei: https://www.justwatch.com/de/Film/x")
    assert not is_prose("[Read the review on my other blog, with pictures](https://x.org/r).")


def test_contents_previews_are_words():
    head = "[The Assessment](https://x.org) is a ||twist|| film that *I* liked a lot, really.\n\nB"
    assert opening_words(head) == "The Assessment is a ▒▒▒ film that I liked a lot, really."


def test_snippets_bold_words_found_without_accents_and_ligatures():
    body = (
        "Le réalisateur filme l’œuvre. [Le réalisateur](https://x.org/realisateur) `realisateur`."
    )
    snippet = highlight(body, ["realisateur", "oeuvre"])
    assert snippet.count("**réalisateur**") == 2
    assert "**œuvre**" in snippet
    assert "https://x.org/realisateur)" in snippet and "`realisateur`" in snippet
    assert highlight("A microfilm about film.", ["film"]) == "A microfilm about **film**."
    assert highlight("It is about language³. Notes", ["language"]) == (
        "It is about **language**³. Notes"
    )


def test_snippets_drop_sub_heading_quote_and_emphasis_marks():
    body = (
        "### The casino\n> She says *nothing* for a **long** time.\n"
        "Then __Ben__ ~~laughs~~ at the # sign > all."
    )
    assert highlight(body, ["casino", "ben"]) == (
        "The **casino** She says nothing for a long time. Then **Ben** laughs at the # sign > all."
    )
    assert highlight("A ~~struck~~ word", ["word"]) == "A struck **word**"
    assert highlight("A _dim_ room", ["room"]) == "A dim **room**"
    assert highlight("## Night falls", ["night"]) == "**Night** falls"
    assert highlight("> A quote", ["quote"]) == "A **quote**"
    assert highlight("A \\*starred\\* word", ["word"]) == "A \\*starred\\* **word**"


# --- uploads and imports ----------------------------------------------------------------


def test_a_txt_file_with_key_value_lines_never_gets_title_title():
    markdown, essay = read_file("Title: Heat\nFilm: Heat\n\nThe diner scene.\n", "heat.txt")
    assert essay.title == "Heat"
    assert "Title: Title" not in markdown
    assert bodies(essay) == ["The diner scene."]


def test_a_markdown_file_without_a_title_is_named_after_its_file():
    _markdown, essay = read_file("Just a review.\n", "2022-09-01-the-long-goodbye.md")
    assert essay.title == "The long goodbye"
    _markdown, essay = read_file("Just a review.\n", "Nosferatu - Der Untote.md")
    assert essay.title == "Nosferatu - Der Untote"


def test_a_line_break_in_a_paragraph_starts_no_quote_heading_or_list():
    essay = parse_essay(
        "---\ntitle: Breaks\nfilm: Heat\n---\n\n"
        "<p>The last line of the film:<br>&gt; Told you I'm never going back.<br>"
        "# not a heading<br>- not a list<br>3. not a number</p>\n"
    )
    assert essay.sections[0].body.split("\n") == [
        "The last line of the film:",
        "\\> Told you I'm never going back.",
        "\\# not a heading",
        "\\- not a list",
        "3\\. not a number",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Heat",
        "  The  Diner\t(1995)\n",
        "".join(chr(code) for code in range(128)),  # every ASCII character, separators included
        'Don\'t LOOK Now: A "Venice" Essay',
    ],
)
def test_ascii_is_folded_as_any_text_is(text):
    assert fold(text) == fold_unicode(text)


def test_folding_removes_accents_ligatures_and_typographic_quotes():
    assert fold("  L’Œuvre de  “Crème”  ") == 'l\'oeuvre de "creme"'
    assert fold("STRASSE") == fold("Straße") == "strasse"
