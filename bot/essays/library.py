"""The essay library: essays and sections in SQLite, an in-memory catalog for names and
autocomplete, the startup sync of `essays/`, uploads, search and excerpts."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import random
import re
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import fulltext
from bot.db import Database, Tx, rows_as_dicts
from bot.errors import EssayFormatError, NotFound, UserError
from bot.essays.parse import Essay, file_stem, parse_essay, title_from_filename
from bot.text import (
    SPOILER,
    closest,
    comparable,
    film_line,
    fold,
    highlight,
    is_prose,
    literal,
    paragraphs,
    readable,
    search_words,
    sentences,
    shown,
    truncate,
)

if TYPE_CHECKING:
    from bot.members import Forgotten

log = logging.getLogger(__name__)

MAX_ESSAY_BYTES = 512 * 1024
EXCERPT_LIMIT = 600
SEARCH_HITS = 5
RANK_WINDOW = 50  # best matches ranked by FTS5 before the server's visibility is applied


@dataclass(frozen=True)
class SectionInfo:
    id: int
    slug: str
    heading: str
    position: int


@dataclass(frozen=True)
class EssayInfo:
    id: int
    key: str
    guild_id: int | None
    title: str
    film: str
    year: int | None
    director: str | None
    author: str | None
    source: str
    sections: tuple[SectionInfo, ...]
    haystack: str = field(compare=False, repr=False, default="")
    folded_title: str = field(compare=False, repr=False, default="")  # as `fold` gives it

    @property
    def film_line(self) -> str:
        return film_line(self.film, self.year)

    def section_index(self, section_id: int) -> int | None:
        for i, section in enumerate(self.sections):
            if section.id == section_id:
                return i
        return None


@dataclass(frozen=True)
class SectionText:
    essay: EssayInfo
    section: SectionInfo
    index: int
    body: str


@dataclass(frozen=True)
class SearchHit:
    essay: EssayInfo
    section: SectionInfo
    snippet: str


@dataclass(frozen=True)
class Passage:
    essay: EssayInfo
    section: SectionInfo
    text: str


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    hidden: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode_essay_bytes(data: bytes, name: str) -> str:
    """UTF-8 (with or without a BOM) text, or a UserError saying what is wrong with the file."""
    name = shown(name)
    if len(data) > MAX_ESSAY_BYTES:
        raise EssayFormatError(f"{name} is {len(data) // 1024} KB; essays can be at most 512 KB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EssayFormatError(
            f"{name} is not UTF-8 text. Save it as UTF-8 (plain text or Markdown) and try again."
        ) from None
    if "\x00" in text:
        raise EssayFormatError(f"{name} looks like a binary file, not a text essay.")
    return text


def pick_passage(body: str, rng: random.Random, limit: int = EXCERPT_LIMIT) -> str | None:
    """One or two consecutive paragraphs of prose under `limit` characters, or, where every
    paragraph is longer, the opening sentences of one: cut inside a sentence (at a word, with an
    ellipsis) only when its first sentence alone is too long. None for a section without prose
    (only headings, lists, tables, links or notes)."""
    paras = paragraphs(body)
    prose = [p for p in paras if is_prose(p)]
    if not prose:
        return None
    candidates = [p for p in prose if len(p) <= limit]
    candidates += [
        f"{a}\n\n{b}"
        for a, b in itertools.pairwise(paras)
        if is_prose(a) and is_prose(b) and len(a) + len(b) + 2 <= limit
    ]
    if candidates:
        return rng.choice(candidates)
    paragraph = rng.choice(prose)
    chosen = ""
    for sentence in sentences(paragraph):
        if chosen and len(chosen) + 1 + len(sentence) > limit:
            break
        chosen = f"{chosen} {sentence}" if chosen else sentence
    return truncate(chosen, limit) if len(chosen) > limit else chosen


def opening_words(head: str) -> str:
    """The start of a section as words to preview: its first paragraph of prose (or its first
    text), links as their labels, spoilers hidden, no marks."""
    paras = paragraphs(head)[:-1] or paragraphs(head)  # the last may be cut mid-way
    chosen = next((p for p in paras if is_prose(p)), None)
    if chosen is None:
        chosen = next((p for p in paras if not p.startswith(("#", "**Notes**"))), "")
    chosen = SPOILER.sub("▒▒▒", chosen)
    chosen = chosen.split("||")[0]  # a spoiler cut by the 600-character read
    chosen = re.sub(r"^(> |[-+*] |\d+[.)] )", "", chosen, flags=re.M)
    return readable(chosen)


def essay_files(essays_dir: Path) -> list[Path]:
    """The `*.md` files of `essays_dir`, by name (none where the folder is missing)."""
    return sorted(essays_dir.glob("*.md")) if essays_dir.is_dir() else []


# A file read: (file name, content hash, outcome), the outcome None for a file whose hash is
# unchanged, the parsed Essay, or the reason it cannot be read.
Scanned = tuple[str, str, Essay | str | None]


def scan_files(paths: list[Path], unchanged_hashes: dict[str, str]) -> list[Scanned]:
    """Each of `paths` read (unchanged: its hash is in `unchanged_hashes`)."""
    results: list[Scanned] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            results.append((path.name, "", f"cannot be read: {exc.strerror}"))
            continue
        digest = content_hash(data)
        if unchanged_hashes.get(path.name) == digest:
            results.append((path.name, digest, None))
            continue
        try:
            text = decode_essay_bytes(data, path.name)
            essay = parse_essay(text, fallback_title=title_from_filename(path.name))
            results.append((path.name, digest, essay))
        except UserError as exc:
            results.append((path.name, digest, exc.message))
    return results


def scan_directory(essays_dir: Path, unchanged_hashes: dict[str, str]) -> list[Scanned]:
    """`scan_files` for every `*.md` in `essays_dir`."""
    return scan_files(essay_files(essays_dir), unchanged_hashes)


async def scanned_lots(
    paths: list[Path], unchanged_hashes: dict[str, str]
) -> AsyncGenerator[list[Scanned], None]:
    """`scan_files` of FILES_A_LOT paths at a time, the next lot read while the caller handles
    the one it was given, on a thread of its own that ends with the last lot."""
    lots = [paths[i : i + FILES_A_LOT] for i in range(0, len(paths), FILES_A_LOT)]
    loop = asyncio.get_running_loop()
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="essay-files")

    def read(lot: list[Path]) -> asyncio.Future[list[Scanned]]:
        return loop.run_in_executor(reader, scan_files, lot, unchanged_hashes)

    waiting = iter(lots)
    first = next(waiting, None)
    ahead = None if first is None else read(first)
    try:
        while ahead is not None:
            scanned = await ahead
            following = next(waiting, None)
            ahead = None if following is None else read(following)
            yield scanned
    finally:
        if ahead is not None:
            ahead.cancel()
        reader.shutdown(wait=False, cancel_futures=True)


INSERT_ESSAY = (
    "INSERT INTO essays (title, film, year, director, author, content_hash, updated_at, key, "
    "guild_id, source, source_path, added_by, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SECTIONS_A_STATEMENT = 500  # 2,500 values: within both backends' limits on a statement's values
# Essay files are read this many at a time, the new ones of each lot stored in a transaction of
# their own while the next lot is read, and at most STORES_AT_ONCE lots stored at once
# (PostgreSQL words each on a core of its own): see `Library.sync_directory`.
FILES_A_LOT = 50
STORES_AT_ONCE = 2


def _described(essay: Essay, digest: str, now: int) -> tuple[Any, ...]:
    """The essay's own columns, as INSERT_ESSAY and `_upsert`'s update begin with them."""
    return (essay.title, essay.film, essay.year, essay.director, essay.author, digest, now)


async def _insert_sections(tx: Tx, rows: list[tuple[int, str, int, str, str]]) -> None:
    """New sections, (essay, slug, position, heading, body) each, SECTIONS_A_STATEMENT to a
    statement: a start with 1,000 new essays writes their sections in 18 statements, and
    PostgreSQL words each statement's sections at once (its migration 0024)."""
    for start in range(0, len(rows), SECTIONS_A_STATEMENT):
        chunk = rows[start : start + SECTIONS_A_STATEMENT]
        await tx.execute(
            "INSERT INTO sections (essay_id, slug, position, heading, body) VALUES "
            + ", ".join("(?, ?, ?, ?, ?)" for _ in chunk),
            [value for row in chunk for value in row],
        )


async def _upsert(
    tx: Tx,
    essay: Essay,
    *,
    key: str,
    guild_id: int | None,
    source: str,
    source_path: str | None,
    digest: str,
    added_by: int | None,
    now: int,
) -> int:
    """Insert or update one essay inside the caller's transaction. Sections are matched by slug,
    so a kept heading keeps its row id; sections gone from the text are hidden, not deleted."""
    values = _described(essay, digest, now)
    row = await tx.fetchone("SELECT id FROM essays WHERE key = ?", (key,))
    existing: dict[str, int] = {}
    essay_id: int
    if row is None:
        essay_id = await tx.fetchval(
            f"{INSERT_ESSAY} RETURNING id",
            (*values, key, guild_id, source, source_path, added_by, now),
        )
    else:
        essay_id = row[0]
        await tx.execute(
            "UPDATE essays SET title = ?, film = ?, year = ?, director = ?, author = ?, "
            "content_hash = ?, updated_at = ?, hidden = 0 WHERE id = ?",
            (*values, essay_id),
        )
        existing = {
            r[0]: r[1]
            for r in await tx.fetchall(
                "SELECT slug, id FROM sections WHERE essay_id = ?", (essay_id,)
            )
        }
    updates, inserts = [], []
    for position, section in enumerate(essay.sections, 1):
        if section.slug in existing:
            updates.append((position, section.heading, section.body, existing[section.slug]))
        else:
            inserts.append((essay_id, section.slug, position, section.heading, section.body))
    if updates:
        await tx.executemany(
            "UPDATE sections SET position = ?, heading = ?, body = ?, hidden = 0 WHERE id = ?",
            updates,
        )
    await _insert_sections(tx, inserts)
    kept = {s.slug for s in essay.sections}
    gone = [(section_id,) for slug, section_id in existing.items() if slug not in kept]
    if gone:
        await tx.executemany("UPDATE sections SET hidden = 1 WHERE id = ?", gone)
    return essay_id


async def _insert_files(tx: Tx, files: list[tuple[str, Essay, str]], now: int) -> None:
    """Essay files new to the library, (file name, essay, content hash) each, in a few statements
    however many: one essay at a time (`_upsert`) took three round trips an essay, 4.8 s of a
    PostgreSQL start with 1,000 new essays."""
    await tx.executemany(
        INSERT_ESSAY,
        [
            (*_described(e, digest, now), Path(name).stem, None, "file", name, None, now)
            for name, e, digest in files
        ],
    )
    names = [name for name, _, _ in files]
    ids = {
        row[0]: row[1]
        for row in await tx.fetchall(
            "SELECT source_path, id FROM essays WHERE source = 'file' AND source_path IN "
            f"({', '.join('?' for _ in names)})",
            names,
        )
    }
    await _insert_sections(
        tx,
        [
            (ids[name], section.slug, position, section.heading, section.body)
            for name, essay, _ in files
            for position, section in enumerate(essay.sections, 1)
        ],
    )


def _did_you_mean(query: str, names: list[str]) -> str:
    suggestions = closest(query, names)
    return (
        f" Did you mean {', '.join(f'**{literal(s)}**' for s in suggestions)}?"
        if suggestions
        else ""
    )


class Library:
    """Essays for every server: the catalog lives in memory, section text in the database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.essays: dict[int, EssayInfo] = {}
        self.guild_hidden: set[tuple[int, int]] = set()
        self._visible: dict[int | None, list[EssayInfo]] = {}
        # Every essay by its key and its title as typed (folded), in the servers' order (by
        # title): a name is looked up, not matched against every essay's folded names, which
        # cost `/essay read`, `/essay excerpt` and `/stats essay` some 4 ms at 1,000 essays.
        self._by_name: dict[str, list[EssayInfo]] = {}
        self._section_essay: dict[int, int] = {}

    # --- catalog ---------------------------------------------------------------------

    async def reload(self) -> None:
        essay_rows = await self.db.fetchall(
            "SELECT id, key, guild_id, title, film, year, director, author, source FROM essays "
            "WHERE hidden = 0"
        )
        section_rows = await self.db.fetchall(
            "SELECT s.id, s.essay_id, s.slug, s.heading, s.position FROM sections s "
            "JOIN essays e ON e.id = s.essay_id WHERE e.hidden = 0 AND s.hidden = 0 "
            "ORDER BY s.essay_id, s.position"
        )
        hidden_rows = await self.db.fetchall("SELECT guild_id, essay_id FROM guild_hidden_essays")
        by_essay: dict[int, list[SectionInfo]] = {}
        for row in section_rows:
            by_essay.setdefault(row["essay_id"], []).append(
                SectionInfo(row["id"], row["slug"], row["heading"], row["position"])
            )
        essays = {}
        for row in essay_rows:
            described = (row["title"], row["film"], row["year"], row["director"])
            essays[row["id"]] = EssayInfo(
                id=row["id"],
                key=row["key"],
                guild_id=row["guild_id"],
                title=row["title"],
                film=row["film"],
                year=row["year"],
                director=row["director"],
                author=row["author"],
                source=row["source"],
                sections=tuple(by_essay.get(row["id"], ())),
                haystack=fold(" ".join(str(v) for v in described if v)),
                folded_title=fold(row["title"]),
            )
        by_name: dict[str, list[EssayInfo]] = {}
        for essay in sorted(essays.values(), key=lambda e: (e.folded_title, e.id)):
            for name in dict.fromkeys((fold(essay.key), essay.folded_title)):
                by_name.setdefault(name, []).append(essay)
        self.essays = essays
        self._by_name = by_name
        self._section_essay = {s.id: e.id for e in essays.values() for s in e.sections}
        self.guild_hidden = {(row["guild_id"], row["essay_id"]) for row in hidden_rows}
        self._visible = {}

    def is_visible(self, essay: EssayInfo, guild_id: int | None) -> bool:
        if essay.guild_id is not None and essay.guild_id != guild_id:
            return False
        return (guild_id, essay.id) not in self.guild_hidden and bool(essay.sections)

    def visible(self, guild_id: int | None) -> list[EssayInfo]:
        """A server's essays by title; computed once per server until the catalog changes."""
        cached = self._visible.get(guild_id)
        if cached is None:
            shown = [e for e in self.essays.values() if self.is_visible(e, guild_id)]
            cached = self._visible[guild_id] = sorted(shown, key=lambda e: (e.folded_title, e.id))
        return cached

    def get(self, essay_id: int, guild_id: int | None) -> EssayInfo:
        essay = self.essays.get(essay_id)
        if essay is None or not self.is_visible(essay, guild_id):
            raise NotFound("That essay is no longer in this server's library.")
        return essay

    def resolve_essay(self, guild_id: int | None, name: str) -> EssayInfo:
        """The essay whose key or title is `name` (case aside), else NotFound with suggestions."""
        for essay in self._by_name.get(fold(name), ()):
            if self.is_visible(essay, guild_id):
                return essay
        essays = self.visible(guild_id)
        hint = _did_you_mean(name, [e.title for e in essays])
        raise NotFound(f"No essay called “{shown(name)}”.{hint} `/essay list` shows them all.")

    def resolve_section(self, essay: EssayInfo, name: str) -> SectionInfo:
        """The section whose slug, heading or number is `name`, else NotFound with suggestions."""
        wanted = fold(name)
        if wanted.isdigit() and 1 <= int(wanted) <= len(essay.sections):
            return essay.sections[int(wanted) - 1]
        for section in essay.sections:
            if wanted in (fold(section.slug), fold(section.heading)):
                return section
        hint = _did_you_mean(name, [s.heading for s in essay.sections])
        raise NotFound(f"“{literal(essay.title)}” has no section called “{shown(name)}”.{hint}")

    def match_essays(self, guild_id: int | None, typed: str, limit: int = 25) -> list[EssayInfo]:
        """Autocomplete: essays whose title, film, year or director loosely match `typed`."""
        essays = self.visible(guild_id)
        query = fold(typed)
        if not query:
            return essays[:limit]
        words = query.split()
        ranked = []
        for essay in essays:
            title = essay.folded_title
            if title.startswith(query):
                rank = 0
            elif query in essay.haystack:
                rank = 1
            elif all(word in essay.haystack for word in words):
                rank = 2
            else:
                continue
            ranked.append((rank, title, essay))
        if not ranked:
            names = closest(typed, [e.title for e in essays], limit)
            return [e for name in names for e in essays if e.title == name][:limit]
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [essay for _, _, essay in ranked[:limit]]

    @staticmethod
    def match_sections(essay: EssayInfo, typed: str, limit: int = 25) -> list[SectionInfo]:
        query = fold(typed)
        if not query:
            return list(essay.sections[:limit])
        words = query.split()
        hits = [
            s
            for s in essay.sections
            if all(w in fold(s.heading) for w in words) or query == str(s.position)
        ]
        if not hits:
            names = closest(typed, [s.heading for s in essay.sections], limit)
            hits = [s for name in names for s in essay.sections if s.heading == name]
        return hits[:limit]

    # --- reading ---------------------------------------------------------------------

    async def section_text(self, essay: EssayInfo, section_id: int) -> SectionText:
        index = essay.section_index(section_id)
        if index is None:
            raise NotFound(f"That section is no longer part of “{literal(essay.title)}”.")
        body = await self.db.fetchval("SELECT body FROM sections WHERE id = ?", (section_id,))
        return SectionText(essay, essay.sections[index], index, body or "")

    async def find_passage(
        self, essay: EssayInfo, text: str, section: SectionInfo | None = None
    ) -> SectionInfo | None:
        """The section (of `essay`, or just `section`) whose text holds `text`, spacing, quote
        marks and Markdown aside; one read of the essay's sections."""
        wanted = comparable(text)
        if not wanted:
            return None
        candidates = [section] if section is not None else list(essay.sections)
        marks = ", ".join("?" for _ in candidates)
        rows = await self.db.fetchall(
            f"SELECT id, body FROM sections WHERE id IN ({marks})", [s.id for s in candidates]
        )
        bodies = {row["id"]: row["body"] for row in rows}
        return next((s for s in candidates if wanted in comparable(bodies.get(s.id, ""))), None)

    async def section_openings(self, essay: EssayInfo) -> dict[int, str]:
        """The first few hundred characters of each section, for contents previews."""
        rows = await self.db.fetchall(
            "SELECT id, substr(body, 1, 600) AS head FROM sections "
            "WHERE essay_id = ? AND hidden = 0",
            (essay.id,),
        )
        return {row["id"]: opening_words(row["head"]) for row in rows}

    async def search(
        self, guild_id: int | None, query: str, limit: int = SEARCH_HITS
    ) -> list[SearchHit]:
        search = fulltext.for_backend(self.db.backend)
        match = search.query(query)
        if match is None:
            return []
        ranked = await self.db.fetchall(search.essays_ranked, (*match, RANK_WINDOW))
        located = [self._locate(row[0], guild_id) for row in ranked]
        shown = [hit for hit in located if hit is not None][:limit]
        if len(shown) < limit and len(ranked) == RANK_WINDOW:
            shown = await self._search_all(match, guild_id, limit)
        if not shown:
            return []
        marks = ", ".join("?" for _ in shown)
        bodies: dict[int, str] = {
            row[0]: row[1]
            for row in await self.db.fetchall(
                f"SELECT id, body FROM sections WHERE id IN ({marks})", [sec.id for _, sec in shown]
            )
        }
        words = search_words(query)
        return [
            SearchHit(essay, section, highlight(bodies.get(section.id, ""), words))
            for essay, section in shown
        ]

    def _locate(
        self, section_id: int, guild_id: int | None
    ) -> tuple[EssayInfo, SectionInfo] | None:
        """The visible essay and section a search hit belongs to, if the server can see it."""
        essay_id = self._section_essay.get(section_id)
        essay = self.essays.get(essay_id) if essay_id is not None else None
        if essay is None or not self.is_visible(essay, guild_id):
            return None
        index = essay.section_index(section_id)
        return None if index is None else (essay, essay.sections[index])

    async def _search_all(
        self, match: tuple[str], guild_id: int | None, limit: int
    ) -> list[tuple[EssayInfo, SectionInfo]]:
        """Ranking over every match, for a server whose hits are not among the best overall."""
        rows = await self.db.fetchall(
            fulltext.for_backend(self.db.backend).essays_ranked_for_guild,
            (*match, guild_id, guild_id, limit),
        )
        located = [self._locate(row[0], guild_id) for row in rows]
        return [hit for hit in located if hit is not None]

    async def random_passage(
        self, guild_id: int | None, essay: EssayInfo | None = None, rng: random.Random | None = None
    ) -> Passage:
        rng = rng or random.Random()
        pool = [essay] if essay is not None else self.visible(guild_id)
        if not pool:
            raise UserError("There are no essays in this server's library yet.")
        chosen = rng.choice(pool)
        sections = list(chosen.sections)
        rng.shuffle(sections)
        for section in sections:
            text = await self.section_text(chosen, section.id)
            passage = pick_passage(text.body, rng)
            if passage is not None:
                return Passage(chosen, section, passage)
        # An essay of lists and tables alone: its first section's opening.
        text = await self.section_text(chosen, chosen.sections[0].id)
        return Passage(chosen, chosen.sections[0], truncate(text.body, EXCERPT_LIMIT))

    # --- members' data (see bot/members.py) -------------------------------------------

    MEMBER_TABLES = frozenset({"essays", "guild_hidden_essays"})

    async def forget_member(self, tx: Tx, user_id: int, forgotten: Forgotten) -> None:
        """Essays stay (they belong to the server); who uploaded or hid one is forgotten."""
        await tx.execute("UPDATE essays SET added_by = NULL WHERE added_by = ?", (user_id,))
        await tx.execute(
            "UPDATE guild_hidden_essays SET hidden_by = NULL WHERE hidden_by = ?", (user_id,)
        )

    async def export_member(self, user_id: int) -> dict[str, Any]:
        rows = await self.db.fetchall(
            "SELECT guild_id, key, title, created_at FROM essays WHERE added_by = ?", (user_id,)
        )
        return {"essays_added": rows_as_dicts(rows)}

    async def export_guild(self, guild_id: int) -> dict[str, Any]:
        rows = await self.db.fetchall(
            "SELECT e.key, e.title, e.film, e.year, e.director, e.author, s.position, "
            "s.heading, s.body FROM essays e JOIN sections s ON s.essay_id = e.id "
            "WHERE e.guild_id = ? AND e.hidden = 0 AND s.hidden = 0 ORDER BY e.id, s.position",
            (guild_id,),
        )
        return {"essays": rows_as_dicts(rows)}

    # --- writing ---------------------------------------------------------------------

    async def sync_directory(self, essays_dir: Path, now: int) -> SyncReport:
        """Bring file-backed essays in line with `essays_dir`: unchanged files (same content hash)
        are skipped, edited ones updated in place, removed ones hidden. A file that does not parse
        is reported and its previous version, if any, stays as it was.

        Files are read FILES_A_LOT at a time on a thread of the sync's own, and the new essays
        of each lot stored with their sections in a transaction of their own while the next lot
        is read; two lots are stored at once on PostgreSQL (on SQLite the second waits for the
        first to commit). Parsing 1,000 essays and then storing them took a PostgreSQL start
        4.5-5 s: 1 s parsing, 3 s the server wording the sections. A start cut short keeps
        whole essays, which the next start finds unchanged: a lot that fails lets the one
        stored beside it finish. Edited and removed files are applied together once every file
        is read."""
        report = SyncReport()
        if not await asyncio.to_thread(essays_dir.is_dir):
            # A folder that is gone (a wrong ESSAYS_DIR, an unmounted disk) hides nothing: only
            # files removed from a folder that is there hide their essays.
            log.warning(
                "The essays folder %s does not exist: the bundled essays stay as they were. "
                "Check ESSAYS_DIR.",
                essays_dir,
            )
            return report
        rows = await self.db.fetchall(
            "SELECT id, key, source, source_path, content_hash, hidden FROM essays"
        )
        known = {row["source_path"]: row for row in rows if row["source"] == "file"}
        keys = {row["key"] for row in rows}
        current = {name: row["content_hash"] for name, row in known.items() if not row["hidden"]}
        paths = await asyncio.to_thread(essay_files, essays_dir)
        edited: list[tuple[str, Essay, str]] = []
        present: set[str] = set()
        storing: list[asyncio.Future[None]] = []
        try:
            async with contextlib.aclosing(scanned_lots(paths, current)) as lots:
                async for scanned in lots:
                    new = []
                    for name, digest, outcome in scanned:
                        present.add(name)
                        if outcome is None:
                            report.unchanged += 1
                        elif isinstance(outcome, str):
                            report.errors.append((name, outcome))
                            log.warning("Essay %s was not loaded: %s", name, outcome)
                        elif name in known or Path(name).stem in keys:
                            # Stored under its name or its key (the stem): one at a time below.
                            edited.append((name, outcome, digest))
                        else:
                            new.append((name, outcome, digest))
                            keys.add(Path(name).stem)
                    if new:
                        if len(storing) == STORES_AT_ONCE:
                            await storing.pop(0)
                        storing.append(asyncio.ensure_future(self._store_new(new, now)))
                        report.added.extend(name for name, _, _ in new)
            while storing:
                await storing.pop(0)
        except Exception:
            # A lot that failed (or an error while the files were read: a file that cannot be
            # read is reported, not raised) lets the lot stored beside it finish: whole essays,
            # which the next start finds unchanged. (A sync cancelled meanwhile cancels that
            # lot: so does `gather` when it is cancelled.)
            await asyncio.gather(*storing, return_exceptions=True)
            raise
        except BaseException:
            for stored in storing:
                stored.cancel()
            await asyncio.gather(*storing, return_exceptions=True)
            raise
        gone = [
            (row["id"], name)
            for name, row in known.items()
            if name in current and name not in present
        ]
        if edited or gone:
            async with self.db.transaction() as tx:
                for name, essay, digest in edited:
                    await _upsert(
                        tx,
                        essay,
                        key=Path(name).stem,
                        guild_id=None,
                        source="file",
                        source_path=name,
                        digest=digest,
                        added_by=None,
                        now=now,
                    )
                    (report.updated if name in known else report.added).append(name)
                await tx.executemany(
                    "UPDATE essays SET hidden = 1, updated_at = ? WHERE id = ?",
                    [(now, essay_id) for essay_id, _ in gone],
                )
                report.hidden.extend(name for _, name in gone)
        await self.reload()
        return report

    async def _store_new(self, files: list[tuple[str, Essay, str]], now: int) -> None:
        async with self.db.transaction() as tx:
            await _insert_files(tx, files, now)

    def upload_target(self, guild_id: int, title: str) -> EssayInfo | None:
        """The server's own essay an upload titled `title` would update, if any; refuses a title
        that belongs to the bundled library."""
        wanted = fold(title)
        for essay in self._by_name.get(wanted, ()):
            if essay.folded_title != wanted:  # the index holds keys too
                continue
            if essay.guild_id == guild_id:
                return essay
            if essay.guild_id is None and self.is_visible(essay, guild_id):
                raise UserError(
                    f"“{literal(essay.title)}” is already in the bundled library. Give your essay another "
                    "title (the `title` option or its `Title:` line)."
                )
        return None

    async def publish_upload(
        self, guild_id: int, essay: Essay, *, digest: str, user_id: int, now: int
    ) -> tuple[EssayInfo, bool]:
        """Store an uploaded essay for `guild_id`; the same title (case aside) updates it.
        Returns the stored essay and whether an existing one was updated."""
        target = self.upload_target(guild_id, essay.title)
        if target is not None:
            key = target.key
        else:
            key = await self.db.fetchval(
                "SELECT key FROM essays WHERE guild_id = ? AND lower(title) = lower(?)",
                (guild_id, essay.title),
            ) or await self._free_key(f"g{guild_id}-{file_stem(essay.title)}")
        async with self.db.transaction(guild_id) as tx:
            essay_id = await _upsert(
                tx,
                essay,
                key=key,
                guild_id=guild_id,
                source="upload",
                source_path=None,
                digest=digest,
                added_by=user_id,
                now=now,
            )
        await self.reload()
        return self.essays[essay_id], target is not None

    async def _free_key(self, base: str) -> str:
        key, n = base, 1
        while await self.db.fetchval("SELECT 1 FROM essays WHERE key = ?", (key,)):
            n += 1
            key = f"{base}-{n}"
        return key

    async def hide(self, guild_id: int, essay: EssayInfo, *, user_id: int, now: int) -> None:
        """Remove an essay from a server's library; nothing tied to it is deleted."""
        if essay.guild_id not in (None, guild_id):
            raise NotFound("That essay is no longer in this server's library.")
        async with self.db.transaction(guild_id) as tx:
            if essay.guild_id == guild_id:
                await tx.execute(
                    "UPDATE essays SET hidden = 1, updated_at = ? WHERE id = ? AND guild_id = ?",
                    (now, essay.id, guild_id),
                )
            else:
                await tx.execute(
                    "INSERT INTO guild_hidden_essays "
                    "(guild_id, essay_id, hidden_by, hidden_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (guild_id, essay.id, user_id, now),
                )
        await self.reload()
