"""Essays as data: an essay file, as any blog wrote it -> Essay(sections), and plain text -> Markdown.

Front matter is read by `frontmatter` (YAML, TOML or `Key: value` lines); the body is converted
once, here, into Discord Markdown blocks by `markup` (Python-Markdown, then an HTML walker). The
essay's own section level is found from its headings; section slugs come from Python-Markdown's
`toc` slugify/unique, so they stay what they were for the same headings.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePath

from markdown.extensions.toc import slugify, slugify_unicode, unique

from bot.errors import EssayFormatError
from bot.essays.frontmatter import (
    interpret,
    normalize_text,
    read_front_matter,
    split_front_matter,
)
from bot.essays.markup import Block, body_blocks
from bot.text import clean

FIELDS = ("title", "film", "year", "director", "author")
OPENING_SLUG = "opening"
OPENING_HEADING = "Opening"
MAX_HEADING = 200
MAX_META_VALUE = 200
MAX_SECTIONS = 100
NOTES_HEADING = "**Notes**"

END_PUNCTUATION = ".!?…:;,"
CLOSERS = "\"'”’»)]"
MARKDOWN_SPECIAL = re.compile(r"([\\`*_~|<>\[\]])")
LINE_START_MARK = re.compile(r"^(\s*)(#|>|[-+](?=\s))")
LINE_START_NUMBER = re.compile(r"^(\s*\d+)([.)])(?=\s)")
FIELD_OF = {"title": "title", "film": "film", "movie": "film", "year": "year"}
FIELD_OF |= {"director": "director", "author": "author", "authors": "author"}
JEKYLL_DATE = re.compile(r"^\d{4}-\d\d-\d\d-")


@dataclass(frozen=True)
class Section:
    slug: str
    heading: str
    body: str


@dataclass(frozen=True)
class Essay:
    title: str
    film: str
    year: int | None = None
    director: str | None = None
    author: str | None = None
    sections: tuple[Section, ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)
    tags: tuple[str, ...] = field(default=(), compare=False)


def section_slug(heading: str, used: set[str]) -> str:
    base: str = slugify(heading, "-") or slugify_unicode(heading, "-") or "section"
    slug: str = unique(base, used)
    return slug


def title_from_filename(name: str | None) -> str | None:
    """A file's name as a title, as Obsidian and Jekyll read it: `Nosferatu - Der Untote.md`,
    `2022-09-01-inciting-incidents.md` -> "Inciting incidents"."""
    if not name:
        return None
    stem = JEKYLL_DATE.sub("", PurePath(name).stem).strip()
    if stem and " " not in stem and re.search(r"[-_]", stem):
        stem = re.sub(r"[-_]+", " ", stem).strip()
        stem = stem[:1].upper() + stem[1:]
    return clean(stem) or None


def _section_level(blocks: list[Block]) -> int | None:
    levels = [b.level for b in blocks if b.level]
    return min(levels) if levels else None


def _notes_block(blocks: list[Block], notes: dict[str, str], numbers: dict[str, str]) -> str:
    cited: list[str] = []
    for block in blocks:
        cited += [n for n in block.notes if n not in cited]
    lines = [f"{numbers[n]}. {notes[n]}" for n in cited if n in notes and n in numbers and notes[n]]
    return "\n".join([NOTES_HEADING, *lines]) if lines else ""


def _body(blocks: list[Block], notes: dict[str, str], numbers: dict[str, str]) -> str:
    texts = [f"### {b.text}" if b.level else b.text for b in blocks]
    note_block = _notes_block(blocks, notes, numbers)
    if note_block:
        texts.append(note_block)
    return "\n\n".join(t for t in texts if t.strip())


def parse_essay(
    text: str, *, fallback_title: str | None = None, **overrides: str | int | None
) -> Essay:
    """Parse an essay: front matter of any kind, then a Markdown (and HTML) body.

    `overrides` (title, film, year, director, author) replace front matter values when not None;
    `fallback_title` (the file's name) names an essay that has no title of its own.
    Raises EssayFormatError with a message a moderator can act on.
    """
    meta, body = read_front_matter(text)
    values: dict[str, str | int | None] = {
        "title": clean(meta.title) or None,
        "film": clean(meta.film) or None,
        "year": meta.year,
        "director": clean(meta.director) or None,
        "author": clean(meta.author) or None,
    }
    for key, value in overrides.items():
        if key not in FIELDS:
            raise TypeError(f"unknown essay field {key}")
        if value is not None and clean(str(value)):
            values[key] = clean(str(value)) if key != "year" else value
    warnings: list[str] = []
    if meta.blank_title and not values["title"]:
        raise EssayFormatError(
            "This essay has no title: its `title` line is empty or shows nothing. Write the "
            "title on that line, or give the title option (`--title` when importing)."
        )

    blocks, notes, numbers = body_blocks(body)
    h1s = [b for b in blocks if b.level == 1]
    if blocks and blocks[0].level == 1 and len(h1s) == 1:
        # A single `#` heading at the top is the document's title, not a section.
        leading = clean(blocks.pop(0).text)
        if not values["title"]:
            values["title"] = leading or None
    if not values["title"]:
        values["title"] = values["film"] or clean(fallback_title) or None
    if not values["title"]:
        raise EssayFormatError(
            "This essay has no title. Add a `title:` line to its front matter or a `# Title` "
            "line at the top of the text, or give the title option (`--title` when importing)."
        )
    if not values["film"]:
        values["film"] = values["title"]
        warnings.append(
            "No film named: the title stands in for it. Add a `film:` line to the front matter "
            "or give the film option."
        )
    if values["year"] is None:
        values["year"] = meta.date_year  # the post's date, only when no film year is given
    for key in FIELDS:
        value = values[key]
        if isinstance(value, str) and len(value) > MAX_META_VALUE:
            raise EssayFormatError(
                f"{key.title()} is longer than {MAX_META_VALUE} characters: shorten the `{key}` "
                "line of the front matter."
            )
    year = values["year"]
    if year is not None and not isinstance(year, int):
        year = int(year) if str(year).isdigit() else None
    if not values["director"]:
        warnings.append("No director given.")

    level = _section_level(blocks)
    groups: list[tuple[str | None, list[Block]]] = [(None, [])]
    for block in blocks:
        if block.level and block.level == level:
            groups.append((block.text, []))
        else:
            groups[-1][1].append(block)

    sections: list[Section] = []
    used: set[str] = set()
    for raw_heading, group in groups:
        body_text = _body(group, notes, numbers)
        if raw_heading is None:
            if body_text:
                used.add(OPENING_SLUG)
                sections.append(Section(OPENING_SLUG, OPENING_HEADING, body_text))
            continue
        heading = " ".join(raw_heading.split())
        if len(heading) > MAX_HEADING:
            raise EssayFormatError(
                f"The heading “{heading[:60]}…” is longer than {MAX_HEADING} characters: is a "
                "paragraph marked as a heading by mistake?"
            )
        slug = section_slug(heading, used)
        if not body_text:
            warnings.append(f"Section “{heading}” has no text and was left out.")
            continue
        sections.append(Section(slug, heading, body_text))
    if not sections:
        raise EssayFormatError("This essay has no text.")
    if len(sections) > MAX_SECTIONS:
        raise EssayFormatError(
            f"This essay has {len(sections)} sections; at most {MAX_SECTIONS}. Join some of them."
        )
    return Essay(
        title=str(values["title"]),
        film=str(values["film"]),
        year=year,
        director=values["director"],  # type: ignore[arg-type]
        author=values["author"],  # type: ignore[arg-type]
        sections=tuple(sections),
        warnings=tuple(warnings),
        tags=meta.tags,
    )


# --- plain text -> Markdown -------------------------------------------------------------


def escape_markdown(text: str) -> str:
    """Escape what Markdown (and Discord) would read as markup, so plain text shows as written."""
    text = MARKDOWN_SPECIAL.sub(r"\\\1", text)
    text = LINE_START_MARK.sub(r"\1\\\2", text)
    return LINE_START_NUMBER.sub(r"\1\\\2", text)


def plain_paragraphs(text: str) -> list[str]:
    """Paragraphs of plain text: blank-line separated blocks (hard wraps joined), or, in text
    without blank lines, one paragraph per line."""
    text = normalize_text(text)
    lines = [line.strip() for line in text.split("\n")]
    if any(not line for line in lines[1:-1]) and sum(1 for line in lines if line) > 1:
        blocks = re.split(r"\n\s*\n", text.strip())
        return [" ".join(block.split()) for block in blocks if block.strip()]
    return [" ".join(line.split()) for line in lines if line]


def looks_like_heading(paragraph: str) -> bool:
    """A short line that does not end like a sentence."""
    stripped = paragraph.rstrip(CLOSERS)
    return (
        0 < len(paragraph) <= 100
        and len(paragraph.split()) <= 15
        and bool(stripped)
        and stripped[-1] not in END_PUNCTUATION
        and any(unicodedata.category(ch).startswith("L") for ch in paragraph)
    )


def plain_to_markdown(
    text: str,
    *,
    title: str,
    film: str,
    year: int | None = None,
    director: str | None = None,
    author: str | None = None,
) -> str:
    """Turn a plain-text essay into Projectionist Markdown: front matter, then paragraphs, with
    each heading line (short, no end punctuation, followed by a paragraph) as a `##` heading.
    A heading line at the very top is the document's title: the title when none is given, and
    dropped when one is (it is not a section). Leading `Title:`/`Film:`/… lines are read as
    front matter, never as the title."""
    data, rest = split_front_matter(text)
    if any(FIELD_OF.get(str(key).strip().lower()) for key in data):
        meta = interpret(data)
        title = title or meta.title or ""
        film = film or meta.film or ""
        year = year if year is not None else meta.year
        director = director or meta.director
        author = author or meta.author
        text = rest
    paragraphs = plain_paragraphs(text)
    if len(paragraphs) > 1 and looks_like_heading(paragraphs[0]):
        first = paragraphs.pop(0)
        title = title or first
    blocks = []
    for i, paragraph in enumerate(paragraphs):
        following = paragraphs[i + 1] if i + 1 < len(paragraphs) else None
        if (
            following is not None
            and looks_like_heading(paragraph)
            and not looks_like_heading(following)
        ):
            blocks.append(f"## {escape_markdown(paragraph)}")
        else:
            blocks.append(escape_markdown(paragraph))
    return front_matter(title=title, film=film, year=year, director=director, author=author) + (
        "\n\n".join(blocks) + "\n"
    )


def front_matter(**values: str | int | None) -> str:
    lines = []
    for key in FIELDS:
        value = values.get(key)
        if value is not None and str(value).strip():
            lines.append(f"{key.title()}: {' '.join(str(value).split())}")
    return "\n".join(lines) + "\n\n"


def markdown_with_front_matter(text: str, **overrides: str | int | None) -> str:
    """A Markdown essay with `overrides` merged into its front matter (rewritten as `Key: value`
    lines, keeping the fields the library reads), body unchanged."""
    data, body = split_front_matter(text)
    meta = interpret(data)
    values: dict[str, str | int | None] = {
        "title": meta.title,
        "film": meta.film,
        "year": meta.year if meta.year is not None else meta.date_year,
        "director": meta.director,
        "author": meta.author,
    }
    values.update({k: v for k, v in overrides.items() if v is not None and str(v).strip()})
    return front_matter(**values) + body.strip("\n") + "\n"


def read_file(
    text: str,
    filename: str,
    *,
    title: str | None = None,
    film: str | None = None,
    year: int | None = None,
    director: str | None = None,
    author: str | None = None,
) -> tuple[str, Essay]:
    """What `/essay add` and `python -m bot essays import` both do with a file: its text as
    Projectionist Markdown (the title and film it was read with written into the front matter)
    and the parsed essay. A Markdown file without a title is named after its file, as Obsidian
    and Jekyll name a note or a post."""
    # Plain text (`.txt`) goes through the importer; Markdown gets the given fields merged into
    # its front matter.
    markdown_file = filename.lower().endswith(".md")
    if markdown_file:
        markdown = markdown_with_front_matter(
            text, title=title, film=film, year=year, director=director, author=author
        )
    else:
        markdown = plain_to_markdown(
            text, title=title or "", film=film or "", year=year, director=director, author=author
        )
        if not read_front_matter(markdown)[0].title:
            raise EssayFormatError(
                "This essay has no title: put the title alone on the first line of the file, or "
                "give the title option (`--title` when importing)."
            )
    fallback = title_from_filename(filename) if markdown_file else None
    essay = parse_essay(markdown, fallback_title=fallback)
    markdown = markdown_with_front_matter(markdown, title=essay.title, film=essay.film)
    return markdown, essay


def file_stem(title: str) -> str:
    return slugify(title, "-") or slugify_unicode(title, "-") or "essay"
