"""A Letterboxd export read as an upload: bounded, checked, in memory, never written to disk.

Letterboxd gives a ZIP of CSV files. Read here: `diary.csv` (viewings with their day),
`reviews.csv` (viewings with their text, in HTML), `ratings.csv` and `watched.csv` (films rated
or watched with no day), `watchlist.csv`. Never `profile.csv` (e-mail, names) nor anything else:
`deleted/`, `orphaned/`, `lists/`, `likes/`, `comments.csv` are left unread. Films are matched by
title and year, since the export holds no film ids (a diary row's `Letterboxd URI` names the
viewing, and is what makes an import of the same export add nothing twice).

Pure and synchronous (the bot runs it off the event loop): bytes in, an `Export` out, or a
UserError saying why the file was refused."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePosixPath

from bot.errors import UserError
from bot.essays.markup import Writer, parse_html
from bot.text import fold

MAX_UPLOAD = 10 * 1024 * 1024  # bytes of the file as uploaded
MAX_EXPANDED = 50 * 1024 * 1024  # bytes a ZIP may expand to
MAX_ENTRIES = 1000  # files and folders in a ZIP
MAX_ROWS = 20_000  # rows of one CSV: a ten-year export holds a few thousand
REVIEW_LIMIT = 2000
FIRST_YEAR, LAST_YEAR = 1870, 2100

BASE = ["Date", "Name", "Year", "Letterboxd URI"]
HEADERS = {
    "diary.csv": [*BASE, "Rating", "Rewatch", "Tags", "Watched Date"],
    "reviews.csv": [*BASE, "Rating", "Rewatch", "Review", "Tags", "Watched Date"],
    "ratings.csv": [*BASE, "Rating"],
    "watched.csv": BASE,
    "watchlist.csv": BASE,
}
IGNORED_FOLDERS = {"deleted", "orphaned", "lists", "likes"}
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Viewing:
    title: str
    year: int | None
    watched_on: str | None
    rating: int | None
    rewatch: bool
    tags: str | None
    review: str | None
    source: str

    @property
    def film(self) -> tuple[str, int | None]:
        return fold(self.title), self.year


@dataclass
class Export:
    dated: list[Viewing] = field(default_factory=list)
    undated: list[Viewing] = field(default_factory=list)
    watchlist: list[tuple[str, int | None]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    files: list[str] = field(default_factory=list)
    shortened: int = 0


class Skip(Exception):
    """A row that cannot be read; its message is the reason, counted."""


# --- reviews: Letterboxd's HTML as Discord's Markdown ------------------------------------


def review_markdown(html: str) -> str:
    """A review as Letterboxd exports it in Markdown: its text keeps paragraphs as blank lines
    and line breaks as new lines, with a few tags among them (`<i>`, `<b>`, `<a>`,
    `<blockquote>`, `<br>`), read as the essays' HTML is (bot/essays/markup.py)."""
    writer = Writer()
    for paragraph in re.split(r"\n\s*\n", html.replace("\r\n", "\n")):
        if paragraph.strip():
            writer.block(parse_html("<p>" + paragraph.strip().replace("\n", "<br>") + "</p>"))
    return "\n\n".join(block.text for block in writer.blocks)


# --- one row -----------------------------------------------------------------------------


def _name(row: dict[str, str]) -> str:
    name = " ".join(row["Name"].split())
    if not name:
        raise Skip("no film name")
    if len(name) > 200:
        raise Skip("a film name over 200 characters")
    return name


def _year(row: dict[str, str]) -> int | None:
    text = row["Year"].strip()
    if not text:
        return None
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise Skip("a year that is not a film's year")
    return int(text)


def _rating(row: dict[str, str]) -> int | None:
    text = row["Rating"].strip()
    if not text:
        return None
    try:
        halves = float(text) * 2
    except ValueError:
        raise Skip("a rating that is not ½ to 5 stars") from None
    if halves != int(halves) or not 1 <= halves <= 10:
        raise Skip("a rating that is not ½ to 5 stars")
    return int(halves)


def _day(row: dict[str, str]) -> str:
    text = row["Watched Date"].strip()
    if not text:
        raise Skip("no watched date")
    try:
        if not ISO_DAY.match(text):
            raise ValueError
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise Skip("a watched date that is not a date") from None


def _viewing(kind: str, row: dict[str, str], seen: Counter[str], export: Export) -> Viewing:
    title, year = _name(row), _year(row)
    rating = _rating(row) if "Rating" in row else None
    if kind in ("ratings.csv", "watched.csv"):
        return Viewing(title, year, None, rating, False, None, None, f"film:{fold(title)}|{year}")
    watched_on = _day(row)
    review = None
    if kind == "reviews.csv":
        review = review_markdown(row["Review"]) or None
        if review and len(review) > REVIEW_LIMIT:
            review = review[: REVIEW_LIMIT - 1].rstrip() + "…"
            export.shortened += 1
    uri = row["Letterboxd URI"].strip()
    if not uri:
        key = f"{kind}:{fold(title)}|{year}|{watched_on}"
        seen[key] += 1
        uri = f"{key}|{seen[key]}"
    return Viewing(
        title,
        year,
        watched_on,
        rating,
        row["Rewatch"].strip().casefold() == "yes",
        row["Tags"].strip() or None,
        review,
        uri[:300],
    )


# --- files -------------------------------------------------------------------------------


def _text(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(
            f"{name} is not UTF-8 text, as Letterboxd writes its exports; nothing was imported."
        ) from None


def _rows(name: str, text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        expected = HEADERS[name]
        if header is None or [h.strip() for h in header] != expected:
            raise UserError(
                f"{name} does not have Letterboxd's columns ({', '.join(expected)}); "
                "nothing was imported."
            )
        rows: list[dict[str, str]] = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise UserError(
                    f"{name} holds more than {MAX_ROWS:,} rows, more than any Letterboxd export "
                    "does; nothing was imported."
                )
            rows.append(
                dict(zip(expected, values + [""] * (len(expected) - len(values)), strict=False))
            )
        return rows
    except csv.Error as error:
        raise UserError(
            f"{name} is not a CSV file Letterboxd wrote ({error}); nothing was imported."
        ) from None


def _kind_of_single(name: str, text: str) -> str:
    """Which of Letterboxd's files a CSV uploaded alone is: by its name, else its columns."""
    base = PurePosixPath(name).name.casefold()
    if base in HEADERS:
        return base
    first = [h.strip() for h in next(csv.reader(io.StringIO(text)), [])]
    matches = [kind for kind, header in HEADERS.items() if header == first]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UserError(
            f"{name} could be Letterboxd's watched.csv or its watchlist.csv: upload it under "
            "the name Letterboxd gave it."
        )
    if base == "profile.csv":
        raise UserError("profile.csv holds your account details; it is never read.")
    raise UserError(
        f"{name} is not one of the Letterboxd files read here (diary.csv, reviews.csv, "
        "ratings.csv, watched.csv, watchlist.csv, or the export's ZIP); nothing was imported."
    )


def _from_zip(data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise UserError(
            "That file is not a ZIP archive that can be read; nothing was imported."
        ) from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise UserError(
                f"The ZIP holds more than {MAX_ENTRIES:,} files; a Letterboxd export holds far "
                "fewer. Nothing was imported."
            )
        if sum(info.file_size for info in entries) > MAX_EXPANDED:
            raise UserError(_too_big())
        wanted: dict[str, zipfile.ZipInfo] = {}
        for info in entries:
            path = PurePosixPath(info.filename)
            parts = [p for p in path.parts if p not in ("", ".")]
            if info.is_dir() or not parts or ".." in parts:
                continue
            # Files at the top, or in one folder holding the whole export (unzipped and zipped
            # again); never in the folders of deleted, orphaned, listed or liked films.
            if len(parts) > 2 or (len(parts) == 2 and parts[0].casefold() in IGNORED_FOLDERS):
                continue
            base = parts[-1].casefold()
            if base in HEADERS and base not in wanted:
                wanted[base] = info
        if not wanted:
            raise UserError(
                "The ZIP holds none of Letterboxd's files (diary.csv, reviews.csv, ratings.csv, "
                "watched.csv, watchlist.csv); nothing was imported."
            )
        files, total = {}, 0
        for base, info in wanted.items():
            try:
                with archive.open(info) as member:
                    content = member.read(MAX_EXPANDED - total + 1)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError):
                raise UserError(
                    f"{base} in the ZIP cannot be read; nothing was imported."
                ) from None
            total += len(content)
            if total > MAX_EXPANDED:
                raise UserError(_too_big())
            files[base] = content
        return files


def _too_big() -> str:
    return (
        f"The ZIP expands to more than {MAX_EXPANDED // 1024 // 1024} MB; a Letterboxd export "
        "is a few MB. Nothing was imported."
    )


def read_export(name: str, data: bytes) -> Export:
    """The viewings, undated films and watchlist of an export (its ZIP, or one of its CSVs)."""
    if len(data) > MAX_UPLOAD:
        raise UserError(too_large())
    if data[:4] == b"PK\x03\x04" or name.casefold().endswith(".zip"):
        texts = {base: _text(base, content) for base, content in _from_zip(data).items()}
    else:
        text = _text(name, data)
        texts = {_kind_of_single(name, text): text}
    export = Export(files=sorted(texts))
    rows = {kind: _rows(kind, text) for kind, text in texts.items()}
    seen: Counter[str] = Counter()

    def viewings(kind: str) -> Iterator[Viewing]:
        """The file's rows that read as viewings; the others counted as skipped, with why."""
        for row in rows.get(kind, []):
            try:
                yield _viewing(kind, row, seen, export)
            except Skip as reason:
                export.skipped[str(reason)] += 1

    by_uri: dict[str, Viewing] = {}
    for viewing in viewings("diary.csv"):
        export.dated.append(viewing)
        by_uri[viewing.source] = viewing
    for viewing in viewings("reviews.csv"):
        same = by_uri.get(viewing.source) or next(
            (
                v
                for v in export.dated
                if v.review is None
                and v.film == viewing.film
                and v.watched_on == viewing.watched_on
            ),
            None,
        )
        if same is not None:
            same.review = viewing.review
            same.rating = same.rating or viewing.rating
        else:
            export.dated.append(viewing)
    dated_films = {v.film for v in export.dated}
    undated: dict[tuple[str, int | None], Viewing] = {}
    for kind in ("ratings.csv", "watched.csv"):
        for viewing in viewings(kind):
            if viewing.film not in dated_films:
                undated.setdefault(viewing.film, viewing)
    export.undated = list(undated.values())
    for row in rows.get("watchlist.csv", []):
        try:
            export.watchlist.append((_name(row), _year(row)))
        except Skip as reason:
            export.skipped[str(reason)] += 1
    return export


def too_large() -> str:
    return (
        f"That file is over {MAX_UPLOAD // 1024 // 1024} MB; a Letterboxd export is a few MB. "
        "Nothing was imported."
    )
