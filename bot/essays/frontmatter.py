"""Front matter as blogs write it: YAML between `---` lines (Jekyll, Hugo, Astro, Obsidian),
TOML between `+++` lines (Hugo, Zola), or Projectionist's own `Key: value` lines (Python-Markdown's
`meta` form). Read by PyYAML (`safe_load`) and `tomllib`; only the fields the library knows are
kept, and the rest is ignored without a word."""

from __future__ import annotations

import datetime
import re
import tomllib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import yaml
from markdown import Markdown

from bot.errors import EssayFormatError
from bot.text import clean

YEAR_MIN, YEAR_MAX = 1870, 2100

# Front matter keys (lower case, spaces, dashes and underscores alike) -> the essay's field.
ALIASES = {
    "title": "title",
    "film": "film",
    "movie": "film",
    "film_title": "film",
    "movie_title": "film",
    "year": "year",
    "film_year": "year",
    "movie_year": "year",
    "release_year": "year",
    "director": "director",
    "directors": "director",
    "directed_by": "director",
    "author": "author",
    "authors": "author",
    "tags": "tags",
    "date": "date",
}


@dataclass(frozen=True)
class FrontMatter:
    title: str | None = None
    film: str | None = None
    year: int | None = None
    director: str | None = None
    author: str | None = None
    tags: tuple[str, ...] = ()
    date_year: int | None = field(default=None, compare=False)  # the post's date, as a year
    blank_title: bool = field(default=False, compare=False)  # a `title` line with nothing to read


def normalize_text(text: str) -> str:
    """Drop a byte-order mark and unify line endings."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_value(value: str) -> str:
    """A title or a name as a member reads it: tags dropped, entities decoded, one line, and
    without the quotes a `Key: value` line may wrap it in."""
    if "<" in value or "&" in value:
        parser = _TextOnly()
        parser.feed(value)
        parser.close()
        value = "".join(parser.parts)
    value = " ".join(value.split())
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value


def _names(value: Any) -> str | None:
    """`author: Sam`, `authors: [Sam, Alex]`, `author: {name: Sam}`, `- name: Sam` -> text."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("name") or value.get("title")
        return _names(value)
    if isinstance(value, list | tuple):
        names = [n for n in (_names(v) for v in value) if n]
        return ", ".join(names) or None
    return plain_value(str(value)) or None


def _year(value: Any, *, strict: bool) -> int | None:
    """A year from `1995`, `"1995"`, a date or a datetime; `strict` refuses anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date):
        year = value.year
    else:
        text = plain_value(str(value))
        match = re.fullmatch(r"(\d{4})(?:-\d\d(?:-\d\d)?(?:[T ].*)?)?", text)
        if not match:
            if strict:
                raise EssayFormatError(
                    f"Year must be a four-digit year like 1995, not {text!r}: change the "
                    "`year` line of the front matter."
                )
            return None
        year = int(match.group(1))
    if not YEAR_MIN <= year <= YEAR_MAX:
        if strict:
            raise EssayFormatError(
                f"Year must be between {YEAR_MIN} and {YEAR_MAX}, not {year}: change the "
                "`year` line of the front matter."
            )
        return None
    return year


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        value = [value]
    return tuple(t for t in (plain_value(str(v)) for v in value if v is not None) if t)


def _key(key: Any) -> str:
    return re.sub(r"[\s_-]+", "_", str(key).strip().lower())


def interpret(data: dict[str, Any]) -> FrontMatter:
    """The fields the library knows, from front matter of any kind."""
    fields: dict[str, Any] = {}
    for key, value in data.items():
        name = ALIASES.get(_key(key))
        if name and fields.get(name) in (None, "", [], ()):
            fields[name] = value
    title = fields.get("title")
    film = fields.get("film")
    return FrontMatter(
        title=plain_value(str(title)) or None if title not in (None, "") else None,
        film=plain_value(str(film)) or None if film not in (None, "") else None,
        year=_year(fields.get("year"), strict=True),
        director=_names(fields.get("director")),
        author=_names(fields.get("author")),
        tags=_tags(fields.get("tags")),
        date_year=_year(fields.get("date"), strict=False),
        blank_title="title" in fields and not clean(str(title or "")),
    )


def _meta_lines(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """`Key: value` lines (Python-Markdown's meta extension) and the lines after them."""
    md = Markdown(extensions=["meta"])
    rest = md.preprocessors["meta"].run(lines)
    meta = {key: " ".join(v for v in values if v).strip() for key, values in md.Meta.items()}
    return meta, rest


def _yaml(raw: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        # `Title: Sera: Elisabeth Shue…` is fine as a `Key: value` line but not as YAML.
        meta, rest = _meta_lines(raw.split("\n"))
        if meta and not any(line.strip() for line in rest):
            return meta
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2} of the file)" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "it cannot be read"
        raise EssayFormatError(
            f"The front matter between the `---` lines is not valid YAML{where}: {problem}. "
            'Put quotes around a value that holds a colon, like `title: "Heat: a study"`.'
        ) from None
    if data is not None and not isinstance(data, dict):
        raise EssayFormatError(
            "The front matter between the `---` lines is not valid YAML for an essay: write it "
            "as `key: value` lines, like `title: Heat`."
        )
    return data or {}


def _toml(raw: str) -> dict[str, Any]:
    try:
        return tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise EssayFormatError(
            f"The front matter between the `+++` lines is not valid TOML: {exc}. Write each "
            'value as `key = "value"`.'
        ) from None


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(front matter as a dict, the body after it) for any of the three forms. A `---` or `+++`
    first line with no closing line is not front matter (it is a thematic break)."""
    lines = normalize_text(text).split("\n")
    opener = lines[0].rstrip() if lines else ""
    if opener in ("---", "+++"):
        closers = ("---", "...") if opener == "---" else ("+++",)
        for i in range(1, len(lines)):
            if lines[i].rstrip() in closers:
                raw = "\n".join(lines[1:i])
                data = _yaml(raw) if opener == "---" else _toml(raw)
                return data, "\n".join(lines[i + 1 :])
    meta, rest = _meta_lines(lines)
    return meta, "\n".join(rest)


def read_front_matter(text: str) -> tuple[FrontMatter, str]:
    data, body = split_front_matter(text)
    return interpret(data), body
