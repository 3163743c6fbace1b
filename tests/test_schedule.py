"""Due-time computation: local wall-clock times in any zone, across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.daily import schedule

PARIS, NEW_YORK = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09:00", time(9)), ("9:05", time(9, 5)), ("23:59", time(23, 59)), ("07.30", time(7, 30))],
)
def test_times_in_the_usual_spellings(text: str, expected: time) -> None:
    assert schedule.parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "9", "9am", "12:60", "-1:00", "", "09:00:00", "١٢:٠٠"])
def test_bad_times_are_refused(text: str) -> None:
    assert schedule.parse_time(text) is None


def test_zones_by_name_case_insensitively_and_nothing_else() -> None:
    assert schedule.parse_zone("Europe/Paris") == PARIS
    assert schedule.parse_zone("europe/paris") == PARIS
    assert schedule.parse_zone("america/new_york") == NEW_YORK
    assert schedule.parse_zone("UTC") == ZoneInfo("UTC")
    for bad in ["Mars/Olympus", "../../etc/passwd", "/etc/localtime", "Europe/", "x" * 80, ""]:
        assert schedule.parse_zone(bad) is None


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        ("UTC", date(2024, 6, 3), utc(2024, 6, 3, 9)),
        ("Europe/Paris", date(2024, 6, 3), utc(2024, 6, 3, 7)),  # CEST, +2
        ("Europe/Paris", date(2024, 1, 15), utc(2024, 1, 15, 8)),  # CET, +1
        ("Asia/Tokyo", date(2024, 6, 3), utc(2024, 6, 3, 0)),
        ("Asia/Kolkata", date(2024, 6, 3), utc(2024, 6, 3, 3, 30)),
        ("Asia/Kathmandu", date(2024, 6, 3), utc(2024, 6, 3, 3, 15)),
        ("America/New_York", date(2024, 6, 3), utc(2024, 6, 3, 13)),
        ("Pacific/Auckland", date(2024, 6, 3), utc(2024, 6, 2, 21)),  # the day before in UTC
    ],
)
def test_due_at_is_that_local_time(zone: str, day: date, expected: datetime) -> None:
    assert schedule.due_at(day, time(9), ZoneInfo(zone)) == expected


def test_a_skipped_time_is_still_due_that_day_just_after_the_gap() -> None:
    # 31 March 2024, Paris: 02:00 CET -> 03:00 CEST; 02:30 does not exist.
    due = schedule.due_at(date(2024, 3, 31), time(2, 30), PARIS)
    assert due == utc(2024, 3, 31, 1, 30)  # 03:30 CEST
    assert due.astimezone(PARIS).date() == date(2024, 3, 31)
    # New York, 10 March 2024: 02:00 EST -> 03:00 EDT.
    ny = schedule.due_at(date(2024, 3, 10), time(2, 30), NEW_YORK)
    assert ny.astimezone(NEW_YORK).date() == date(2024, 3, 10) and ny == utc(2024, 3, 10, 7, 30)


def test_a_repeated_time_is_due_once_at_its_first_occurrence() -> None:
    # 27 October 2024, Paris: 03:00 CEST -> 02:00 CET; 02:30 happens twice.
    day = date(2024, 10, 27)
    due = schedule.due_at(day, time(2, 30), PARIS)
    assert due == utc(2024, 10, 27, 0, 30)  # the first 02:30, still CEST
    following, nxt = schedule.next_after(day, time(2, 30), PARIS)
    assert following == date(2024, 10, 28) and nxt == utc(2024, 10, 28, 1, 30)


def test_a_gap_at_midnight() -> None:
    # Santiago, 8 September 2024: 00:00 -04 -> 01:00 -03; 00:30 does not exist.
    santiago = ZoneInfo("America/Santiago")
    due = schedule.due_at(date(2024, 9, 8), time(0, 30), santiago)
    assert due.astimezone(santiago).date() == date(2024, 9, 8)
    assert schedule.end_of_day(date(2024, 9, 7), santiago) <= due


def test_first_due_is_today_only_while_the_time_is_ahead_and_nothing_was_sent() -> None:
    now = utc(2024, 6, 3, 6)  # 08:00 in Paris
    assert schedule.first_due(time(9), PARIS, now, done_today=False) == (
        date(2024, 6, 3),
        utc(2024, 6, 3, 7),
    )
    assert schedule.first_due(time(9), PARIS, now, done_today=True)[0] == date(2024, 6, 4)
    assert schedule.first_due(time(7), PARIS, now, done_today=False)[0] == date(2024, 6, 4)


def test_catch_up_the_same_day_and_skip_whole_missed_days() -> None:
    at = time(9)
    late_same_day = utc(2024, 6, 3, 13)
    assert schedule.catch_up(date(2024, 6, 3), at, PARIS, late_same_day) == (
        date(2024, 6, 3),
        utc(2024, 6, 3, 7),
        True,
    )
    two_days_later_early = utc(2024, 6, 5, 5)  # 07:00 Paris on the 5th
    day, due, now = schedule.catch_up(date(2024, 6, 3), at, PARIS, two_days_later_early)
    assert (day, due, now) == (date(2024, 6, 5), utc(2024, 6, 5, 7), False)
    day, _, now = schedule.catch_up(date(2024, 6, 3), at, PARIS, utc(2024, 6, 5, 12))
    assert (day, now) == (date(2024, 6, 5), True)


ZONES = [
    "UTC",
    "Europe/Paris",
    "Europe/London",
    "America/New_York",
    "America/Santiago",
    "America/Havana",
    "Australia/Lord_Howe",  # 30-minute DST
    "Pacific/Chatham",
    "Asia/Tehran",
    "Africa/Casablanca",  # DST suspended during Ramadan
    "Antarctica/Troll",  # a two-hour DST shift
]


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.dates(min_value=date(2018, 1, 1), max_value=date(2035, 12, 31)),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
)
def test_every_local_date_gets_exactly_one_due_instant_on_that_date(
    zone: str, start: date, hour: int, minute: int
) -> None:
    tz, at = ZoneInfo(zone), time(hour, minute)
    previous = None
    day = start
    for _ in range(3):
        due = schedule.due_at(day, at, tz)
        assert due.astimezone(tz).date() == day
        if previous is not None:
            assert timedelta(hours=20) < due - previous < timedelta(hours=28)
        nxt_day, nxt = schedule.next_after(day, at, tz)
        assert nxt_day == day + timedelta(days=1) and nxt > due
        previous, day = due, nxt_day
