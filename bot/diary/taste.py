"""How close two members' tastes are, read from the films both rated, and the club's films as
its ratings tell them. Ids in, plain values out; nothing here talks to Discord.

Agreement on a set of films is 100 − (the mean difference of the two ratings, in half stars) ×
100 / 9: the same ratings every time give 100, ½ against ★★★★★ every time gives 0 (9 half stars
is the widest difference). The club's typical agreement is the same measure over every two
members' ratings of every film, recounted at most every five minutes. A taste score pulls a
pair's agreement toward the club's while it rests on few films: (n · agreement + K · club) /
(n + K), with n the films both rated and K = 5; no score is given below MIN_SHARED films. A
member's latest rating of a film is the one that counts; a week's rating counts once its week has
ended."""

from __future__ import annotations

import time
import weakref
from collections import defaultdict
from dataclasses import dataclass

from bot.db import Database
from bot.diary.service import Film
from bot.errors import UserError

WIDEST = 9  # half stars between ½ and ★★★★★
SHRINK = 5  # K: how many films' weight the club's typical agreement carries
MIN_SHARED = 5
LOVED = 8  # ★★★★ or more
APART = 2  # a disagreement worth naming: a star or more apart
LISTED = 5  # films named as loved or disagreed on
CLOSEST = 10  # members named by /taste me

# Each member's latest visible rating of each film of a server: the newest viewing with a rating
# (as the diary orders them: the latest day first, undated last, the later entry first).
LATEST = (
    "SELECT user_id, film_id, rating FROM (SELECT v.user_id, v.film_id, v.rating, "
    "row_number() OVER (PARTITION BY v.user_id, v.film_id ORDER BY v.watched_on IS NULL, "
    "v.watched_on DESC, v.number DESC) AS nth FROM viewings v "
    "LEFT JOIN weeks w ON w.id = v.week_id WHERE v.guild_id = ? AND v.rating IS NOT NULL "
    "AND (v.week_id IS NULL OR w.ended_at IS NOT NULL){where}) latest WHERE nth = 1"
)


CLUB_FRESH_S = 300.0
# The club's typical agreement per server, and until when it is kept, per database.
_club_kept: weakref.WeakKeyDictionary[Database, dict[int, tuple[float, float | None]]] = (
    weakref.WeakKeyDictionary()
)


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


class Taste:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _private(self, guild_id: int, user_id: int) -> bool:
        return bool(
            await self.db.fetchval(
                "SELECT 1 FROM diary_privacy WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id),
            )
        )

    async def _ratings(self, guild_id: int, user_id: int) -> dict[int, int]:
        rows = await self.db.fetchall(
            LATEST.format(where=" AND v.user_id = ?"), (guild_id, user_id)
        )
        return {row[1]: row[2] for row in rows}

    async def club_agreement(self, guild_id: int) -> float | None:
        """The agreement of every two members' ratings of every film (private members counted):
        from how many members gave each film each rating, without pairing them one by one.
        Kept CLUB_FRESH_S: it reads every rating of the server (a second at 600,000 viewings),
        and a typical value barely moves with a few ratings more."""
        kept = _club_kept.setdefault(self.db, {}).get(guild_id)
        if kept is not None and time.monotonic() < kept[0]:
            return kept[1]
        value = await self._club_agreement(guild_id)
        _club_kept[self.db][guild_id] = (time.monotonic() + CLUB_FRESH_S, value)
        return value

    async def _club_agreement(self, guild_id: int) -> float | None:
        rows = await self.db.fetchall(
            f"SELECT film_id, rating, count(*) FROM ({LATEST.format(where='')}) r "
            "GROUP BY film_id, rating",
            (guild_id,),
        )
        counts: dict[int, dict[int, int]] = defaultdict(dict)
        for film_id, rating, count in rows:
            counts[film_id][rating] = count
        difference = pairs = 0
        for by_rating in counts.values():
            items = sorted(by_rating.items())
            raters = sum(by_rating.values())
            pairs += raters * (raters - 1) // 2
            for i, (a, count_a) in enumerate(items):
                for b, count_b in items[i + 1 :]:
                    difference += count_a * count_b * (b - a)
        return agreement(difference, pairs) if pairs else None

    async def match(self, guild_id: int, viewer_id: int, member_id: int) -> Match:
        """The viewer's taste beside a member's; refused when the member keeps theirs private."""
        if member_id == viewer_id:
            raise UserError("That is you; `/taste me` finds the members closest to you.")
        if await self._private(guild_id, member_id):
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
        self, guild_id: int, viewer_id: int, limit: int | None = CLOSEST
    ) -> tuple[list[Close], float | None]:
        """The members whose taste is closest to the viewer's (MIN_SHARED films in common at
        least, never a private member), best first (`limit` of them; every one with None), and
        the club's typical agreement."""
        rows = await self.db.fetchall(
            f"WITH r AS ({LATEST.format(where='')}) "
            "SELECT o.user_id, count(*), sum(abs(o.rating - m.rating)) FROM r m "
            "JOIN r o ON o.film_id = m.film_id AND o.user_id <> m.user_id "
            "WHERE m.user_id = ? AND NOT EXISTS (SELECT 1 FROM diary_privacy p "
            "WHERE p.guild_id = ? AND p.user_id = o.user_id) "
            "GROUP BY o.user_id HAVING count(*) >= ?",
            (guild_id, viewer_id, guild_id, MIN_SHARED),
        )
        club = await self.club_agreement(guild_id)
        close = []
        for user_id, films, difference in rows:
            raw = agreement(int(difference), int(films))
            close.append(
                Close(user_id, int(films), shrunk(raw, int(films), raw if club is None else club))
            )
        close.sort(key=lambda c: (-c.score, -c.films, c.member_id))
        return close[:limit], club

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


async def club_films(db: Database, guild_id: int) -> ClubFilms:
    """The club's films as its members' latest ratings tell them (private members counted): the
    most divisive (the widest standard deviation, MIN_RATERS ratings at least), the unanimous
    ones, the best by a weighted mean (n · mean + PRIOR · the club's mean) / (n + PRIOR) with two
    ratings at least, and the harshest and most generous raters."""
    # The latest ratings are read once (the costly part: every viewing of the server), for the
    # films' figures (kind 0) and the raters' leans (kind 1) alike.
    both = await db.fetchall(
        f"WITH r AS MATERIALIZED ({LATEST.format(where='')}), "
        "f AS (SELECT film_id, count(*) AS n, sum(rating) AS s, sum(rating * rating) AS ss, "
        "min(rating) AS lo, max(rating) AS hi FROM r GROUP BY film_id) "
        "SELECT 0, f.film_id, m.title, m.year, f.n, f.s, f.ss, f.lo, f.hi FROM f "
        "JOIN films m ON m.id = f.film_id "
        "UNION ALL SELECT 1, r.user_id, NULL, NULL, count(*), "
        "sum((f.n * r.rating - f.s) * 1.0 / (f.n - 1)), "
        "max(CASE WHEN p.user_id IS NULL THEN 0 ELSE 1 END), NULL, NULL FROM r "
        "JOIN f ON f.film_id = r.film_id AND f.n >= ? LEFT JOIN diary_privacy p "
        "ON p.guild_id = ? AND p.user_id = r.user_id GROUP BY r.user_id HAVING count(*) >= ?",
        (guild_id, MIN_RATERS, guild_id, RATER_FILMS),
    )
    rows = [tuple(row)[1:] for row in both if row[0] == 0]
    leans = [(row[1], row[4], row[5], row[6]) for row in both if row[0] == 1]
    total = sum(int(row[3]) for row in rows)
    if not total:
        return ClubFilms(0, None, None, [], [], [], [])
    club_mean = sum(int(row[4]) for row in rows) / total
    films = []
    for film_id, title, year, count, summed, squares, lowest, highest in rows:
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
    raters = [
        Rater(user_id, bool(private), int(n), float(summed) / int(n))
        for user_id, n, summed, private in leans
    ]
    harshest = sorted((r for r in raters if r.lean < 0), key=lambda r: (r.lean, r.member_id))
    generous = sorted((r for r in raters if r.lean > 0), key=lambda r: (-r.lean, r.member_id))
    return ClubFilms(
        total,
        club_mean,
        divided[0] if divided else None,
        unanimous[:SHOWN],
        best[:SHOWN],
        harshest[:3],
        generous[:3],
    )
