from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UserError
from bot.films.schedule import (
    match_zones,
    next_slot,
    parse_days,
    parse_time_of_day,
    slots_between,
    week_end,
    zone,
)

NY = ZoneInfo("America/New_York")


def ts(*args) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


def local(epoch: int, tz=NY) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).astimezone(tz)


def test_daily_slots_stay_at_local_time_across_spring_forward():
    start = ts(2026, 3, 5, 15)
    end = week_end(start, NY, 7)
    slots = slots_between(start, end, NY, parse_time_of_day("18:00"), "daily")
    assert [local(s).strftime("%m-%d %H:%M") for s in slots] == [
        f"03-{d:02} 18:00" for d in range(5, 12)
    ]
    assert [datetime.fromtimestamp(s, UTC).hour for s in slots] == [23, 23, 23, 22, 22, 22, 22]
    assert local(end).strftime("%m-%d %H:%M") == "03-12 10:00"


def test_a_time_that_does_not_exist_moves_forward():
    slot = next_slot(ts(2026, 3, 8, 0), NY, parse_time_of_day("02:30"), "daily")
    assert local(slot).strftime("%m-%d %H:%M %Z") == "03-08 03:30 EDT"


def test_a_time_that_happens_twice_fires_once():
    at = parse_time_of_day("01:30")
    slots = slots_between(ts(2026, 10, 31, 12), ts(2026, 11, 2, 12), NY, at, "daily")
    assert [datetime.fromtimestamp(s, UTC).strftime("%m-%d %H:%M") for s in slots] == [
        "11-01 05:30",
        "11-02 06:30",
    ]


def test_weekdays_only():
    slots = slots_between(
        ts(2026, 3, 2, 0),
        ts(2026, 3, 9, 0),
        ZoneInfo("UTC"),
        parse_time_of_day("9:00"),
        "mon,wed,fri",
    )
    assert [datetime.fromtimestamp(s, UTC).strftime("%a") for s in slots] == ["Mon", "Wed", "Fri"]


@pytest.mark.parametrize(
    ("text", "hhmm"),
    [
        ("18:00", "18:00"),
        ("6pm", "18:00"),
        ("6:30 pm", "18:30"),
        ("0730", "07:30"),
        ("12am", "00:00"),
    ],
)
def test_times_of_day(text, hhmm):
    assert parse_time_of_day(text).strftime("%H:%M") == hhmm


@pytest.mark.parametrize("text", ["25:00", "18:75", "noonish", "13pm"])
def test_bad_times_are_refused(text):
    with pytest.raises(UserError, match="HH:MM"):
        parse_time_of_day(text)


def test_days():
    assert parse_days("Monday, wed  fri") == "mon,wed,fri"
    assert parse_days("sun,sat") == "sat,sun"
    assert parse_days("mon,tue,wed,thu,fri,sat,sun") == "daily"
    with pytest.raises(UserError):
        parse_days("mo")


def test_zones():
    assert zone("america/new_york").key == "America/New_York"
    with pytest.raises(UserError, match="America/New_York"):
        zone("America/NewYork")
    assert match_zones("new_y")[0] == "America/New_York"
    assert len(match_zones("a")) == 25
