"""How close two members' tastes are, read from the films both rated, and the club's films as
its ratings tell them. Ids in, plain values out; nothing here talks to Discord.

Agreement on a set of films is 100 − (the mean difference of the two ratings, in half stars) ×
100 / 9: the same ratings every time give 100, ½ against ★★★★★ every time gives 0 (9 half stars
is the widest difference). The club's typical agreement is the same measure over every two
members' ratings of every film, from each film's sum of its pairs' differences (kept up to date
by the database's triggers, migrations 0020 and 0028). A taste score pulls a pair's agreement
toward the club's while it rests on few films: (n · agreement + K · club) / (n + K), with n the
films both rated and K = 5; no score is given below MIN_SHARED films. A member's latest rating of a
film is the one that counts; a week's rating counts once its week has ended."""

from __future__ import annotations

import asyncio
import heapq
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from bot.db import Database, IdRange, Row, split_ids
from bot.diary.kept import kept_ratings
from bot.diary.service import Film, keeps_private, private_members
from bot.errors import UserError

T = TypeVar("T")

WIDEST = 9  # half stars between ½ and ★★★★★
SHRINK = 5  # K: how many films' weight the club's typical agreement carries
MIN_SHARED = 5
LOVED = 8  # ★★★★ or more
APART = 2  # a disagreement worth naming: a star or more apart
LISTED = 5  # films named as loved or disagreed on
CLOSEST = 10  # members named by /taste me

SERVERS_KEPT = 256  # servers whose club-wide figures a process keeps, the latest used


class KeptPerServer:
    """A club-wide figure per database and server, kept while the server's latest ratings stay
    as they were (their version, moved by every change: migration 0020), for figures that read
    every rating of the server."""

    def __init__(self) -> None:
        self._kept: weakref.WeakKeyDictionary[Database, OrderedDict[int, tuple[int, Any]]] = (
            weakref.WeakKeyDictionary()
        )

    async def get(self, db: Database, guild_id: int, count: Callable[[], Awaitable[T]]) -> T:
        version = await db.fetchval(
            "SELECT version FROM rating_versions WHERE guild_id = ?", (guild_id,)
        )
        kept = self._kept.setdefault(db, OrderedDict())
        found = kept.get(guild_id)
        if found is not None and found[0] == version:
            kept.move_to_end(guild_id)
            return cast(T, found[1])
        value = await count()
        kept[guild_id] = (version, value)
        kept.move_to_end(guild_id)
        while len(kept) > SERVERS_KEPT:
            kept.popitem(last=False)
        return value


_club_agreement = KeptPerServer()
_club_films = KeptPerServer()


def agreement(total_difference: int, films: int) -> float:
    """100 − the mean difference in half stars, scaled so that 9 half stars is 0."""
    return 100.0 * (1 - total_difference / (films * WIDEST))


def shrunk(raw: float, films: int, club: float) -> float:
    return (films * raw + SHRINK * club) / (films + SHRINK)


@dataclass(frozen=True)
class Shared:
    film: Film
    mine: int
    theirs: int


@dataclass(frozen=True)
class Match:
    """Two members' taste: the films both rated, their agreement on them, the score (None below
    MIN_SHARED films), the club's typical agreement (None when no two members rated a film)."""

    member_id: int
    films: int
    raw: float | None
    score: float | None
    club: float | None
    loved: list[Shared]
    apart: list[Shared]


@dataclass(frozen=True)
class Close:
    member_id: int
    films: int
    score: float


def private_message(member_id: int) -> str:
    return f"<@{member_id}> keeps their film life private: there is no taste match with them."


async def raters_split(
    db: Database, guild_id: int, film: Row | tuple[int, int] | None
) -> list[IdRange]:
    """Ranges of member ids, one per part the database runs at once, split among the raters of
    a film given as (film, raters): a popular film's raters are spread over the ids as the
    club's raters are. One range without a film."""
    if film is None:
        return [(None, None)]
    film_id, raters = film
    return await split_ids(
        db,
        "SELECT user_id FROM latest_ratings WHERE guild_id = ? AND film_id = ? ORDER BY user_id",
        (guild_id, film_id),
        raters,
    )


def among(members: IdRange, column: str) -> tuple[str, list[int]]:
    """The condition keeping `column` within a range of `split_ids`, and its parameters."""
    condition, bounds = "", []
    for bound, compare in zip(members, (">=", "<"), strict=True):
        if bound is not None:
            condition += f" AND {column} {compare} ?"
            bounds.append(bound)
    return condition, bounds


class Taste:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _ratings(self, guild_id: int, user_id: int) -> dict[int, int]:
        rows = await self.db.fetchall(
            "SELECT film_id, rating FROM latest_ratings WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        return {row[0]: row[1] for row in rows}

    async def club_agreement(self, guild_id: int) -> float | None:
        """The agreement of every two members' ratings of every film (private members counted),
        from each film's sum of its pairs' differences (migration 0028), without pairing them
        one by one."""
        return await _club_agreement.get(self.db, guild_id, lambda: self._club_agreement(guild_id))

    async def _club_agreement(self, guild_id: int) -> float | None:
        # A row a film (0.5 ms for the benchmark's 5,300 films; kept, a call reads one row).
        row = await self.db.fetchone(
            "SELECT sum(differences), sum(raters * (raters - 1) / 2) FROM film_ratings "
            "WHERE guild_id = ?",
            (guild_id,),
        )
        difference, pairs = (row[0], row[1]) if row else (None, None)
        return agreement(int(difference or 0), int(pairs)) if pairs else None

    async def match(self, guild_id: int, viewer_id: int, member_id: int) -> Match:
        """The viewer's taste beside a member's; refused when the member keeps theirs private."""
        if member_id == viewer_id:
            raise UserError("That is you; `/taste me` finds the members closest to you.")
        if await keeps_private(self.db, guild_id, member_id):
            raise UserError(private_message(member_id))
        mine = await self._ratings(guild_id, viewer_id)
        theirs = await self._ratings(guild_id, member_id)
        both = sorted(set(mine) & set(theirs))
        if len(both) < MIN_SHARED:
            return Match(member_id, len(both), None, None, None, [], [])
        films = await self._films(both)
        shared = [Shared(films[f], mine[f], theirs[f]) for f in both]
        raw = agreement(sum(abs(s.mine - s.theirs) for s in shared), len(shared))
        club = await self.club_agreement(guild_id)
        score = shrunk(raw, len(shared), raw if club is None else club)
        loved = sorted(
            (s for s in shared if s.mine >= LOVED and s.theirs >= LOVED),
            key=lambda s: (-(s.mine + s.theirs), s.film.title.casefold()),
        )
        apart = sorted(
            (s for s in shared if abs(s.mine - s.theirs) >= APART),
            key=lambda s: (-abs(s.mine - s.theirs), s.film.title.casefold()),
        )
        return Match(member_id, len(shared), raw, score, club, loved[:LISTED], apart[:LISTED])

    async def closest(
        self, guild_id: int, viewer_id: int, limit: int | None = CLOSEST, offset: int = 0
    ) -> tuple[list[Close], float | None]:
        """The members whose taste is closest to the viewer's (MIN_SHARED films in common at
        least, never a private member), best first (`limit` of them from `offset`; every one
        with None), and the club's typical agreement. From the server's ratings kept in memory
        (bot/diary/kept.py); the viewer's own and who keeps a private diary read at each call."""
        club, server, mine, private = await asyncio.gather(
            self.club_agreement(guild_id),
            kept_ratings.of(self.db, guild_id),
            self._ratings(guild_id, viewer_id),
            private_members(self.db, guild_id),
        )
        hidden = {viewer_id, *private}
        ranked = []
        for member_id, films, difference in server.shared(mine, MIN_SHARED):
            if member_id not in hidden:
                raw = agreement(difference, films)
                score = shrunk(raw, films, raw if club is None else club)
                ranked.append((-score, -films, member_id))
        wanted = None if limit is None else limit + offset
        page = sorted(ranked) if wanted is None else heapq.nsmallest(wanted, ranked)
        return [Close(member_id, -films, -score) for score, films, member_id in page[offset:]], club

    async def _films(self, ids: list[int]) -> dict[int, Film]:
        marks = ", ".join("?" for _ in ids)
        rows = await self.db.fetchall(
            f"SELECT id, title, year FROM films WHERE id IN ({marks})", ids
        )
        return {row[0]: Film(row[0], row[1], row[2]) for row in rows}


# --- the club's films by their ratings -----------------------------------------------------

MIN_RATERS = 3  # a film's spread, or its unanimity, needs three members' ratings
RATER_FILMS = 3  # a rater is called harsh or generous over this many such films at least
PRIOR = 3  # C: how many ratings' weight the club's mean carries in a film's weighted mean
SHOWN = 5


@dataclass(frozen=True)
class FilmRatings:
    film: Film
    count: int
    mean: float  # half stars
    spread: float  # the standard deviation of its ratings, in half stars
    lowest: int
    highest: int
    weighted: float  # half stars


@dataclass(frozen=True)
class Rater:
    """How far a member's ratings sit from the others' on the same films: the mean of (their
    rating − the mean of the others' ratings of that film), in half stars."""

    member_id: int
    private: bool
    films: int
    lean: float


@dataclass(frozen=True)
class ClubFilms:
    ratings: int
    mean: float | None  # half stars
    divisive: FilmRatings | None
    unanimous: list[FilmRatings]
    best: list[FilmRatings]
    harshest: list[Rater]
    generous: list[Rater]


def leading(ranked: str) -> str:
    """The films of `ranked` (film_id, k, k2) whose rank by (k, k2), highest first, is within
    the next parameter: those at or above the one in that place, ties included, or all of them
    when there are fewer. As `rank() OVER (...) <= ?`, which sorts and numbers every film (7
    against 2.3 ms for the benchmark's 5,300 on SQLite); finding that place is a partial sort."""
    return (
        f"SELECT film_id FROM {ranked} WHERE coalesce((k, k2) >= (SELECT k, k2 FROM {ranked} "
        "ORDER BY k DESC, k2 DESC LIMIT 1 OFFSET ? - 1), TRUE)"
    )


async def club_films(db: Database, guild_id: int) -> ClubFilms:
    """The club's films as its members' latest ratings tell them (private members counted): the
    most divisive (the widest standard deviation, MIN_RATERS ratings at least), the unanimous
    ones, the best by a weighted mean (n · mean + PRIOR · the club's mean) / (n + PRIOR) with two
    ratings at least, and the harshest and most generous raters. The films shown and the
    raters' leans are kept until a rating of the server changes (ranking the benchmark's 5,300
    films took 8-9 ms a call; the leans read every rating); who keeps a private diary is read at
    each call."""
    rows, leans = await _club_films.get(db, guild_id, lambda: club_films_counted(db, guild_id))
    total = int(rows[0][3] or 0)
    if not total:
        return ClubFilms(0, None, None, [], [], [], [])
    private = await private_members(db, guild_id)
    club_mean = int(rows[0][4]) / total
    films = []
    for film_id, title, year, count, summed, squares, lowest, highest in rows[1:]:
        n, s = int(count), int(summed)
        mean = s / n
        spread = max(0.0, int(squares) / n - mean * mean) ** 0.5
        weighted = (s + PRIOR * club_mean) / (n + PRIOR)
        films.append(
            FilmRatings(Film(film_id, title, year), n, mean, spread, lowest, highest, weighted)
        )
    rated = [f for f in films if f.count >= MIN_RATERS]
    divided = sorted(
        (f for f in rated if f.spread > 0),
        key=lambda f: (-f.spread, -f.count, f.film.title.casefold()),
    )
    unanimous = sorted(
        (f for f in rated if f.lowest == f.highest),
        key=lambda f: (-f.count, -f.lowest, f.film.title.casefold()),
    )
    best = sorted(
        (f for f in films if f.count >= 2),
        key=lambda f: (-f.weighted, -f.count, f.film.title.casefold()),
    )
    # Each rater's lean is kept; only the three shown each way become `Rater`s, so that a call
    # does not build one for every member (2,000 at the benchmark's scale).
    harshest = heapq.nsmallest(3, (r for r in leans if r[2] < 0), key=lambda r: (r[2], r[0]))
    generous = heapq.nsmallest(3, (r for r in leans if r[2] > 0), key=lambda r: (-r[2], r[0]))
    return ClubFilms(
        total,
        club_mean,
        divided[0] if divided else None,
        unanimous[:SHOWN],
        best[:SHOWN],
        [Rater(user_id, user_id in private, n, lean) for user_id, n, lean in harshest],
        [Rater(user_id, user_id in private, n, lean) for user_id, n, lean in generous],
    )


async def club_films_counted(
    db: Database, guild_id: int
) -> tuple[list[Row], list[tuple[int, int, float]]]:
    """The rows `club_films` shows (the club's sums first, then each film that can be shown)
    and every rater's lean."""
    # Only the films that can be shown are read: each list's leaders by rank (ties included,
    # a margin where SQL's floating point may order near-equal values unlike Python's), ranked
    # from each film's sums, then ordered below as before. In floating point on both backends
    # (PostgreSQL's `* 1.0` is `numeric`: 22.7 against 16.0 ms on the benchmark's ratings).
    rows = await db.fetchall(
        "WITH t AS (SELECT sum(raters) AS n, sum(total) AS s FROM film_ratings WHERE guild_id = ?), "
        "d AS (SELECT film_id, CAST(raters * squares - total * total AS DOUBLE PRECISION) "
        "/ (raters * raters) AS k, raters AS k2 FROM film_ratings WHERE guild_id = ? "
        "AND raters >= ? AND raters * squares > total * total), "
        "u AS (SELECT film_id, raters AS k, total AS k2 FROM film_ratings "
        "WHERE guild_id = ? AND raters >= ? AND raters * squares = total * total), "
        "b AS (SELECT r.film_id, (r.total + ? * CAST(t.s AS DOUBLE PRECISION) / t.n) "
        "/ (r.raters + ?) AS k, r.raters AS k2 FROM film_ratings r CROSS JOIN t "
        "WHERE r.guild_id = ? AND r.raters >= 2), "
        f"shown AS ({leading('d')} UNION {leading('u')} UNION {leading('b')}) "
        "SELECT NULL, NULL, NULL, n, s, NULL, NULL, NULL FROM t UNION ALL "
        "SELECT r.film_id, f.title, f.year, r.raters, r.total, r.squares, "
        "(SELECT min(h.rating) FROM film_rating_counts h WHERE h.guild_id = r.guild_id "
        "AND h.film_id = r.film_id), (SELECT max(h.rating) FROM film_rating_counts h "
        "WHERE h.guild_id = r.guild_id AND h.film_id = r.film_id) FROM shown "
        "JOIN film_ratings r ON r.guild_id = ? AND r.film_id = shown.film_id "
        "JOIN films f ON f.id = r.film_id",
        (
            guild_id,
            guild_id,
            MIN_RATERS,
            guild_id,
            MIN_RATERS,
            PRIOR,
            PRIOR,
            guild_id,
            3,
            SHOWN + 2,
            SHOWN + 2,
            guild_id,
        ),
    )
    leans = await rater_leans(db, guild_id) if rows[0][3] else []
    return rows, leans


async def rater_leans(db: Database, guild_id: int) -> list[tuple[int, int, float]]:
    """(member, films, lean) of each rater: their mean distance from the others' mean rating,
    over the films MIN_RATERS members rated (RATER_FILMS such films at least). Each rating
    looks its film's sums up (434,000 at the benchmark's scale): the raters are counted in
    parts at once, split among the raters of the most rated film."""
    top = None
    if db.query_parts > 1:
        top = await db.fetchone(
            "SELECT film_id, raters FROM film_ratings WHERE guild_id = ? "
            "ORDER BY raters DESC LIMIT 1",
            (guild_id,),
        )
    parts = await asyncio.gather(
        *(_leans_among(db, guild_id, r) for r in await raters_split(db, guild_id, top))
    )
    return [lean for part in parts for lean in part]


async def _leans_among(
    db: Database, guild_id: int, members: IdRange
) -> list[tuple[int, int, float]]:
    within, bounds = among(members, "r.user_id")
    # In floating point on both backends: PostgreSQL's `* 1.0` made every term a `numeric`,
    # 217 ms against 126 for the benchmark's 449,000 ratings.
    rows = await db.fetchall(
        "WITH f AS (SELECT film_id, raters AS n, total AS s FROM film_ratings "
        "WHERE guild_id = ? AND raters >= ?) "
        "SELECT r.user_id, count(*), "
        "sum(CAST(f.n * r.rating - f.s AS DOUBLE PRECISION) / (f.n - 1)) "
        f"FROM latest_ratings r JOIN f ON f.film_id = r.film_id WHERE r.guild_id = ?{within} "
        "GROUP BY r.user_id HAVING count(*) >= ?",
        (guild_id, MIN_RATERS, guild_id, *bounds, RATER_FILMS),
    )
    return [(user_id, int(n), float(summed) / int(n)) for user_id, n, summed in rows]
