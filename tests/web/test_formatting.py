"""Times of day shown to race control and typed back in for corrections."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.web.formatting import format_minutes, format_time_of_day, parse_time_of_day

S = 1_000_000
NOON = 1_700_049_600 * S  # 2023-11-15 12:00:00 UTC
PARIS = timezone(timedelta(hours=1))


def test_format_time_of_day() -> None:
    assert format_time_of_day(None) == ""
    assert format_time_of_day(NOON, UTC) == "12:00:00"
    assert format_time_of_day(NOON + 1_234_567, UTC, millis=True) == "12:00:01.234"
    assert format_time_of_day(NOON, PARIS) == "13:00:00"


@pytest.mark.parametrize(
    ("text", "offset_us"),
    [
        ("12:00", 0),
        ("12:00:07", 7 * S),
        ("12:00:07.5", 7_500_000),
        ("12:00:07,250", 7_250_000),
        (" 11:59:59.999999 ", -1),
    ],
)
def test_parse_time_of_day(text: str, offset_us: int) -> None:
    assert parse_time_of_day(text, NOON, UTC) == NOON + offset_us


def test_parse_picks_the_day_nearest_to_now() -> None:
    just_after_midnight = NOON + 12 * 3600 * S + 60 * S  # 00:01 the next day
    assert parse_time_of_day("23:58", just_after_midnight, UTC) == NOON + (11 * 3600 + 58 * 60) * S
    assert parse_time_of_day("00:00:30", just_after_midnight, UTC) == just_after_midnight - 30 * S


@pytest.mark.parametrize("text", ["", "12", "24:00", "12:60", "12:00:61", "noon", "1:2:3:4"])
def test_parse_refuses_what_is_not_a_time(text: str) -> None:
    with pytest.raises(ValueError, match="time of day"):
        parse_time_of_day(text, NOON, UTC)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-11 * 3600 * S, max_value=11 * 3600 * S))
def test_shown_times_read_back_to_the_millisecond(offset_us: int) -> None:
    at = NOON + offset_us
    for tz in (UTC, PARIS, None):
        shown = format_time_of_day(at, tz, millis=True)
        assert parse_time_of_day(shown, NOON, tz) == at - at % 1000


def test_format_minutes() -> None:
    assert format_minutes(None) == ""
    assert format_minutes(1) == "in 1 min"
    assert format_minutes(42 * 60 * S) == "in 42 min"
    assert format_minutes(65 * 60 * S) == "in 1 h 05 min"
