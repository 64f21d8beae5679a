"""A period of the reactions' counts as the database keeps them: per UTC day (migration 0021) and
per week of seven such days (0025), a server's weeks once sealed (the weeks before its
`reaction_weeks_sealed.week`). A period is read as its whole sealed weeks, a row a week for each
post shown or member, at most three days at its start, added where the period covers fewer than
four days of a week and taken away from a whole week where it covers more, and its days after
the last sealed week (or at most three at its end). A month's ranking of members reads about
seven rows a member instead of thirty. A period of half a year or more reads its whole weeks
likewise as whole quarters of thirteen weeks (migration 0032) and at most six weeks at its start
and twelve at its end (none when it runs to now, below).

A server's weeks are sealed in order and stay sealed: a period made from an older `sealed` than
the database's reads more days and counts the same. A period read by quarter that runs to now,
or to a day not reached yet (as this year does: no week from its end on can be sealed before it
ends), reads every quarter from its first on, the one going on included (a quarter's row holds
its sealed weeks alone), and its days from the first week not sealed as the statement itself
reads it: one statement reads one state of the database, so a week sealed since the period was
made is counted once, from its quarter's row and not from its days."""

from __future__ import annotations

from dataclasses import dataclass

WEEK = 7  # days; weeks are counted from day 0 (1970-01-01): week = day // 7
OPEN = 2**31 - 1  # a day past every stored one: the end of a period that runs to now
WHOLE_WEEKS_FROM = 14  # days: a shorter period is read by its days
QUARTER = 13  # weeks; quarters are counted from week 0: quarter = week // 13
WHOLE_QUARTERS_FROM = 2 * QUARTER  # weeks: fewer whole weeks are read by their weeks
QUARTERED = frozenset({"reaction", "member_reaction"})  # the counts also kept per quarter
# Every table of the counts: the posts' and the members', per day, week and quarter.
COUNT_TABLES = (
    "reaction_days",
    "member_reaction_days",
    "reaction_weeks",
    "member_reaction_weeks",
    "reaction_quarters",
    "member_reaction_quarters",
)


@dataclass(frozen=True)
class Period:
    """The days [first, end) as the weeks [weeks[0], weeks[1]) and two runs of days
    (first, end, sign), each added (1) or taken away (-1); an empty run has first == end. A
    period read by quarter that runs to now, or to a day not reached yet, has no end to its
    weeks and quarters (OPEN), and its last run of days starts no earlier than the first week
    the statement finds not sealed (`from_sealed`; see the module's doc)."""

    weeks: tuple[int, int]
    days: tuple[tuple[int, int, int], tuple[int, int, int]]
    # The same weeks as the quarters [quarters[0], quarters[1]) and two runs of weeks (first,
    # end, sign), for the counts kept per quarter; no quarters ((0, 0)) for fewer weeks.
    quarters: tuple[int, int] = (0, 0)
    quarter_weeks: tuple[tuple[int, int, int], tuple[int, int, int]] = ((0, 0, 1), (0, 0, 1))
    from_sealed: bool = False


def counted_period(
    first: int, end: int = OPEN, sealed: int = OPEN, *, running: bool = False
) -> Period:
    """The days from `first` up to `end` (excluded; every day from `first` on without it), of a
    server whose weeks before `sealed` are kept. `running`: `end` is not reached yet (as
    without it), so that no week from it on can be sealed before the period is read."""
    week, into = divmod(first, WEEK)
    if into == 0:
        start, head = week, (first, first, 1)
    elif into <= 3:
        start, head = week, (week * WEEK, first, -1)
    else:
        start, head = week + 1, (first, (week + 1) * WEEK, 1)
    if (end != OPEN and end - first < WHOLE_WEEKS_FROM) or start >= sealed:
        return Period((0, 0), ((first, end, 1), (first, first, 1)))
    if end == OPEN:
        stop, tail = OPEN, (end, end, 1)
    else:
        week, into = divmod(end, WEEK)
        if into == 0:
            stop, tail = week, (end, end, 1)
        elif into >= 4:
            stop, tail = week + 1, (end, (week + 1) * WEEK, -1)
        else:
            stop, tail = week, (week * WEEK, end, 1)
    to_sealed = stop > sealed  # its end is past the weeks sealed
    if to_sealed:
        stop, tail = sealed, (sealed * WEEK, end, 1)
    quarters, quarter_weeks = in_quarters(start, stop, sealed)
    if to_sealed and (running or end == OPEN) and quarters[0] < quarters[1]:
        # Every sealed row from the start on, and the days after them (see the module's doc):
        # the quarter going on is one row, not the up to twelve weeks of it sealed so far.
        return Period(
            (start, OPEN),
            (head, tail),
            (quarters[0], OPEN),
            (quarter_weeks[0], (OPEN, OPEN, 1)),
            from_sealed=True,
        )
    return Period((start, stop), (head, tail), quarters, quarter_weeks)


def in_quarters(
    first: int, end: int, sealed: int
) -> tuple[tuple[int, int], tuple[tuple[int, int, int], tuple[int, int, int]]]:
    """The weeks [first, end), all sealed, as whole quarters and two runs of weeks: at its start
    at most six weeks, added or taken away from the first quarter, and at its end at most six
    taken away from a quarter whose weeks are all sealed, or else at most twelve added."""
    if end - first < WHOLE_QUARTERS_FROM:
        return (0, 0), ((first, first, 1), (first, first, 1))
    quarter, into = divmod(first, QUARTER)
    if into == 0:
        start, head = quarter, (first, first, 1)
    elif into <= QUARTER // 2:
        start, head = quarter, (quarter * QUARTER, first, -1)
    else:
        start, head = quarter + 1, (first, (quarter + 1) * QUARTER, 1)
    quarter, into = divmod(end, QUARTER)
    if into == 0:
        stop, tail = quarter, (end, end, 1)
    elif into > QUARTER // 2 and (quarter + 1) * QUARTER <= sealed:
        stop, tail = quarter + 1, (end, (quarter + 1) * QUARTER, -1)
    else:
        stop, tail = quarter, (quarter * QUARTER, end, 1)
    return (start, stop), (head, tail)


def counted_rows(
    stem: str, columns: str, guild_id: int, period: Period, where: str = "", *, also: str = ""
) -> tuple[str, tuple[int, ...]]:
    """A query of `columns` and each row's reactions as `n` (taken away as negative) of the
    server's counts in `period`, from `{stem}_weeks` and `{stem}_days`, with the condition
    `where` (starting with AND) on each; and its parameters (the server). Its rows are to be
    summed: a post or member may have several, and a sum of 0 means none in the period. With
    `also`, the reactions again as a column of that name, to be summed apart from what else a
    caller adds to `n`.

    The period's days and weeks are written into the query (integers made here; the first week
    not sealed is also read by the statement where the period runs to now): PostgreSQL
    plans a prepared statement once for any values after a few runs, and a plan for any period
    read the union's empty parts as if they were full (the quotes' ranking from their days,
    13.5 ms p50 with one plan, 11.2 planned for its values). Parts that would read nothing are
    left out: the quotes' month of days as a union with two of them took PostgreSQL 10.3-10.9
    ms p50 against 9.1-9.3 alone (of 9,500 quotes it expected 67 from the union, 1,881 from the
    days alone), SQLite 4.9 against 4.6."""
    parts = []
    first_quarter, end_quarter = (int(quarter) for quarter in period.quarters)
    if stem in QUARTERED and first_quarter < end_quarter:
        parts.append(
            f"SELECT {columns}, reactions AS n{twice('reactions', also)} FROM {stem}_quarters "
            "WHERE guild_id = ? "
            f"AND quarter >= {first_quarter} AND quarter < {end_quarter}{where}"
        )
        weeks = [run for run in period.quarter_weeks if run[0] < run[1]]
    else:
        weeks = [(*period.weeks, 1)] if period.weeks[0] < period.weeks[1] else []
    for first, end, sign in weeks:
        n = "reactions" if sign == 1 else f"{int(sign)} * reactions"
        parts.append(
            f"SELECT {columns}, {n} AS n{twice(n, also)} FROM {stem}_weeks "
            f"WHERE guild_id = ? AND week >= {int(first)} AND week < {int(end)}{where}"
        )
    servers = len(parts)
    runs = [(last, run) for last, run in enumerate(period.days) if run[0] < run[1]]
    for last, (first, end, sign) in runs or ([] if parts else [(0, period.days[0])]):
        n = "reactions" if sign == 1 else f"{int(sign)} * reactions"
        after_sealed = ""
        if last and period.from_sealed:
            # The day written here for the planner's estimate, and the weeks sealed since.
            after_sealed = (
                " AND day >= coalesce((SELECT week * 7 FROM reaction_weeks_sealed "
                f"WHERE guild_id = ?), {int(first)})"
            )
            servers += 1
        parts.append(
            f"SELECT {columns}, {n} AS n{twice(n, also)} FROM {stem}_days WHERE guild_id = ? "
            f"AND day >= {int(first)}{after_sealed} AND day < {int(end)}{where}"
        )
        servers += 1
    return " UNION ALL ".join(parts), (guild_id,) * servers


def twice(n: str, also: str) -> str:
    """`n` again as `also`, for `counted_rows`; nothing without it."""
    return f", {n} AS {also}" if also else ""


def counted_sums(
    stem: str, column: str, guild_id: int, period: Period, where: str = ""
) -> tuple[str, tuple[int, ...]]:
    """`counted_rows` summed: a query of each `column` value with reactions in `period`, and
    their number as `total`; and its parameters."""
    rows, params = counted_rows(stem, column, guild_id, period, where)
    sql = (
        f"SELECT {column}, CAST(sum(n) AS BIGINT) AS total FROM ({rows}) every "
        f"GROUP BY {column} HAVING sum(n) > 0"
    )
    return sql, params


def quote_sums(guild_id: int, first: int) -> tuple[str, tuple[int, ...]]:
    """A query of each quote with reactions from the UTC day `first` on, and their number as
    `total`; and its parameters. Read from the quote's row of `quote_reactions` (migration
    0037): all its reactions when it was first counted on `first` or after, those of its latest
    run when that began on `first` or after with none between; else summed from its days. The
    day is written into the query, as `counted_rows` writes its days."""
    first = int(first)
    sql = (
        "SELECT quote_id, total FROM (SELECT quote_id, CASE "
        f"WHEN first_day >= {first} THEN reactions "
        f"WHEN before_run_day < {first} AND run_first_day >= {first} THEN run_reactions "
        "ELSE (SELECT sum(d.reactions) FROM reaction_days d WHERE d.guild_id = q.guild_id "
        f"AND d.quote_id = q.quote_id AND d.quote_id <> 0 AND d.day >= {first}) END AS total "
        f"FROM quote_reactions q WHERE q.guild_id = ? AND q.last_day >= {first}) quoted "
        "WHERE total > 0"
    )
    return sql, (guild_id,)
