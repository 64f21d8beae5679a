"""A year told back, a member's or the club's: films logged, the best-rated film of the week, the
closest taste, the most-reacted take and quote, the essay section that moved them most.

A year is the server's: days watched are local dates, and posts and reactions count from local
midnight on 1 January. A week belongs to the year it started in, and counts once it has ended
(its ratings are hidden until then). Takes and quotes of the year are ranked by every reaction
they got; a section by the reactions given to its posts during the year plus the quotes saved
from it (the club's year reads the daily counts of migration 0021, so its section's reactions are
those of the UTC days from the one the year begins in to the one it ends in). Private members are
counted in the club's numbers and never named."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.db import Database, Row, split_ids
from bot.diary.service import Film
from bot.diary.taste import Close, Taste
from bot.quotes.service import Quote, quote_from
from bot.reactions.counts import counted_sums, quote_sums
from bot.reactions.recorder import DAY, ReactionRecorder
from bot.reactions.store import LAST_ID
from bot.text import plural, truncate


@dataclass(frozen=True)
class Span:
    """A year in a server's zone: its days as ISO dates and its instants as epoch seconds."""

    year: int
    first_day: str
    next_day: str
    start: int
    end: int

    @classmethod
    def of(cls, year: int, tz: ZoneInfo) -> Span:
        def midnight(y: int) -> int:
            return int(datetime(y, 1, 1, tzinfo=tz).timestamp())

        return cls(
            year, f"{year:04d}-01-01", f"{year + 1:04d}-01-01", midnight(year), midnight(year + 1)
        )


def year_now(now: int, tz: ZoneInfo) -> int:
    return datetime.fromtimestamp(now, tz).year


@dataclass(frozen=True)
class BestWeek:
    film: Film
    rating: float  # half stars: the member's rating, or the club's mean
    raters: int


@dataclass(frozen=True)
class Take:
    member_id: int
    film: Film
    reactions: int
    channel_id: int
    message_id: int


@dataclass(frozen=True)
class SectionOfYear:
    essay: str
    heading: str
    reactions: int
    quotes: int


@dataclass(frozen=True)
class YearInFilm:
    year: int
    member_id: int | None  # None: the club's year
    viewings: int
    films: int
    members: int  # members who logged a film (the club's year)
    best_week: BestWeek | None
    # The first CLOSEST_PAGE members by taste, closest first: the caller keeps those present and
    # reads on in the ranking when none of them is.
    closest: tuple[Close, ...]
    take: Take | None
    quote: tuple[Quote, int] | None  # the quote and its reactions
    section: SectionOfYear | None
    diarist: tuple[int, int] | None  # (member, viewings): the club's most active, not private

    @property
    def match(self) -> Close | None:
        return self.closest[0] if self.closest else None

    @property
    def empty(self) -> bool:
        return not (self.viewings or self.best_week or self.take or self.quote or self.section)


TAKE_LABEL = "Most-reacted take"

# The club's most-reacted quotes taken as candidates for the quote of the year: one of them
# saved in the year with more reactions than the last of them is it, read without joining the
# year's thousands of reacted-to quotes (SQLite 14 → 5 ms, PostgreSQL 29-46 → 7 on the
# benchmark's community); otherwise every quote is ranked. The section of the year likewise
# (18 → 8 ms and 21 → 11): its thousands of sections' counts ranked by the database, not
# brought into Python.
CANDIDATES = 50

# Members of a member's closest-taste ranking read with the year: a page, as `/taste me` reads,
# rather than every rater (2,000 at the benchmark's scale), for a list of which the card names
# the first still present.
CLOSEST_PAGE = 100

NOT_PRIVATE = (
    "NOT EXISTS (SELECT 1 FROM diary_privacy p WHERE p.guild_id = v.guild_id "
    "AND p.user_id = v.user_id)"
)


class Years:
    def __init__(self, db: Database, recorder: ReactionRecorder) -> None:
        self.db = db
        self.recorder = recorder

    async def year(self, guild_id: int, span: Span, member_id: int | None) -> YearInFilm:
        # The reactions as merged, as the other stats read them: a flush here waited for the
        # merge under way and ran one, 53 → 45 ms p50 and 203 → 59 ms at worst for a member's
        # year while 2,000 reactions a second arrive (SQLite, 20 calls each way).
        # The parts read at once by the database's readers (SQLite's two, PostgreSQL's pool).
        logged, best_week, take, quote, closest, section = await asyncio.gather(
            self._logged(guild_id, span, member_id),
            self._best_week(guild_id, span, member_id),
            self._take(guild_id, span, member_id),
            self._quote(guild_id, span, member_id),
            self._closest(guild_id, member_id),
            self._section(guild_id, span, member_id),
        )
        viewings, films, members, diarist = logged
        return YearInFilm(
            year=span.year,
            member_id=member_id,
            viewings=viewings,
            films=films,
            members=members,
            best_week=best_week,
            closest=tuple(closest),
            take=take,
            quote=quote,
            section=section,
            diarist=diarist,
        )

    async def _closest(self, guild_id: int, member_id: int | None) -> list[Close]:
        """A member's closest tastes (none for the club's year)."""
        if member_id is None:
            return []
        close, _ = await Taste(self.db).closest(guild_id, member_id, limit=CLOSEST_PAGE)
        return close

    def _whose(
        self, member_id: int | None, column: str = "v.user_id"
    ) -> tuple[str, tuple[int, ...]]:
        return (f" AND {column} = ?", (member_id,)) if member_id is not None else ("", ())

    async def _logged(
        self, guild_id: int, span: Span, member_id: int | None
    ) -> tuple[int, int, int, tuple[int, int] | None]:
        """Viewings of the year, films and members among them, and the club's most active
        member who is not private (None for a member's year)."""
        if member_id is None:
            # The club's: from the year's counts per film and per member (migration 0030), its
            # members' added up and its most active found by the database. Their rows brought
            # into Python took 1.9 ms for the benchmark's 2,500; the sum takes 0.2, the leader 0.7.
            films, (viewings, members), diarist = await asyncio.gather(
                self.db.fetchval(
                    "SELECT count(*) FROM film_years WHERE guild_id = ? AND year = ?",
                    (guild_id, span.year),
                ),
                self.db.one(
                    "SELECT coalesce(sum(viewings), 0), count(*) FROM member_years "
                    "WHERE guild_id = ? AND year = ?",
                    (guild_id, span.year),
                ),
                self.db.fetchone(
                    "SELECT m.user_id, m.viewings FROM member_years m "
                    "WHERE m.guild_id = ? AND m.year = ? AND NOT EXISTS (SELECT 1 "
                    "FROM diary_privacy p WHERE p.guild_id = m.guild_id AND p.user_id = m.user_id) "
                    "ORDER BY m.viewings DESC, m.user_id LIMIT 1",
                    (guild_id, span.year),
                ),
            )
            leader = None if diarist is None else (int(diarist[0]), int(diarist[1]))
            return int(viewings), int(films or 0), int(members), leader
        # A member's: the year's range of `viewings_by_day` for the member.
        viewings, films = await self.db.one(
            "SELECT count(*), count(DISTINCT v.film_id) FROM viewings v WHERE v.guild_id = ? "
            "AND v.user_id = ? AND v.watched_on >= ? AND v.watched_on < ?",
            (guild_id, member_id, span.first_day, span.next_day),
        )
        return int(viewings), int(films), 1 if viewings else 0, None

    async def _best_week(self, guild_id: int, span: Span, member_id: int | None) -> BestWeek | None:
        whose, params = self._whose(member_id)
        row = await self.db.fetchone(
            "SELECT w.title, w.year, avg(v.rating), count(*) FROM weeks w "
            "JOIN viewings v ON v.week_id = w.id "
            f"WHERE w.guild_id = ? AND w.started_at >= ? AND w.started_at < ? "
            f"AND w.ended_at IS NOT NULL AND v.rating IS NOT NULL{whose} "
            "GROUP BY w.id, w.title, w.year, w.started_at "
            "ORDER BY avg(v.rating) DESC, count(*) DESC, w.started_at DESC LIMIT 1",
            (guild_id, span.start, span.end, *params),
        )
        if row is None:
            return None
        return BestWeek(Film(0, row[0], row[1]), float(row[2]), int(row[3]))

    async def _take(self, guild_id: int, span: Span, member_id: int | None) -> Take | None:
        whose, params = self._whose(member_id)
        if member_id is None:
            whose = f" AND {NOT_PRIVATE}"
        rows = await self.db.fetchall(
            "SELECT v.user_id, w.title, w.year, coalesce(w.thread_id, w.channel_id), "
            "v.take_message_id FROM viewings v JOIN weeks w ON w.id = v.week_id "
            "WHERE w.guild_id = ? AND w.started_at >= ? AND w.started_at < ? "
            f"AND w.ended_at IS NOT NULL AND v.take_message_id IS NOT NULL{whose} "
            "ORDER BY w.started_at, v.take_message_id",
            (guild_id, span.start, span.end, *params),
        )
        counts = await self.recorder.counts([int(row[4]) for row in rows])
        best = max(rows, key=lambda row: counts.get(row[4], 0), default=None)
        if best is None or not counts.get(best[4]):
            return None
        user_id, title, year, channel_id, message_id = best
        return Take(user_id, Film(0, title, year), counts[message_id], channel_id, message_id)

    async def _quote(
        self, guild_id: int, span: Span, member_id: int | None
    ) -> tuple[Quote, int] | None:
        if member_id is None:  # the club's: from the quotes' rows (migration 0037), as `leading`
            ranked = await self.recorder.leading(guild_id, span.start, "quote", CANDIDATES)
            best = await self._saved_in(guild_id, span, ranked)
            if len(ranked) < CANDIDATES or (best is not None and best[1] > ranked[-1][1]):
                return best  # no quote past the candidates has as many reactions
            sums, params = quote_sums(guild_id, span.start // DAY)
            row = await self.db.fetchone(
                f"SELECT q.*, c.total AS reactions FROM ({sums}) c "
                "JOIN quotes q ON q.id = c.quote_id "
                "WHERE q.guild_id = ? AND q.saved_at >= ? AND q.saved_at < ? "
                "ORDER BY c.total DESC, q.number LIMIT 1",
                (*params, guild_id, span.start, span.end),
            )
            return (quote_from(row), int(row["reactions"])) if row else None
        whose = (" AND (q.author_id = ? OR q.saved_by = ?)", (member_id, member_id))
        row = await self.db.fetchone(
            "SELECT q.*, count(*) AS reactions FROM quotes q "
            "JOIN tracked_messages t ON t.quote_id = q.id "
            "JOIN reactions r ON r.message_id = t.message_id "
            f"WHERE q.guild_id = ? AND q.saved_at >= ? AND q.saved_at < ?{whose[0]} "
            "GROUP BY q.id ORDER BY count(*) DESC, q.number LIMIT 1",
            (guild_id, span.start, span.end, *whose[1]),
        )
        return (quote_from(row), int(row["reactions"])) if row else None

    async def _saved_in(
        self, guild_id: int, span: Span, ranked: list[tuple[int, int]]
    ) -> tuple[Quote, int] | None:
        """Of the ranked (quote, reactions), the quote saved in the year with the most, the
        lower number first among equals."""
        if not ranked:
            return None
        totals = dict(ranked)
        marks = ", ".join("?" for _ in totals)
        rows = await self.db.fetchall(
            f"SELECT * FROM quotes WHERE id IN ({marks}) AND guild_id = ? "
            "AND saved_at >= ? AND saved_at < ?",
            (*totals, guild_id, span.start, span.end),
        )
        row = min(rows, key=lambda row: (-totals[row["id"]], row["number"]), default=None)
        return (quote_from(row), totals[row["id"]]) if row is not None else None

    async def _section(
        self, guild_id: int, span: Span, member_id: int | None
    ) -> SectionOfYear | None:
        """The section whose posts got the most reactions and quotes saved in the year, the
        lower id first among equals; a section removed since is passed over. The quotes are
        counted while the reactions are: the club's year's reads on PostgreSQL 20.3-20.6 →
        17.5-19.6 ms p50 (three processes each way), on SQLite within the noise."""
        saved, params = self._whose(member_id, "saved_by")
        quoting = self.db.fetchall(
            "SELECT section_id, count(*) FROM quotes WHERE guild_id = ? "
            f"AND section_id IS NOT NULL AND saved_at >= ? AND saved_at < ?{saved} "
            "GROUP BY section_id",
            (guild_id, span.start, span.end, *params),
        )
        if member_id is not None:
            quoted, reactions = await asyncio.gather(
                quoting, self._member_sections(guild_id, span, member_id)
            )
            return await self._first_section(reactions, sections_quoted(quoted))
        # The club's: its most-reacted sections first (as for its quote of the year,
        # CANDIDATES). A section past them has no more reactions than the last of them, and no
        # more quotes than the most quoted of those left out.
        quoted, (ranked, sums, sums_params) = await asyncio.gather(
            quoting, self._club_sections(guild_id, span)
        )
        quotes = sections_quoted(quoted)
        if len(ranked) < CANDIDATES:
            return await self._first_section(ranked, quotes)
        ranked_ids = {int(row[0]) for row in ranked}
        left_out = max((n for s, n in quotes.items() if s not in ranked_ids), default=0)
        best = await self._first_section(
            ranked, {s: quotes.get(s, 0) for s in ranked_ids}, above=int(ranked[-1][1]) + left_out
        )
        if best is not None:
            return best
        return await self._first_section(await self.db.fetchall(sums, sums_params), quotes)

    async def _club_sections(
        self, guild_id: int, span: Span
    ) -> tuple[list[Row], str, tuple[int, ...]]:
        """The CANDIDATES sections whose posts got the most reactions in the year, from the
        counts per week and day, and the statement that sums every section's."""
        sums, params = counted_sums(
            "reaction",
            "section_id",
            guild_id,
            await self.recorder.period(guild_id, span.start, span.end),
            " AND section_id <> 0",
        )
        ranked = await self.db.fetchall(
            f"{sums} ORDER BY total DESC, section_id LIMIT ?", (*params, CANDIDATES)
        )
        return ranked, sums, params

    async def _first_section(
        self,
        reactions: Sequence[Row] | Sequence[tuple[int, int]],
        quotes: dict[int, int],
        above: int | None = None,
    ) -> SectionOfYear | None:
        """The section with the most reactions and quotes together of (section, reactions) and
        {section: quotes}, the lower id first among equals, passing over sections removed
        since; with `above`, only one with more than that in all (None otherwise)."""
        scores: dict[int, list[int]] = {}
        for section_id, count in reactions:
            scores.setdefault(int(section_id), [0, 0])[0] += int(count)
        for section_id, count in quotes.items():
            scores.setdefault(section_id, [0, 0])[1] += count
        ranked = sorted(scores.items(), key=lambda item: (-sum(item[1]), item[0]))
        for section_id, (reaction_count, quote_count) in ranked:
            if above is not None and reaction_count + quote_count <= above:
                return None
            row = await self.db.fetchone(
                "SELECT e.title, s.heading FROM sections s JOIN essays e ON e.id = s.essay_id "
                "WHERE s.id = ?",
                (section_id,),
            )
            if row is not None:  # a section removed since is passed over
                return SectionOfYear(row[0], row[1], reaction_count, quote_count)
        return None

    async def _member_sections(
        self, guild_id: int, span: Span, member_id: int
    ) -> list[tuple[int, int]]:
        """(section, the member's reactions of the year to its posts). There is no index of
        reactions by member. SQLite looks each post showing a section up with the member's id,
        in the order of the posts' ids, which is the order of `reactions`' key: one post's
        lookup finds the pages the last one read (the benchmark's 40,000 posts: 95-98 ms in
        the order of their sections, 22.5 in theirs). The posts are split into ranges of about
        as many, one for each of its readers, read at once. PostgreSQL reads the member's
        reactions through the primary key's index, whose second column is the member (migration
        postgresql/0027: 62 → 16 ms)."""
        if self.db.backend != "sqlite":
            rows = await self.db.fetchall(
                "SELECT section_id, reactions FROM member_year_sections(?, ?, ?, ?)",
                (guild_id, member_id, span.start, span.end),
            )
            return [(int(row[0]), int(row[1])) for row in rows]
        count = await self.db.fetchval(
            "SELECT count(*) FROM tracked_messages WHERE section_id IS NOT NULL"
        )
        if not count:
            return []
        ranges = await split_ids(
            self.db,
            "SELECT message_id FROM tracked_messages WHERE section_id IS NOT NULL "
            "ORDER BY message_id",
            (),
            int(count),
        )
        counts: dict[int, int] = {}
        for part in await asyncio.gather(
            *(
                # Both ends written, the open ones too: with one end alone SQLite reads the
                # posts through the index of their sections, in the order of the sections.
                self.db.fetchall(
                    "SELECT t.section_id, count(*) FROM tracked_messages t "
                    "JOIN reactions r ON r.message_id = t.message_id "
                    "WHERE t.message_id >= ? AND t.message_id < ? AND t.guild_id = ? "
                    "AND t.section_id IS NOT NULL AND r.created_at >= ? AND r.created_at < ? "
                    "AND r.user_id = ? GROUP BY t.section_id",
                    (
                        0 if start is None else start,
                        LAST_ID if end is None else end,
                        guild_id,
                        span.start,
                        span.end,
                        member_id,
                    ),
                )
                for start, end in ranges
            )
        ):
            for section_id, n in part:  # a section's posts may be in several ranges
                counts[int(section_id)] = counts.get(int(section_id), 0) + int(n)
        return list(counts.items())


def sections_quoted(rows: Sequence[Row]) -> dict[int, int]:
    """{section: quotes saved from it} of (section, quotes) rows."""
    return {int(section_id): int(count) for section_id, count in rows}


def year_lines(
    y: YearInFilm, name: Callable[[int], str], text: Callable[[str], str]
) -> list[tuple[str, str]]:
    """The year as (label, fact) lines, shared by the embed and the card: `name` shows a member
    (a mention, or a display name on the card), `text` shows words members wrote."""
    lines: list[tuple[str, str]] = []
    logged = plural(y.films, "film")
    if y.viewings != y.films:
        logged += f" ({plural(y.viewings, 'viewing')})"
    if y.member_id is None and y.members:
        logged += f" by {plural(y.members, 'member')}"
    lines.append(("Logged", logged if y.viewings else "Nothing logged yet"))
    if y.best_week is not None:
        rating = f"{y.best_week.rating / 2:.1f}/5"
        rated = (
            rating
            if y.member_id is not None
            else f"{rating} from {plural(y.best_week.raters, 'rating')}"
        )
        lines.append(
            ("Film of the week rated highest", f"{text(y.best_week.film.film_line)}, {rated}")
        )
    if y.match is not None:
        lines.append(
            (
                "Closest taste",
                f"{name(y.match.member_id)}, {round(y.match.score)}/100 over {plural(y.match.films, 'film')}",
            )
        )
    if y.take is not None:
        by = "" if y.member_id is not None else f" by {name(y.take.member_id)}"
        lines.append(
            (
                "Most-reacted take",
                f"On {text(y.take.film.film_line)}{by}: {plural(y.take.reactions, 'reaction')}",
            )
        )
    if y.quote is not None:
        quote, reactions = y.quote
        lines.append(
            (
                "Most-reacted quote",
                f"{plural(reactions, 'reaction')} · #{quote.number} "
                f"“{text(truncate(quote.text, 80))}”",
            )
        )
    if y.section is not None:
        parts = [plural(y.section.reactions, "reaction")]
        if y.section.quotes:
            parts.append(plural(y.section.quotes, "quote"))
        lines.append(
            (
                "Section that moved "
                + ("them" if y.member_id is not None else "the club")
                + " most",
                f"{', '.join(parts)} · {text(truncate(y.section.heading, 80))} "
                f"in {text(truncate(y.section.essay, 60))}",
            )
        )
    if y.diarist is not None:
        lines.append(
            ("Most films logged", f"{name(y.diarist[0])}, {plural(y.diarist[1], 'viewing')}")
        )
    return lines
