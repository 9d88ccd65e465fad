"""Version 2 passing records: the ``key=value|key=value`` entries of a ``Passing`` message.

Strategy: a V2 passing is a list of short keys and values, for example
``c=0000041|ct=UH|t=13:11:30.904|d=120606|l=13|dv=4|re=0|an=00001111|g=0|b=41|n=41``
(format from the public implementations listed in docs/protocols/mylaps-ts.md; the
racemap/sporttijden log itself holds only V1 records). Every pair is kept in wire order in
``fields`` so that keys we do not interpret survive a decode -> encode round trip; the chip
code (``c``, at most 32 characters), time of day (``t``) and date (``d``, optional, years
2000-2099) are parsed into exact views.
Parsing never raises (a ``BadRecord`` says what is wrong); encoding raises ValueError on a
key or value that would break the framing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .chips import BadRecord, RecordError
from .timeofday import format_time_of_day, format_yymmdd, local_time_us, parse_time_of_day
from .timeofday import parse_yymmdd as _parse_date

# Keys documented by the public implementations (kept here for readers, not enforced).
KNOWN_KEYS = {
    "c": "chip code",
    "ct": "chip type (AP, LF, CX, UH, ...)",
    "t": "time of day HH:MM:SS.mmm",
    "d": "date YYMMDD",
    "l": "lap number",
    "dv": "device number",
    "re": "reader number",
    "an": "antenna (number or bit mask)",
    "g": "group id",
    "b": "bib number",
    "n": "bib text",
    "h": "hit count",
    "am": "amplitude",
}
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]*")
MAX_CHIP = 32
"""Longest chip code accepted; real ones are 7 (V1) to 12 (UHF EPC) characters."""
_FORBIDDEN = re.compile(r"[@$|\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class PassingRecord:
    """One V2 passing; ``fields`` holds every ``key=value`` pair as it came."""

    chip: str
    time_of_day_us: int
    date: dt.date | None
    fields: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str | None:
        """The first value for ``key``, or None."""
        return next((value for k, value in self.fields if k == key), None)

    @property
    def time_us(self) -> int:
        """Local microseconds since 1970-01-01 with a date, since midnight without one."""
        if self.date is None:
            return self.time_of_day_us
        return local_time_us(self.date, self.time_of_day_us)


def make_passing(
    chip: str,
    time_of_day_us: int,
    date: dt.date | None = None,
    extra: Sequence[tuple[str, str]] = (),
) -> PassingRecord:
    """A passing built by hand (emulators, tests), with ``c``, ``t`` and ``d`` first."""
    if not 0 < len(chip) <= MAX_CHIP or chip != chip.strip():
        raise ValueError(f"chip code {chip!r} must be 1-{MAX_CHIP} characters, no outer spaces")
    fields = [("c", chip), ("t", format_time_of_day(time_of_day_us))]
    if date is not None:
        fields.append(("d", format_yymmdd(date)))
    fields += extra
    record = PassingRecord(chip, time_of_day_us, date, tuple(fields))
    encode_passing_record(record)  # validate now, not when it is sent
    return record


def parse_passing_record(text: str) -> PassingRecord | BadRecord:
    """Split one V2 passing; never raises."""
    fields: list[tuple[str, str]] = []
    for pair in text.split("|"):
        key, sep, value = pair.partition("=")
        if not sep or not _KEY.fullmatch(key):
            return BadRecord(RecordError.FORMAT, text)
        fields.append((key, value))
    found = dict(reversed(fields))  # the first occurrence of a key wins
    if "c" not in found or "t" not in found:
        return BadRecord(RecordError.MISSING, text)
    chip = found["c"].strip()
    time_of_day = parse_time_of_day(found["t"].strip())
    date = _parse_date(found["d"].strip()) if "d" in found else None
    if not 0 < len(chip) <= MAX_CHIP or time_of_day is None or ("d" in found and date is None):
        return BadRecord(RecordError.FORMAT, text)
    return PassingRecord(chip, time_of_day, date, tuple(fields))


def encode_passing_record(record: PassingRecord) -> str:
    """``key=value|...`` from ``record.fields``."""
    if not record.fields:
        raise ValueError("a passing record needs its fields (use make_passing)")
    for key, value in record.fields:
        if not _KEY.fullmatch(key) or _FORBIDDEN.search(value):
            raise ValueError(f"pair {key!r}={value!r} cannot be framed")
    return "|".join(f"{key}={value}" for key, value in record.fields)
