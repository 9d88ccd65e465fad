"""Strings people read: lap and gap times, clocks, ages, times of day, labels.

Strategy: pure functions of integer microseconds (the session time base, which is the
server's Unix time in µs). Lap and gap times are truncated to the thousandth (timing
never rounds up); clocks show whole seconds. A time of day is shown, and typed back in
for a correction, in the server's local time zone unless one is given (the server runs
at the track); ``parse_time_of_day`` picks the date that puts the time nearest to "now",
so a correction typed just after midnight still lands on the right day. The browser
(``server/web/static/live.js``) formats ticking values with the same rules.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

from server.engine.events import Flag, SessionKind
from server.engine.model import CarState

US_PER_S = 1_000_000
FLAG_LABELS: dict[Flag, str] = {
    Flag.NONE: "Not started",
    Flag.GREEN: "Green",
    Flag.YELLOW: "Full-course yellow",
    Flag.RED: "Red flag",
    Flag.CHECKERED: "Checkered",
    Flag.CODE_60: "Code 60",
    Flag.SAFETY_CAR: "Safety car",
    Flag.LOCAL_YELLOW: "Local yellow",
}
KIND_LABELS: dict[SessionKind, str] = {
    SessionKind.PRACTICE: "Practice",
    SessionKind.QUALIFYING: "Qualifying",
    SessionKind.RACE: "Race",
    SessionKind.SPRINTDURO: "SprintDuro",
}
STATE_LABELS: dict[CarState, str] = {
    CarState.NOT_STARTED: "\N{EN DASH}",
    CarState.RUN: "RUN",
    CarState.PIT: "PIT",
    CarState.OUT: "OUT",
    CarState.STOPPED: "STOP",
    CarState.FINISHED: "FIN",
    CarState.RETIRED: "RET",
    CarState.NOT_CLASSIFIED: "NC",
    CarState.DISQUALIFIED: "DSQ",
}
STATE_TITLES: dict[CarState, str] = {
    CarState.NOT_STARTED: "not started",
    CarState.RUN: "running",
    CarState.PIT: "in the pit lane",
    CarState.OUT: "out lap",
    CarState.STOPPED: "stopped on track",
    CarState.FINISHED: "finished",
    CarState.RETIRED: "retired",
    CarState.NOT_CLASSIFIED: "not classified",
    CarState.DISQUALIFIED: "disqualified",
}
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_TIME_OF_DAY = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?\s*$")


def format_lap(us: int | None) -> str:
    """A lap or gap time: "52.345", "1:52.345", "1:02:03.456"; "" for None."""
    if us is None:
        return ""
    sign = "-" if us < 0 else ""
    hours, rest = divmod(abs(us) // 1000, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"
    if minutes:
        return f"{sign}{minutes}:{seconds:02d}.{millis:03d}"
    return f"{sign}{seconds}.{millis:03d}"


def format_gap(us: int | None, laps: int) -> str:
    """A gap or interval: "+12.345", "+1:02.345", "+1 L", "+2 L"; "" when there is none."""
    if laps > 0:
        return f"+{laps} L"
    if us is None:
        return ""
    return format_lap(us) if us < 0 else "+" + format_lap(us)


def format_clock(us: int | None) -> str:
    """A session clock, whole seconds truncated: "0:05:07", "3:59:59"; "" for None."""
    if us is None:
        return ""
    hours, rest = divmod(max(us, 0) // US_PER_S, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def format_age(us: int | None) -> str:
    """How long ago: "0 s ago", "42 s ago", "3 min ago", "2 h 5 min ago"; "" for None."""
    if us is None:
        return ""
    seconds = max(us, 0) // US_PER_S
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min ago"


def format_seconds_ago(us: int | None) -> str:
    """Seconds since, for the control table: "7 s", "130 s"; "" for None."""
    return "" if us is None else f"{max(us, 0) // US_PER_S} s"


def format_minutes_seconds(us: int | None) -> str:
    """A pit-lane time, whole seconds truncated: "0:42", "3:05", "62:10"; "" for None."""
    if us is None:
        return ""
    seconds = max(us, 0) // US_PER_S
    return f"{seconds // 60}:{seconds % 60:02d}"


def format_minutes(us: int | None) -> str:
    """A wait, rounded up to the minute: "in 1 min", "in 42 min", "in 1 h 05 min"."""
    if us is None:
        return ""
    minutes = -(-max(us, 0) // (60 * US_PER_S))
    if minutes < 60:
        return f"in {minutes} min"
    return f"in {minutes // 60} h {minutes % 60:02d} min"


def format_time_of_day(us: int | None, tz: tzinfo | None = None, *, millis: bool = False) -> str:
    """ "14:03:07" (or "14:03:07.123") in ``tz`` (default: the server's local zone)."""
    if us is None:
        return ""
    moment = datetime.fromtimestamp(us // US_PER_S, tz) + timedelta(microseconds=us % US_PER_S)
    text = moment.strftime("%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}" if millis else text


def parse_time_of_day(text: str, near_us: int, tz: tzinfo | None = None) -> int:
    """The moment, nearest to ``near_us``, whose time of day is ``text`` ("14:03",
    "14:03:07", "14:03:07.123"); raises ``ValueError`` for anything else."""
    match = _TIME_OF_DAY.match(text)
    if match is None:
        raise ValueError(f"not a time of day: {text!r} (write 14:03:07.123)")
    hour, minute, second = (int(g) if g else 0 for g in match.groups()[:3])
    fraction = int((match.group(4) or "0").ljust(6, "0"))
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"not a time of day: {text!r}")
    near = datetime.fromtimestamp(near_us // US_PER_S, tz)
    day = near.replace(hour=hour, minute=minute, second=second, microsecond=fraction)
    candidates = [day + timedelta(days=shift) for shift in (-1, 0, 1)]
    # whole seconds are exact as a float timestamp; the fraction is added as an integer
    stamps = [
        int(c.replace(microsecond=0).timestamp()) * US_PER_S + c.microsecond for c in candidates
    ]
    return min(stamps, key=lambda us: abs(us - near_us))


def row_dom_id(number: str) -> str:
    """The stable element id of a car's row: ``car-07``; unsafe characters become ``_``."""
    return "car-" + _UNSAFE_ID_CHARS.sub("_", number)


def heartbeat_html(server_now_us: int) -> str:
    """The 2-second heartbeat message; equal to the ``heartbeat`` block of the pages."""
    return f'<span id="heartbeat" hidden data-server-now-us="{int(server_now_us)}"></span>'
