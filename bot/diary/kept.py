"""A server's latest ratings (migration 0020) kept in memory film by film, so that a member's
closest tastes are ranked in a few milliseconds: every other rater's films in common with the
member and the sum of their differences. Counted by the database, the pairs of a member's ratings
and the other raters' of the same films (100,000 at the benchmark's scale) took 20-30 ms to
group by rater.

A film rated by many of the server's raters is kept as a column: two bytes a rater, its rating
and RATED, or two zeros. Translated through a table of |rating − the member's| and of 1 for RATED,
a column is read as one integer in which each rater's two bytes are a lane: adding the integers
of up to `LANE_FILMS` films adds every rater's lanes at once, without a carry from one lane to
the next. A film with few raters is kept as a list of (rater, rating) and added up one rating at
a time.

Kept while the server's ratings stay as they were: each film's row carries the server's rating
version at its last change (migration 0040), and once the version moves, the films stamped with
the version held or a later one are read again (the version held too: `latest_ratings_rebuild`,
which `db port` runs, moves the version after stamping its films)."""

from __future__ import annotations

import asyncio
import itertools
import operator
import sys
import weakref
from array import array
from collections import OrderedDict
from collections.abc import Iterator, Sequence

from bot.db import Database, Row

# A film is kept as a column when its raters times this reach the server's raters: a column is
# then at most this many bytes a rating, and the films rated most, which make most of a member's
# pairs, are added up lanes at a time.
COLUMN_SHARE = 16
# Films added in one-byte lanes before a carry could reach the next lane: 28 × 9 half stars ≤ 255.
LANE_FILMS = 28
# Ratings a process keeps, over the servers used last: the benchmark's 434,000 take about 8 MB.
KEPT_RATINGS = 1_000_000
# Ratings read at a time while a server's are loaded: the event loop turns them into columns
# between reads.
READ_AT_ONCE = 20_000
# Films read again by one statement once the version moves.
FILMS_AT_ONCE = 500

FOUR_BYTES = next(code for code in "IL" if array(code).itemsize == 4)  # an array of 4-byte lanes
RATED = 255  # a column's second byte for each rater who rated the film (ratings are 1 to 10)
APART = [
    bytes(1 if byte == RATED else abs(byte - mine) if 1 <= byte <= 10 else 0 for byte in range(256))
    for mine in range(11)
]


class ServerRatings:
    """One server's latest ratings by film, as of `version`."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.raters: list[int] = []  # member ids, in the order of the columns' bytes
        self._place: dict[int, int] = {}
        self._width = 0  # the raters each column has room for
        self._columns: dict[int, bytes] = {}
        self._lists: dict[int, tuple[array[int], bytes]] = {}
        self.ratings = 0
        self.lock = asyncio.Lock()

    def __contains__(self, film_id: int) -> bool:
        return film_id in self._columns or film_id in self._lists

    def films(self) -> list[int]:
        return [*self._columns, *self._lists]

    def drop(self, film_id: int) -> None:
        column = self._columns.pop(film_id, None)
        if column is not None:
            self.ratings -= column.count(RATED)
        listed = self._lists.pop(film_id, None)
        if listed is not None:
            self.ratings -= len(listed[1])

    def put(self, film_id: int, rated: list[tuple[int, int]]) -> None:
        """A film's (member, rating) pairs, in place of those kept."""
        self.drop(film_id)
        if not rated:
            return
        places = [self._place_of(user_id) for user_id, _ in rated]
        if len(self.raters) > self._width:
            self._widen()
        self.ratings += len(rated)
        if len(rated) * COLUMN_SHARE >= len(self.raters):
            column = bytearray(2 * self._width)
            for place, (_, rating) in zip(places, rated, strict=True):
                column[2 * place] = rating
                column[2 * place + 1] = RATED
            self._columns[film_id] = bytes(column)
        else:
            self._lists[film_id] = (array(FOUR_BYTES, places), bytes(r for _, r in rated))

    def take(self, other: ServerRatings) -> None:
        """Every film as `other` keeps them, in place of those kept."""
        self.raters, self._place, self._width = other.raters, other._place, other._width
        self._columns, self._lists, self.ratings = other._columns, other._lists, other.ratings

    def _place_of(self, user_id: int) -> int:
        place = self._place.get(user_id)
        if place is None:
            place = self._place[user_id] = len(self.raters)
            self.raters.append(user_id)
        return place

    def _widen(self) -> None:
        """Room for the raters come since, in every column; a column that no longer has one
        rater in COLUMN_SHARE becomes a list (the server's first films, read before most of its
        raters were met, would otherwise stay columns as wide as the server)."""
        width = len(self.raters) + len(self.raters) // 4
        padding = bytes(2 * (width - self._width))
        columns = {}
        for film_id, column in self._columns.items():
            if column.count(RATED) * COLUMN_SHARE >= len(self.raters):
                columns[film_id] = column + padding
            else:
                places = [place for place, mark in enumerate(column[1::2]) if mark]
                ratings = bytes(column[2 * place] for place in places)
                self._lists[film_id] = (array(FOUR_BYTES, places), ratings)
        self._columns = columns
        self._width = width

    def shared(self, mine: dict[int, int], at_least: int) -> Iterator[tuple[int, int, int]]:
        """(member, films both rated, the sum of their differences) of every member who rated
        `at_least` of the films of `mine` (film → rating), the member of `mine` included."""
        width = self._width
        films, apart = [0] * len(self.raters), [0] * len(self.raters)
        wide = bytearray(8 * width)  # each rater's difference and count in four bytes each
        summed, batch, total = 0, 0, 0
        for film_id, rating in mine.items():
            column = self._columns.get(film_id)
            if column is not None:
                batch += int.from_bytes(column.translate(APART[rating]), "little")
                summed += 1
                if summed == LANE_FILMS:
                    total += _widened(batch, width, wide)
                    summed, batch = 0, 0
            elif film_id in self._lists:
                places, ratings = self._lists[film_id]
                for place, theirs in zip(places, ratings, strict=True):
                    apart[place] += abs(theirs - rating)
                    films[place] += 1
        if summed:
            total += _widened(batch, width, wide)
        counted = array(FOUR_BYTES, total.to_bytes(8 * width, "little"))
        if sys.byteorder == "big":
            counted.byteswap()
        for place, user_id in enumerate(self.raters):
            n = films[place] + counted[2 * place + 1]
            if n >= at_least:
                yield user_id, n, apart[place] + counted[2 * place]


def _widened(batch: int, width: int, wide: bytearray) -> int:
    """A batch's two-byte lanes as lanes of eight bytes, its count in the upper four."""
    lanes = batch.to_bytes(2 * width, "little")
    wide[0::8] = lanes[0::2]
    wide[4::8] = lanes[1::2]
    return int.from_bytes(wide, "little")


class KeptRatings:
    """Per database, the servers' latest ratings, those used last kept up to KEPT_RATINGS."""

    def __init__(self) -> None:
        self._kept: weakref.WeakKeyDictionary[Database, OrderedDict[int, ServerRatings]] = (
            weakref.WeakKeyDictionary()
        )

    async def of(self, db: Database, guild_id: int) -> ServerRatings:
        servers = self._kept.setdefault(db, OrderedDict())
        server = servers.get(guild_id)
        if server is None:
            server = servers[guild_id] = ServerRatings()
        servers.move_to_end(guild_id)
        async with server.lock:
            await _refresh(db, guild_id, server)
        # The servers used longest ago let go while over the budget, but none being read.
        kept = sum(s.ratings for s in servers.values())
        for other in [g for g, s in servers.items() if g != guild_id and not s.lock.locked()]:
            if kept <= KEPT_RATINGS:
                break
            kept -= servers.pop(other).ratings
        return server


async def _refresh(db: Database, guild_id: int, server: ServerRatings) -> None:
    version = int(
        await db.fetchval("SELECT version FROM rating_versions WHERE guild_id = ?", (guild_id,))
        or 0
    )
    if version == server.version:
        return
    if server.version is None or version < server.version:  # new, or a database put back
        await _load(db, guild_id, server)  # every film read again
    else:
        changed, count = await asyncio.gather(
            db.fetchall(
                "SELECT film_id FROM film_ratings WHERE guild_id = ? AND version >= ?",
                (guild_id, server.version),
            ),
            db.fetchval("SELECT count(*) FROM film_ratings WHERE guild_id = ?", (guild_id,)),
        )
        ids = [int(row[0]) for row in changed]
        parts = [ids[start : start + FILMS_AT_ONCE] for start in range(0, len(ids), FILMS_AT_ONCE)]
        read = []
        for part in parts:
            marks = ", ".join("?" for _ in part)
            read.append(
                await db.fetchall(
                    "SELECT film_id, user_id, rating FROM latest_ratings "
                    f"WHERE guild_id = ? AND film_id IN ({marks}) ORDER BY film_id",
                    (guild_id, *part),
                )
            )
        gone: set[int] = set()
        if len({*server.films(), *ids}) != count:  # films whose last rating went
            present = await db.fetchall(
                "SELECT film_id FROM film_ratings WHERE guild_id = ?", (guild_id,)
            )
            gone = set(server.films()) - {int(row[0]) for row in present}
        # Put at once, so that a ranking between two reads finds the films as they were.
        for part, rows in zip(parts, read, strict=True):
            _put_films(server, part, rows)
        for film_id in gone:
            server.drop(film_id)
    server.version = version


async def _load(db: Database, guild_id: int, server: ServerRatings) -> None:
    """Every film of the server, read in ranges of films of about READ_AT_ONCE ratings, then
    taken on at once: a ranking between two reads finds the films as they were."""
    loaded = ServerRatings()
    films = await db.fetchall(
        "SELECT film_id, raters FROM film_ratings WHERE guild_id = ? ORDER BY film_id",
        (guild_id,),
    )
    start = 0
    while start < len(films):
        end, ratings = start, 0
        while end < len(films) and (ratings < READ_AT_ONCE or end == start):
            ratings += int(films[end][1])
            end += 1
        rows = await db.fetchall(
            "SELECT film_id, user_id, rating FROM latest_ratings "
            "WHERE guild_id = ? AND film_id >= ? AND film_id <= ? ORDER BY film_id",
            (guild_id, films[start][0], films[end - 1][0]),
        )
        _put_films(loaded, [int(row[0]) for row in films[start:end]], rows)
        start = end
    server.take(loaded)


def _put_films(server: ServerRatings, film_ids: list[int], rows: Sequence[Row]) -> None:
    """Each of `film_ids` as `rows` (film, member, rating; by film) have it: none, if absent."""
    absent = set(film_ids)
    for film_id, rated in itertools.groupby(rows, key=operator.itemgetter(0)):
        server.put(film_id, [(user_id, rating) for _, user_id, rating in rated])
        absent.discard(film_id)
    for film_id in absent:
        server.drop(film_id)


kept_ratings = KeptRatings()
