"""Local times in a server's zone: prompt slots, week ends. Pure functions over UTC epoch seconds.

A local time that does not exist on a day (the spring-forward gap) moves forward by the gap; one
that happens twice (the fall-back hour) is its first occurrence, so it fires once.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from bot.errors import UserError
from bot.text import closest, fold, is_number, shown

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        strict=True,
    )
)
DAILY = "daily"


@lru_cache(maxsize=1)
def all_zones() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`, or a UserError with the closest names."""
    exact = {fold(z): z for z in all_zones()}.get(fold(name))
    if exact:
        return ZoneInfo(exact)
    suggestions = closest(name.replace(" ", "_"), list(all_zones()))
    hint = f" Did you mean {', '.join(f'`{s}`' for s in suggestions)}?" if suggestions else ""
    raise UserError(
        f"“{shown(name)}” is not a time zone I know.{hint} Use a name like `America/New_York`."
    )


def match_zones(typed: str, limit: int = 25) -> list[str]:
    query = fold(typed).replace(" ", "_")
    if not query:
        return ["UTC", "America/New_York", "Europe/London", "Europe/Berlin", "Asia/Tokyo"][:limit]
    starts = [z for z in all_zones() if fold(z).startswith(query)]
    parts = [z for z in all_zones() if query in fold(z) and z not in starts]
    found = starts + parts
    return (found or closest(query, list(all_zones()), limit))[:limit]


def parse_time_of_day(text: str) -> time:
    """`18:00`, `6pm`, `6:30 pm`, `0730` -> a time; a UserError otherwise."""
    cleaned = text.strip().lower().replace(".", "")
    match = re.fullmatch(r"(\d{1,2})(?::?(\d{2}))?\s*(am|pm)?", cleaned, re.ASCII)
    if match:
        hour, minute, half = int(match[1]), int(match[2] or 0), match[3]
        valid = 1 <= hour <= 12 if half else hour < 24
        if half:
            hour = hour % 12 + (12 if half == "pm" else 0)
        if valid and minute < 60:
            return time(hour, minute)
    raise UserError(f"“{shown(text)}” is not a time of day. Use 24-hour `HH:MM`, like `18:00`.")


def parse_days(text: str) -> str:
    """`daily`, or weekdays like `mon,wed,fri` (full names too) -> the normalized form."""
    cleaned = text.strip().lower()
    if cleaned in ("daily", "every day", "everyday", "all"):
        return DAILY
    days = []
    for part in re.split(r"[\s,;/]+", cleaned):
        if not part:
            continue
        day = next(
            (d for d, full in DAY_NAMES.items() if len(part) >= 3 and full.startswith(part)), None
        )
        if day is None:
            raise UserError(
                f"“{shown(text)}” is not a list of days. Use `daily`, or weekdays like `mon,wed,fri`."
            )
        if day not in days:
            days.append(day)
    if not days:
        raise UserError("Give at least one day, or `daily`.")
    if len(days) == 7:
        return DAILY
    return ",".join(sorted(days, key=WEEKDAYS.index))


def day_numbers(days: str) -> set[int]:
    return set(range(7)) if days == DAILY else {WEEKDAYS.index(d) for d in days.split(",")}


def local_instant(day: date, at: time, tz: ZoneInfo) -> int:
    """UTC epoch seconds of `at` on local `day` (gap: moved forward; repeated hour: first)."""
    local = datetime.combine(day, at, tzinfo=tz)
    # fold=0 reads a nonexistent time with the offset from before the change: that instant is
    # the same wall time moved forward by the gap, and an ambiguous time its first occurrence.
    return int(local.astimezone(UTC).timestamp())


def next_slot(
    after: int, tz: ZoneInfo, at: time, days: str, before: int | None = None
) -> int | None:
    """The first prompt instant strictly after `after` (and before `before`, if given)."""
    wanted = day_numbers(days)
    start = datetime.fromtimestamp(after, UTC).astimezone(tz).date() - timedelta(days=1)
    for offset in range(16):
        day = start + timedelta(days=offset)
        if day.weekday() not in wanted:
            continue
        instant = local_instant(day, at, tz)
        if instant > after:
            return instant if before is None or instant < before else None
    return None


def slots_between(start: int, end: int, tz: ZoneInfo, at: time, days: str) -> list[int]:
    slots: list[int] = []
    current = next_slot(start, tz, at, days, end)
    while current is not None:
        slots.append(current)
        current = next_slot(current, tz, at, days, end)
    return slots


def week_end(start: int, tz: ZoneInfo, length_days: int) -> int:
    """`length_days` later at the same local wall time."""
    local = datetime.fromtimestamp(start, UTC).astimezone(tz)
    later = datetime.combine(
        local.date() + timedelta(days=length_days), local.timetz().replace(tzinfo=None), tzinfo=tz
    )
    return int(later.astimezone(UTC).timestamp())


def describe_days(days: str) -> str:
    if days == DAILY:
        return "every day"
    return ", ".join(d.title() for d in days.split(","))


MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
MOMENT = re.compile(
    r"(?P<day>.*?)\s*(?:\bat\s+)?(?P<time>\d{1,2}(?::?\d{2})?\s*(?:am|pm)?)", re.ASCII
)
MOMENT_EXAMPLES = "`2026-12-05 20:00`, `5 Dec 8pm`, `saturday 20:00` or `tomorrow 19:30`"


def _month(word: str) -> int | None:
    if len(word) < 3:
        return None
    return next((i + 1 for i, name in enumerate(MONTHS) if name.startswith(word)), None)


def _is_weekday(word: str) -> int | None:
    """The weekday's number (Monday 0) for `sat`, `saturday`; None for anything else."""
    if len(word) < 3:
        return None
    return next((i for i, full in enumerate(DAY_NAMES.values()) if full.startswith(word)), None)


def _day(text: str, today: date) -> date | None:
    """The local day a moderator typed: a date, a weekday (the next one), today or tomorrow."""
    words = text.replace(",", " ").split()
    if not words or words == ["today"] or words == ["tonight"]:
        return today
    if words == ["tomorrow"]:
        return today + timedelta(days=1)
    if len(words) == 1 and (
        iso := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", words[0], re.ASCII)
    ):
        try:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            return None
    if len(words) == 1 and (weekday := _is_weekday(words[0])) is not None:
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    numbers = [w for w in words if is_number(w)]
    months = [m for w in words if not is_number(w) and (m := _month(w))]
    if len(months) == 1 and 1 <= len(numbers) <= 2 and len(numbers) + 1 == len(words):
        day_number = int(numbers[0])
        year = int(numbers[1]) if len(numbers) == 2 else today.year
        try:
            found = date(year, months[0], day_number)
        except ValueError:
            return None
        if len(numbers) == 1 and found < today:
            found = found.replace(year=today.year + 1)
        return found
    return None


def parse_moment(text: str, tz: ZoneInfo, now: int) -> int:
    """A local date and time as a moderator types it -> UTC epoch seconds, strictly after `now`.
    A time alone is the next time it comes round; a weekday, the next such day it is ahead."""
    cleaned = re.sub(
        r"^(\d{4}-\d{1,2}-\d{1,2})t", r"\1 ", " ".join(text.lower().split()), flags=re.ASCII
    )
    match = MOMENT.fullmatch(cleaned)
    today = datetime.fromtimestamp(now, UTC).astimezone(tz).date()
    day = _day(match["day"], today) if match else None
    if match is None or day is None:
        raise UserError(
            f"“{shown(text)}” is not a date and time I can read. Write it in the server's time "
            f"zone ({tz.key}), like {MOMENT_EXAMPLES}."
        )
    at = parse_time_of_day(match["time"])
    instant = local_instant(day, at, tz)
    words = match["day"].split()
    if instant <= now and not words:
        instant = local_instant(day + timedelta(days=1), at, tz)
    elif instant <= now and len(words) == 1 and _is_weekday(words[0]) is not None:
        instant = local_instant(day + timedelta(days=7), at, tz)
    if instant <= now:
        raise UserError(
            f"{local_line(instant, tz)} has already passed in {tz.key}. Give a time ahead, like "
            f"{MOMENT_EXAMPLES}."
        )
    return instant


def day_before(instant: int, tz: ZoneInfo) -> int:
    """The same local wall time on the day before (24 hours, or 23 or 25 across a clock
    change): what "tomorrow at 20:00" means to the members reading it."""
    local = datetime.fromtimestamp(instant, UTC).astimezone(tz)
    return local_instant(local.date() - timedelta(days=1), local.time().replace(tzinfo=None), tz)


def local_line(instant: int, tz: ZoneInfo) -> str:
    """`Saturday 5 December 2026, 20:00` in the zone (for replies that must not depend on the
    reader's own zone)."""
    local = datetime.fromtimestamp(instant, UTC).astimezone(tz)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M}"
