"""RMonitor field syntax: CSV with double-quoted fields, and HH:MM:SS.sss times.

Strategy: one straight-line scanner over the decoded text of a line. A field is either
quoted (``"..."``, a doubled ``""`` standing for one quote, commas allowed inside) or bare
(no quote anywhere in it); anything else, such as text glued after a closing quote or a
quote that never closes, is a quoting error, which is how most cut and spliced lines show
up. The scanner reports whether each field was quoted, because a ``$`` in a bare field is
the mark of two records run together. Times are parsed exactly into integer microseconds;
hours may exceed 23 (race time in a 24-hour race) and the fraction may be absent.
"""

from __future__ import annotations

import re

_TIME = re.compile(r"(\d{1,3}):([0-5]\d):([0-5]\d)(?:\.(\d{1,6}))?")
_US_PER_S = 1_000_000
MAX_TIME_US = 1000 * 3600 * _US_PER_S - 1000
"""Largest time the encoder writes: 999:59:59.999 (three hour digits, milliseconds)."""


class QuotingError(ValueError):
    """The line is not valid RMonitor CSV."""


def split_fields(text: str) -> list[tuple[str, bool]]:
    """Split one line (without CR LF) into ``(value, quoted)`` pairs; QuotingError if bad."""
    fields: list[tuple[str, bool]] = []
    pos, end = 0, len(text)
    while True:
        if pos < end and text[pos] == '"':
            parts: list[str] = []
            start = pos + 1
            while True:
                close = text.find('"', start)
                if close < 0:
                    raise QuotingError("unterminated quote")
                parts.append(text[start:close])
                if text.startswith('"', close + 1):  # "" inside quotes is one quote
                    parts.append('"')
                    start = close + 2
                    continue
                break
            fields.append(("".join(parts), True))
            pos = close + 1
            if pos == end:
                return fields
            if text[pos] != ",":
                raise QuotingError("text after a closing quote")
            pos += 1
        else:
            comma = text.find(",", pos)
            stop = end if comma < 0 else comma
            value = text[pos:stop]
            if '"' in value:
                raise QuotingError("quote inside a bare field")
            fields.append((value, False))
            if comma < 0:
                return fields
            pos = comma + 1


def quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def join_fields(fields: list[tuple[str, bool]]) -> str:
    """The inverse of ``split_fields`` (bare values must not contain commas or quotes)."""
    return ",".join(quote(v) if quoted else v for v, quoted in fields)


def parse_time(text: str) -> int | None:
    """``HH:MM:SS[.fraction]`` -> microseconds, exactly; None if it is not a time."""
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    hours, minutes, seconds, fraction = match.groups()
    us = ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * _US_PER_S
    if fraction:
        us += int(fraction.ljust(6, "0"))
    return us


def format_time(us: int, *, millis: bool = True) -> str:
    """Microseconds -> ``HH:MM:SS.sss`` (``millis``) or ``HH:MM:SS`` when whole seconds.

    The wire carries milliseconds at most: a time with a finer part is a caller's bug
    (truncate first), and so is a negative time or one past 999 hours; all raise ValueError.
    """
    if not 0 <= us <= MAX_TIME_US:
        raise ValueError(f"time {us} us out of range 0..{MAX_TIME_US}")
    if us % 1000:
        raise ValueError(f"time {us} us is not a whole number of milliseconds")
    seconds, rest_us = divmod(us, _US_PER_S)
    minutes, secs = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    text = f"{hours:02d}:{mins:02d}:{secs:02d}"
    if millis or rest_us:
        text += f".{rest_us // 1000:03d}"
    return text
