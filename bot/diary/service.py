"""Members' film life as data: films known by title and year, viewings (diary entries, a week's
rating among them), watchlists, privacy. Ids and values in, rows out; nothing here talks to
Discord. Every method takes the server's id: a diary is a member's in one server."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.db import Database, Row, Rows, Tx, rows_as_dicts
from bot.diary.latest import viewings_in_bulk
from bot.diary.letterboxd import Export
from bot.errors import UserError
from bot.members import Forgotten
from bot.text import NamesAFilm, film_line, fold, literal

PAGE_SIZE = 10
REVIEW_LIMIT = 2000
FIRST_DAY = date(1870, 1, 1)
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Film(NamesAFilm):
    id: int
    title: str
    year: int | None


@dataclass(frozen=True)
class Entry(NamesAFilm):
    """A diary entry as its reader sees it."""

    id: int
    user_id: int
    number: int
    title: str
    year: int | None
    watched_on: str | None
    rating: int | None
    rewatch: bool
    review: str | None
    spoilers: bool
    tags: str | None
    week_id: int | None
    week_running: bool
    imported: bool = False


ENTRY_COLUMNS = (
    "v.id, v.user_id, v.number, f.title, f.year, v.watched_on, v.rating, v.rewatch, v.review, "
    "v.spoilers, v.tags, v.week_id, "
    "CASE WHEN w.id IS NOT NULL AND w.ended_at IS NULL THEN 1 ELSE 0 END AS week_running, "
    "CASE WHEN v.source IS NULL THEN 0 ELSE 1 END AS imported"
)
ENTRY_FROM = (
    "FROM viewings v JOIN films f ON f.id = v.film_id LEFT JOIN weeks w ON w.id = v.week_id"
)
# Entries others may see: a week's rating only once its week has ended.
VISIBLE = "(v.week_id IS NULL OR w.ended_at IS NOT NULL)"
NEWEST_FIRST = "ORDER BY v.watched_on IS NULL, v.watched_on DESC, v.number DESC"


def _entry(row: Row) -> Entry:
    return Entry(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        bool(row[7]),
        row[8],
        bool(row[9]),
        row[10],
        row[11],
        bool(row[12]),
        bool(row[13]),
    )


# --- days --------------------------------------------------------------------------------


def local_day(now: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(now, tz).date()


def parse_day(text: str | None, today: date) -> date:
    """`today`, `yesterday` or `2026-11-28` (in the server's zone, whose today is given); never
    in the future."""
    value = (text or "today").strip().casefold()
    if value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    try:
        if not ISO_DAY.match(value):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise UserError(
            f"“{literal(text or '')[:40]}” is not a day: give `today`, `yesterday` or a date "
            "such as `2026-11-28`."
        ) from None
    if day > today:
        raise UserError(
            f"{day.isoformat()} is still to come (today is {today.isoformat()} here): a diary "
            "holds what you watched."
        )
    if day < FIRST_DAY:
        raise UserError(f"{day.isoformat()} is before films were shown; check the year.")
    return day


# --- films -------------------------------------------------------------------------------


async def film_ids_in(
    tx: Tx, films: Iterable[tuple[str, int | None]]
) -> dict[tuple[str, int | None], int]:
    """The id of each film (title, year), made where new: keyed by (folded title, year)."""
    wanted: dict[tuple[str, int | None], str] = {}
    for title, year in films:
        wanted.setdefault((fold(title), year), title)
    if not wanted:
        return {}
    await tx.executemany(
        "INSERT INTO films (title, title_key, year) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [(title, key, year) for (key, year), title in wanted.items()],
    )
    found: dict[tuple[str, int | None], int] = {}
    keys = sorted({key for key, _ in wanted})
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in await tx.fetchall(
            f"SELECT id, title_key, year FROM films WHERE title_key IN ({marks})", chunk
        ):
            found[(row[1], row[2])] = row[0]
    return {pair: found[pair] for pair in wanted}


async def film_id_in(tx: Tx, title: str, year: int | None) -> int:
    return (await film_ids_in(tx, [(title, year)]))[(fold(title), year)]


async def next_number(tx: Rows, guild_id: int, user_id: int) -> int:
    return int(
        await tx.fetchval(
            "SELECT coalesce(max(number), 0) + 1 FROM viewings WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
    )


async def record_week_rating(
    tx: Tx, week: Any, user_id: int, halves: int, take: str | None, now: int, tz: ZoneInfo
) -> None:
    """A member's rating of the week (replacing theirs) is their diary entry of its film on
    that day: one record. Its take is the entry's review, hidden as a spoiler."""
    film_id = await film_id_in(tx, week.title, week.year)
    await tx.execute(
        "INSERT INTO viewings (guild_id, user_id, number, film_id, watched_on, rating, review, "
        "spoilers, week_id, logged_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?) "
        "ON CONFLICT (week_id, user_id) WHERE week_id IS NOT NULL DO UPDATE SET "
        "rating = excluded.rating, review = excluded.review, watched_on = excluded.watched_on, "
        "logged_at = excluded.logged_at",
        (
            week.guild_id,
            user_id,
            await next_number(tx, week.guild_id, user_id),
            film_id,
            local_day(now, tz).isoformat(),
            halves,
            take,
            week.id,
            now,
        ),
    )


async def film_of_week_changed(tx: Tx, week_id: int) -> None:
    """The week's film was edited: its ratings are viewings of the film it now is."""
    row = await tx.fetchone("SELECT title, year FROM weeks WHERE id = ?", (week_id,))
    if row is not None:
        film_id = await film_id_in(tx, row[0], row[1])
        await tx.execute("UPDATE viewings SET film_id = ? WHERE week_id = ?", (film_id, week_id))


# --- the service -------------------------------------------------------------------------


@dataclass(frozen=True)
class WatchlistLine:
    film: Film
    added_at: int


@dataclass(frozen=True)
class Wanted:
    """A film of the club's watchlists: the first members to want it (up to NAMED_WANTING of
    those who show their lists) and how many want it in all."""

    film: Film
    members: list[int]
    count: int


@dataclass
class ImportReport:
    """What an import added, what was there already, and what it skipped and why."""

    entries: int = 0
    undated: int = 0
    watchlist: int = 0
    reviews: int = 0  # reviews added to entries an earlier import made
    already: int = 0
    shortened: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


WANTED_KEPT = 25  # films `/film start` suggests from the watchlists
NAMED_WANTING = 8  # members `/watchlist club` names for each film


async def private_members(db: Database, guild_id: int) -> set[int]:
    """The members of a server who keep their diary private."""
    rows = await db.fetchall("SELECT user_id FROM diary_privacy WHERE guild_id = ?", (guild_id,))
    return {int(row[0]) for row in rows}


async def keeps_private(db: Database, guild_id: int, user_id: int) -> bool:
    """Whether the member keeps their diary private in the server (`/diary privacy`)."""
    return bool(
        await db.fetchval(
            "SELECT 1 FROM diary_privacy WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )
    )


class Diary:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def key_films(self) -> int:
        """Films made by the migration from older weeks get their folded key; two that fold to
        the same film become one. How many were keyed."""
        rows = await self.db.fetchall("SELECT id, title, year FROM films WHERE title_key IS NULL")
        if not rows:
            return 0
        async with self.db.transaction() as tx:
            for film_id, title, year in rows:
                same = await tx.fetchval(
                    "SELECT id FROM films WHERE title_key = ? AND coalesce(year, 0) = ?",
                    (fold(title), year or 0),
                )
                if same is None:
                    await tx.execute(
                        "UPDATE films SET title_key = ? WHERE id = ?", (fold(title), film_id)
                    )
                    continue
                await tx.execute(
                    "UPDATE viewings SET film_id = ? WHERE film_id = ?", (same, film_id)
                )
                await tx.execute(
                    "DELETE FROM watchlist WHERE film_id = ? AND EXISTS (SELECT 1 FROM watchlist "
                    "o WHERE o.guild_id = watchlist.guild_id AND o.user_id = watchlist.user_id "
                    "AND o.film_id = ?)",
                    (film_id, same),
                )
                await tx.execute(
                    "UPDATE watchlist SET film_id = ? WHERE film_id = ?", (same, film_id)
                )
                await tx.execute("DELETE FROM films WHERE id = ?", (film_id,))
        return len(rows)

    # --- films the server knows -------------------------------------------------------

    async def known_films(self, guild_id: int, typed: str, limit: int = 25) -> list[Film]:
        """Films of the server's weeks, nominations, diaries and watchlists whose title holds
        what was typed: for autocomplete, best (starting with it) first."""
        key = fold(typed)
        pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await self.db.fetchall(
            "SELECT 0, title, year FROM weeks WHERE guild_id = ? "
            "UNION SELECT 0, title, year FROM nominations WHERE guild_id = ? "
            "UNION SELECT f.id, f.title, f.year FROM films f WHERE f.title_key LIKE ? ESCAPE '\\' "
            "AND (EXISTS (SELECT 1 FROM viewings v WHERE v.guild_id = ? AND v.film_id = f.id) "
            "OR EXISTS (SELECT 1 FROM watchlist l WHERE l.guild_id = ? AND l.film_id = f.id))",
            (guild_id, guild_id, pattern, guild_id, guild_id),
        )
        seen: dict[tuple[str, int | None], Film] = {}
        for film_id, title, year in rows:
            folded = fold(title)
            if key in folded:
                seen.setdefault((folded, year), Film(film_id, title, year))
        ranked = sorted(
            seen.values(),
            key=lambda f: (not fold(f.title).startswith(key), fold(f.title), f.year or 0),
        )
        return ranked[:limit]

    async def resolve(self, guild_id: int, title: str, year: int | None) -> tuple[str, int | None]:
        """A film as typed: with no year, the one year the server knows it by, if just one."""
        if year is not None:
            return title, year
        key = fold(title)
        years = {
            (f.year, f.title)
            for f in await self.known_films(guild_id, title, 100)
            if fold(f.title) == key
        }
        dated = {y for y, _ in years if y is not None}
        if len(dated) == 1:
            found = next(t for y, t in years if y in dated)
            return found, dated.pop()
        return title, None

    # --- the diary --------------------------------------------------------------------

    async def log(
        self,
        guild_id: int,
        user_id: int,
        *,
        title: str,
        year: int | None,
        rating: int | None,
        watched_on: date,
        rewatch: bool,
        review: str | None,
        spoilers: bool,
        now: int,
    ) -> tuple[Entry, bool]:
        """A viewing; the film leaves the member's watchlist. Returns the entry and whether it
        was on the watchlist."""
        title, year = await self.resolve(guild_id, title, year)
        async with self.db.transaction(guild_id) as tx:
            film_id = await film_id_in(tx, title, year)
            number = await next_number(tx, guild_id, user_id)
            await tx.execute(
                "INSERT INTO viewings (guild_id, user_id, number, film_id, watched_on, rating, "
                "rewatch, review, spoilers, logged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    guild_id,
                    user_id,
                    number,
                    film_id,
                    watched_on.isoformat(),
                    rating,
                    int(rewatch),
                    review,
                    int(spoilers and bool(review)),
                    now,
                ),
            )
            listed = await tx.execute(
                "DELETE FROM watchlist WHERE guild_id = ? AND user_id = ? AND film_id = ?",
                (guild_id, user_id, film_id),
            )
        entry = await self.entry(guild_id, user_id, number)
        return entry, bool(listed)

    async def entry(self, guild_id: int, user_id: int, number: int) -> Entry:
        row = await self.db.fetchone(
            f"SELECT {ENTRY_COLUMNS} {ENTRY_FROM} WHERE v.guild_id = ? AND v.user_id = ? "
            "AND v.number = ?",
            (guild_id, user_id, number),
        )
        if row is None:
            raise UserError(
                f"Your diary has no entry number {number}; `/diary show` lists them with their "
                "numbers."
            )
        return _entry(row)

    async def require_visible(self, guild_id: int, member_id: int, viewer_id: int) -> None:
        if member_id != viewer_id and await self.is_private(guild_id, member_id):
            raise UserError(f"<@{member_id}> keeps their diary and watchlist private.")

    async def page(
        self, guild_id: int, member_id: int, viewer_id: int, year: int | None, page: int
    ) -> tuple[list[Entry], int, int]:
        """A page of a member's diary, newest first, as `viewer_id` may see it: (entries, page
        shown, total entries). Others never see a week's rating before the week ends."""
        await self.require_visible(guild_id, member_id, viewer_id)
        where = "v.guild_id = ? AND v.user_id = ?"
        params: list[Any] = [guild_id, member_id]
        if member_id != viewer_id:
            where += f" AND {VISIBLE}"
        if year is not None:
            where += " AND v.watched_on >= ? AND v.watched_on <= ?"
            params += [f"{year:04}-01-01", f"{year:04}-12-31"]
        total = await self.db.fetchval(f"SELECT count(*) {ENTRY_FROM} WHERE {where}", params)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        rows = await self.db.fetchall(
            f"SELECT {ENTRY_COLUMNS} {ENTRY_FROM} WHERE {where} {NEWEST_FIRST} LIMIT ? OFFSET ?",
            [*params, PAGE_SIZE, page * PAGE_SIZE],
        )
        return [_entry(row) for row in rows], page, total

    @staticmethod
    def _require_changeable(entry: Entry) -> None:
        if entry.week_running:
            raise UserError(
                f"Entry {entry.number} is your rating of this week's film; `/film rate` "
                "changes it while the week runs."
            )

    async def remove(self, guild_id: int, user_id: int, number: int) -> Entry:
        entry = await self.entry(guild_id, user_id, number)
        self._require_changeable(entry)
        async with self.db.transaction(guild_id) as tx:
            removed = await tx.execute(
                "DELETE FROM viewings WHERE id = ? AND (week_id IS NULL OR EXISTS "
                "(SELECT 1 FROM weeks w WHERE w.id = viewings.week_id AND w.ended_at IS NOT NULL))",
                (entry.id,),
            )
        if not removed:
            raise UserError(f"Entry {number} changed meanwhile; nothing was removed.")
        return entry

    async def edit(
        self,
        guild_id: int,
        user_id: int,
        number: int,
        *,
        rating: int | None,
        watched_on: date | None,
        review: str | None,
    ) -> Entry:
        entry = await self.entry(guild_id, user_id, number)
        self._require_changeable(entry)
        async with self.db.transaction(guild_id) as tx:
            await tx.execute(
                "UPDATE viewings SET rating = coalesce(?, rating), "
                "watched_on = coalesce(?, watched_on), review = coalesce(?, review) "
                "WHERE id = ? AND (week_id IS NULL OR EXISTS "
                "(SELECT 1 FROM weeks w WHERE w.id = viewings.week_id AND w.ended_at IS NOT NULL))",
                (rating, watched_on.isoformat() if watched_on else None, review, entry.id),
            )
        return await self.entry(guild_id, user_id, number)

    # --- the watchlist ----------------------------------------------------------------

    async def watch_add(
        self, guild_id: int, user_id: int, title: str, year: int | None, now: int
    ) -> tuple[Film, bool]:
        """Add a film; whether it was new to the list."""
        title, year = await self.resolve(guild_id, title, year)
        async with self.db.transaction(guild_id) as tx:
            film_id = await film_id_in(tx, title, year)
            added = await tx.execute(
                "INSERT INTO watchlist (guild_id, user_id, film_id, added_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (guild_id, user_id, film_id, now),
            )
            row = await tx.one("SELECT id, title, year FROM films WHERE id = ?", (film_id,))
        return Film(*row), bool(added)

    async def watch_remove(self, guild_id: int, user_id: int, title: str, year: int | None) -> Film:
        mine = await self.watchlist(guild_id, user_id, user_id)
        key = fold(title)
        matches = [
            line.film
            for line in mine
            if fold(line.film.title) == key and (year is None or line.film.year == year)
        ]
        if not matches:
            raise UserError(
                f"**{literal(film_line(title, year))}** is not on your watchlist; "
                "`/watchlist show` lists it."
            )
        if len(matches) > 1:
            raise UserError(
                "Your watchlist has that title more than once ("
                + ", ".join(literal(f.film_line) for f in matches)
                + "): give its year."
            )
        async with self.db.transaction(guild_id) as tx:
            await tx.execute(
                "DELETE FROM watchlist WHERE guild_id = ? AND user_id = ? AND film_id = ?",
                (guild_id, user_id, matches[0].id),
            )
        return matches[0]

    async def watchlist(self, guild_id: int, member_id: int, viewer_id: int) -> list[WatchlistLine]:
        """A member's watchlist, latest additions first."""
        await self.require_visible(guild_id, member_id, viewer_id)
        rows = await self.db.fetchall(
            "SELECT f.id, f.title, f.year, l.added_at FROM watchlist l "
            "JOIN films f ON f.id = l.film_id WHERE l.guild_id = ? AND l.user_id = ? "
            "ORDER BY l.added_at DESC, f.title",
            (guild_id, member_id),
        )
        return [WatchlistLine(Film(r[0], r[1], r[2]), r[3]) for r in rows]

    async def pick(
        self, guild_id: int, member_id: int, viewer_id: int, rng: random.Random | None = None
    ) -> Film:
        lines = await self.watchlist(guild_id, member_id, viewer_id)
        if not lines:
            whose = "Your" if member_id == viewer_id else f"<@{member_id}>'s"
            raise UserError(f"{whose} watchlist is empty; `/watchlist add` puts a film on it.")
        return (rng or random).choice(lines).film

    async def club_wants(self, guild_id: int, limit: int = 10) -> list[Wanted]:
        """The films most members want to see (ties by title): how many, and the first to want
        each who show their lists. Read from each film's count (migration 0029): the films at
        or above the one in the last place, then each one's first members in order."""
        rows = await self.db.fetchall(
            "SELECT w.film_id, f.title, f.year, w.members FROM film_wants w "
            "JOIN films f ON f.id = w.film_id WHERE w.guild_id = ? AND w.members >= coalesce(("
            "SELECT members FROM film_wants WHERE guild_id = ? ORDER BY members DESC "
            "LIMIT 1 OFFSET ?), 0)",
            (guild_id, guild_id, limit - 1),
        )
        ranked = sorted(rows, key=lambda r: (-r[3], fold(r[1]), r[0]))[:limit]
        if not ranked:
            return []
        first = " UNION ALL ".join(
            "SELECT * FROM (SELECT l.film_id, l.user_id FROM watchlist l "
            "WHERE l.guild_id = ? AND l.film_id = ? AND NOT EXISTS (SELECT 1 FROM diary_privacy p "
            "WHERE p.guild_id = l.guild_id AND p.user_id = l.user_id) "
            "ORDER BY l.added_at, l.user_id LIMIT ?) named"
            for _ in ranked
        )
        named: dict[int, list[int]] = {}
        params = [v for r in ranked for v in (guild_id, r[0], NAMED_WANTING)]
        for film_id, user_id in await self.db.fetchall(first, params):
            named.setdefault(film_id, []).append(user_id)
        return [
            Wanted(Film(film_id, title, year), named.get(film_id, []), int(wanting))
            for film_id, title, year, wanting in ranked
        ]

    async def most_wanted(self, guild_id: int, limit: int = 25) -> list[tuple[Film, int]]:
        """The films on most members' watchlists (private members counted, no one named) with
        how many want each, leaving out the films the club already ran as a week."""
        ran = {
            (fold(row[0]), row[1])
            for row in await self.db.fetchall(
                "SELECT title, year FROM weeks WHERE guild_id = ?", (guild_id,)
            )
        }
        rows = await self.db.fetchall(
            "SELECT f.id, f.title, f.year, w.members FROM (SELECT film_id, members "
            "FROM film_wants WHERE guild_id = ? ORDER BY members DESC, film_id LIMIT ?) w "
            "JOIN films f ON f.id = w.film_id ORDER BY w.members DESC, f.title",
            (guild_id, WANTED_KEPT + len(ran)),
        )
        wanted = [
            (Film(row[0], row[1], row[2]), int(row[3]))
            for row in rows
            if (fold(row[1]), row[2]) not in ran and (fold(row[1]), None) not in ran
        ]
        return wanted[: min(limit, WANTED_KEPT)]

    async def interest(
        self, guild_id: int, films: list[tuple[str, int | None]]
    ) -> list[tuple[int, int]]:
        """For each film (title, year; with no year, the film in any year): how many members
        have it on their watchlist and how many have seen it (a diary entry of it others may
        see). Counts name no one, so private members are counted."""
        if not films:
            return []
        keys = sorted({fold(title) for title, _ in films})
        marks = ", ".join("?" for _ in keys)
        wanted = await self.db.fetchall(
            "SELECT f.title_key, f.year, l.user_id FROM watchlist l JOIN films f "
            f"ON f.id = l.film_id WHERE l.guild_id = ? AND f.title_key IN ({marks})",
            [guild_id, *keys],
        )
        seen = await self.db.fetchall(
            f"SELECT DISTINCT f.title_key, f.year, v.user_id {ENTRY_FROM} "
            f"WHERE v.guild_id = ? AND f.title_key IN ({marks}) AND {VISIBLE}",
            [guild_id, *keys],
        )

        def members(rows: list[Row], title: str, year: int | None) -> int:
            key = fold(title)
            return len({r[2] for r in rows if r[0] == key and (year is None or r[1] == year)})

        return [(members(wanted, t, y), members(seen, t, y)) for t, y in films]

    # --- Letterboxd -------------------------------------------------------------------

    async def import_export(
        self, guild_id: int, user_id: int, export: Export, now: int
    ) -> ImportReport:
        """Add what the export holds that the member's diary and watchlist do not, in one
        transaction: an entry already imported (by what it came from) is never added again,
        and a film rated or watched with no day only when the diary has no viewing of it."""
        report = ImportReport(skipped=export.skipped, shortened=export.shortened)
        films = [(v.title, v.year) for v in (*export.dated, *export.undated)] + export.watchlist
        async with self.db.transaction(guild_id) as tx:
            ids = await film_ids_in(tx, films)
            # What each earlier import added: its entry, and whether it still has no review.
            known = {
                row[0]: (row[1], row[2] is None)
                for row in await tx.fetchall(
                    "SELECT source, id, review FROM viewings WHERE guild_id = ? AND user_id = ? "
                    "AND source IS NOT NULL",
                    (guild_id, user_id),
                )
            }
            reviewed = []
            watched = {
                row[0]
                for row in await tx.fetchall(
                    "SELECT DISTINCT film_id FROM viewings WHERE guild_id = ? AND user_id = ?",
                    (guild_id, user_id),
                )
            }
            number = await next_number(tx, guild_id, user_id)
            new = []
            dated = sorted(export.dated, key=lambda v: v.watched_on or "")
            for viewing in [*dated, *export.undated]:
                film_id = ids[viewing.film]
                earlier = known.get(viewing.source)
                if earlier is not None and earlier[1] and viewing.review is not None:
                    # A review written on Letterboxd since: never over one the member wrote here.
                    reviewed.append((viewing.review, earlier[0]))
                    report.reviews += 1
                    continue
                if earlier is not None or (viewing.watched_on is None and film_id in watched):
                    report.already += 1
                    continue
                known[viewing.source] = (0, False)
                watched.add(film_id)
                new.append(
                    (
                        guild_id,
                        user_id,
                        number,
                        film_id,
                        viewing.watched_on,
                        viewing.rating,
                        int(viewing.rewatch),
                        viewing.review,
                        int(viewing.review is not None),
                        viewing.tags,
                        viewing.source,
                        now,
                    )
                )
                number += 1
                if viewing.watched_on is None:
                    report.undated += 1
                else:
                    report.entries += 1
            async with viewings_in_bulk(tx, guild_id, user_id, [(v[3], v[4]) for v in new]):
                await tx.executemany(
                    "INSERT INTO viewings (guild_id, user_id, number, film_id, watched_on, "
                    "rating, rewatch, review, spoilers, tags, source, logged_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    new,
                )
            await tx.executemany(
                "UPDATE viewings SET review = ?, spoilers = 1 WHERE id = ? AND review IS NULL",
                reviewed,
            )
            listed = {
                row[0]
                for row in await tx.fetchall(
                    "SELECT film_id FROM watchlist WHERE guild_id = ? AND user_id = ?",
                    (guild_id, user_id),
                )
            }
            wanted = []
            for title, year in export.watchlist:
                film_id = ids[(fold(title), year)]
                if film_id in listed:
                    report.already += 1
                    continue
                listed.add(film_id)
                wanted.append((guild_id, user_id, film_id, now, "letterboxd"))
            await tx.executemany(
                "INSERT INTO watchlist (guild_id, user_id, film_id, added_at, source) "
                "VALUES (?, ?, ?, ?, ?)",
                wanted,
            )
            report.watchlist = len(wanted)
        return report

    # --- privacy ----------------------------------------------------------------------

    async def is_private(self, guild_id: int, user_id: int) -> bool:
        return await keeps_private(self.db, guild_id, user_id)

    async def set_private(self, guild_id: int, user_id: int, private: bool, now: int) -> None:
        async with self.db.transaction(guild_id) as tx:
            if private:
                await tx.execute(
                    "INSERT INTO diary_privacy (guild_id, user_id, private_at) VALUES (?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (guild_id, user_id, now),
                )
            else:
                await tx.execute(
                    "DELETE FROM diary_privacy WHERE guild_id = ? AND user_id = ?",
                    (guild_id, user_id),
                )

    # --- members' data (see bot/members.py) -------------------------------------------

    # latest_ratings, film_rating_counts, film_ratings, rating_versions, member_years and
    # film_years follow the viewings, film_wants the watchlists, by triggers (migrations 0020,
    # 0029, 0030): forgetting the viewings and watchlists forgets them, and they export nothing
    # the diary does not.
    MEMBER_TABLES = frozenset(
        {
            "viewings",
            "watchlist",
            "diary_privacy",
            "latest_ratings",
            "film_rating_counts",
            "film_ratings",
            "rating_versions",
            "film_wants",
            "member_years",
            "film_years",
        }
    )

    async def forget_member(self, tx: Tx, user_id: int, forgotten: Forgotten) -> None:
        """Every viewing (a week's ratings go with the film week's part, which removes their
        takes' posts first), the watchlist, the privacy choice. Films stay: they name no one."""
        forgotten.counts["diary"] = await tx.execute(
            "DELETE FROM viewings WHERE user_id = ?", (user_id,)
        )
        forgotten.counts["watchlist"] = await tx.execute(
            "DELETE FROM watchlist WHERE user_id = ?", (user_id,)
        )
        await tx.execute("DELETE FROM diary_privacy WHERE user_id = ?", (user_id,))

    async def export_member(self, user_id: int) -> dict[str, Any]:
        diary, watchlist, private = await self._export("user_id", "guild_id", user_id)
        return {"diary": diary, "watchlist": watchlist, "diary_private_in": private}

    async def export_guild(self, guild_id: int) -> dict[str, Any]:
        diary, watchlist, private = await self._export("guild_id", "user_id", guild_id)
        return {"diary": diary, "watchlists": watchlist, "diary_private": private}

    async def _export(
        self, owner: str, other: str, owner_id: int
    ) -> tuple[list[dict[str, Any]], ...]:
        """A member's (owner "user_id") or a server's (owner "guild_id") diary, watchlist and
        privacy rows, each naming the other key."""
        diary = await self.db.fetchall(
            f"SELECT v.{other}, v.number, f.title, f.year, v.watched_on, v.rating AS half_stars, "
            "v.rewatch, v.review, v.spoilers, v.tags, v.week_id, v.logged_at FROM viewings v "
            f"JOIN films f ON f.id = v.film_id WHERE v.{owner} = ? ORDER BY v.{other}, v.number",
            (owner_id,),
        )
        watchlist = await self.db.fetchall(
            f"SELECT l.{other}, f.title, f.year, l.added_at FROM watchlist l "
            f"JOIN films f ON f.id = l.film_id WHERE l.{owner} = ? ORDER BY l.{other}, l.added_at",
            (owner_id,),
        )
        private = await self.db.fetchall(
            f"SELECT {other}, private_at FROM diary_privacy WHERE {owner} = ?", (owner_id,)
        )
        return rows_as_dicts(diary), rows_as_dicts(watchlist), rows_as_dicts(private)
