from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UserError
from bot.films.schedule import (
    day_before,
    local_line,
    match_zones,
    next_slot,
    parse_days,
    parse_moment,
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


def test_a_screening_time_is_read_in_the_servers_zone_as_moderators_write_it():
    tz = ZoneInfo("America/New_York")
    now = int(datetime(2026, 3, 5, 15, tzinfo=UTC).timestamp())  # Thursday 10:00 in New York
    sunday_8pm = int(datetime(2026, 3, 9, 0, tzinfo=UTC).timestamp())  # after the clock change
    for typed in (
        "2026-03-08 20:00",
        "2026-03-08T20:00",
        "8 Mar 8pm",
        "March 8 20:00",
        "sunday 20:00",
        "Sun at 8 pm",
    ):
        assert parse_moment(typed, tz, now) == sunday_8pm, typed
    assert local_line(parse_moment("9:00", tz, now), tz) == "Friday 6 March 2026, 09:00"
    assert local_line(parse_moment("thursday 9:00", tz, now), tz) == "Thursday 12 March 2026, 09:00"
    assert local_line(parse_moment("tomorrow 19:30", tz, now), tz) == "Friday 6 March 2026, 19:30"
    # The day before at the same local time: 23 hours before across the spring change.
    assert sunday_8pm - day_before(sunday_8pm, tz) == 23 * 3600
    for typed, message in (
        ("soon", "is not a date and time I can read"),
        ("2026-02-30 20:00", "is not a date and time I can read"),
        ("today 9:00", "Thursday 5 March 2026, 09:00 has already passed in America/New_York"),
    ):
        with pytest.raises(UserError, match=message):
            parse_moment(typed, tz, now)
