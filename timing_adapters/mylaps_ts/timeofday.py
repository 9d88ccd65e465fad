"""Times of day and dates as MyLaps Timing & Scoring writes them, in integer microseconds.

Strategy: T&S sends the local wall-clock time of a passing as ``HH:MM:SS.mmm`` and its
date as ``YYMMDD``, with no time zone. We keep both exact (integers, never floats) and
combine them into "local microseconds since 1970-01-01 00:00", the local date and time read
as if they were UTC. That number grows across midnight, so laps that span it stay positive,
and it is the same kind of number a P3 decoder's RTC gives. Parsers return None on anything
malformed and never raise; formatters raise ValueError on values that cannot be written.
"""

from __future__ import annotations

import datetime as dt
import re

US_PER_DAY = 86_400_000_000
_EPOCH = dt.date(1970, 1, 1)
_TIME = re.compile(r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?", re.ASCII)


def parse_time_of_day(text: str) -> int | None:
    """``HH:MM:SS[.ffffff]`` -> microseconds since midnight, or None if malformed."""
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    hours, minutes, seconds = (int(g) for g in match.group(1, 2, 3))
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    fraction = (match.group(4) or "").ljust(6, "0")
    return ((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + int(fraction)


def format_time_of_day(time_of_day_us: int) -> str:
    """Microseconds since midnight -> ``HH:MM:SS.mmm`` (must be whole milliseconds)."""
    if not 0 <= time_of_day_us < US_PER_DAY or time_of_day_us % 1000:
        raise ValueError(f"time of day {time_of_day_us} us is not a whole millisecond in a day")
    seconds, us = divmod(time_of_day_us, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{hour:02d}:{minute:02d}:{second:02d}.{us // 1000:03d}"


def parse_yymmdd(text: str) -> dt.date | None:
    """``YYMMDD`` (years 2000-2099) -> a date, or None if malformed."""
    if len(text) != 6 or not text.isascii() or not text.isdigit():
        return None
    try:
        return dt.date(2000 + int(text[:2]), int(text[2:4]), int(text[4:]))
    except ValueError:
        return None


def format_yymmdd(date: dt.date) -> str:
    if not 2000 <= date.year <= 2099:
        raise ValueError(f"{date} cannot be written as YYMMDD")
    return date.strftime("%y%m%d")


def local_time_us(date: dt.date, time_of_day_us: int) -> int:
    """Local date and time of day -> microseconds since 1970-01-01 00:00 local."""
    return (date - _EPOCH).days * US_PER_DAY + time_of_day_us
