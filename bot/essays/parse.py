"""Essays as data: Markdown with front matter -> Essay(sections), and plain text -> that Markdown.

Front matter is read by Python-Markdown's `meta` extension; section slugs come from its `toc`
extension's slugify/unique, so they match the anchors Markdown would give the headings. Section
bodies stay Markdown: Discord renders bold, italics and block quotes itself.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from markdown import Markdown
from markdown.extensions.toc import slugify, slugify_unicode, unique

from bot.errors import EssayFormatError
from bot.text import clean

FIELDS = ("title", "film", "year", "director", "author")
OPENING_SLUG = "opening"
OPENING_HEADING = "Opening"
MAX_HEADING = 200
MAX_META_VALUE = 200
MAX_SECTIONS = 100

ATX_H2 = re.compile(r"^ {0,3}##(?!#)[ \t]+(?P<text>.+?)(?:[ \t]+#+)?[ \t]*$")
ATX_H1 = re.compile(r"^ {0,3}#(?!#)[ \t]+(?P<text>.+?)(?:[ \t]+#+)?[ \t]*$")
FENCE = re.compile(r"^ {0,3}(```|~~~)")
END_PUNCTUATION = ".!?…:;,"
CLOSERS = "\"'”’»)]"
MARKDOWN_SPECIAL = re.compile(r"([\\`*_~|<>\[\]])")
LINE_START_MARK = re.compile(r"^(\s*)(#|>|[-+](?=\s))")
LINE_START_NUMBER = re.compile(r"^(\s*\d+)([.)])(?=\s)")


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


def normalize_text(text: str) -> str:
    """Drop a byte-order mark and unify line endings."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def read_front_matter(text: str) -> tuple[dict[str, str], list[str]]:
    """Split `text` into its front matter (lower-cased keys) and the remaining body lines."""
    md = Markdown(extensions=["meta"])
    body = md.preprocessors["meta"].run(normalize_text(text).split("\n"))
    meta = {key: " ".join(v for v in values if v).strip() for key, values in md.Meta.items()}
    return meta, body


def plain_heading(text: str) -> str:
    """A heading as a member reads it: inline Markdown markup and escapes removed."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__|\*|_|~~|`)(.+?)\1", r"\2", text)
    text = re.sub(r"\\(.)", r"\1", text)
    return " ".join(text.split())


def section_slug(heading: str, used: set[str]) -> str:
    base = slugify(heading, "-") or slugify_unicode(heading, "-") or "section"
    return unique(base, used)


def _parse_year(value: str | None) -> int | None:
    if not value:
        return None
    if not re.fullmatch(r"\d{4}", value) or not 1870 <= int(value) <= 2100:
        raise EssayFormatError(f"Year must be a four-digit year like 1995, not {value!r}.")
    return int(value)


def _split_sections(lines: list[str]) -> tuple[list[str], list[tuple[str, list[str]]], str | None]:
    """(text before the first `##`, [(raw heading, body lines)], a leading `# title` if any)."""
    opening: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    h1_title = None
    in_fence = False
    for line in lines:
        if FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else ATX_H2.match(line)
        if match:
            sections.append((match.group("text"), []))
            continue
        if (
            not sections
            and not in_fence
            and h1_title is None
            and not any(s.strip() for s in opening)
        ):
            h1 = ATX_H1.match(line)
            if h1:
                h1_title = plain_heading(h1.group("text"))
                continue
        (sections[-1][1] if sections else opening).append(line)
    return opening, sections, h1_title


def _clean_body(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text)


def parse_essay(text: str, **overrides: str | int | None) -> Essay:
    """Parse an essay in Projectionist's Markdown format.

    `overrides` (title, film, year, director, author) replace front matter values when not None.
    Raises EssayFormatError with a message a moderator can act on.
    """
    meta, body_lines = read_front_matter(text)
    warnings = [
        f"Unknown front matter key `{key}` was ignored." for key in meta if key not in FIELDS
    ]
    values = {key: clean(meta.get(key)) or None for key in FIELDS}
    for key, value in overrides.items():
        if key not in FIELDS:
            raise TypeError(f"unknown essay field {key}")
        if value is not None and clean(str(value)):
            values[key] = clean(str(value))

    opening_lines, raw_sections, h1_title = _split_sections(body_lines)
    if not values["title"] and h1_title:
        values["title"] = clean(h1_title) or None
    for key in FIELDS:
        if values[key] and len(values[key]) > MAX_META_VALUE:
            raise EssayFormatError(f"{key.title()} is longer than {MAX_META_VALUE} characters.")
    if not values["title"]:
        raise EssayFormatError(
            "This essay has no title. Add a `Title:` line at the top of the file, or give the title "
            "option."
        )
    if not values["film"]:
        raise EssayFormatError(
            "This essay names no film. Add a `Film:` line at the top of the file, or give the film "
            "option."
        )
    year = _parse_year(str(values["year"]) if values["year"] else None)
    if not values["director"]:
        warnings.append("No director given.")

    sections: list[Section] = []
    used: set[str] = set()
    opening = _clean_body(opening_lines)
    if opening:
        used.add(OPENING_SLUG)
        sections.append(Section(OPENING_SLUG, OPENING_HEADING, opening))
    for raw_heading, lines in raw_sections:
        heading = plain_heading(raw_heading)
        if len(heading) > MAX_HEADING:
            raise EssayFormatError(
                f"The heading “{heading[:60]}…” is longer than {MAX_HEADING} characters: is a "
                "paragraph marked as a `##` heading by mistake?"
            )
        body = _clean_body(lines)
        slug = section_slug(heading, used)
        if not body:
            warnings.append(f"Section “{heading}” has no text and was left out.")
            continue
        sections.append(Section(slug, heading, body))
    if not sections:
        raise EssayFormatError("This essay has no text.")
    if len(sections) > MAX_SECTIONS:
        raise EssayFormatError(f"This essay has {len(sections)} sections; at most {MAX_SECTIONS}.")
    return Essay(
        title=values["title"],
        film=values["film"],
        year=year,
        director=values["director"],
        author=values["author"],
        sections=tuple(sections),
        warnings=tuple(warnings),
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
    dropped when one is (it is not a section)."""
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
    """A Markdown essay with `overrides` merged into its front matter, body unchanged."""
    meta, body = read_front_matter(text)
    values: dict[str, str | int | None] = {key: meta.get(key) for key in FIELDS}
    values.update({k: v for k, v in overrides.items() if v is not None and str(v).strip()})
    return front_matter(**values) + "\n".join(body).strip("\n") + "\n"


def essay_markdown(
    text: str,
    filename: str,
    *,
    title: str | None = None,
    film: str | None = None,
    year: int | None = None,
    director: str | None = None,
    author: str | None = None,
) -> str:
    """A file's text as Projectionist Markdown, for the CLI importer and uploads alike: plain
    text (`.txt`) through the importer, Markdown with the given fields merged into its front
    matter."""
    fields = {"year": year, "director": director, "author": author}
    if filename.lower().endswith(".md"):
        return markdown_with_front_matter(text, title=title, film=film, **fields)
    return plain_to_markdown(text, title=title or "", film=film or "", **fields)


def file_stem(title: str) -> str:
    return slugify(title, "-") or slugify_unicode(title, "-") or "essay"
