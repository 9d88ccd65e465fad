"""Version 1 chip records: the 39-character passings inside a ``Store`` message.

Strategy: a V1 record is fixed-width ASCII, established on every one of the 2,494 distinct
records of the racemap/sporttijden log (see docs/protocols/mylaps-ts.md)::

    KV8658316:13:57.417 3 0F  1000025030870
    0      7           19 22 24  27  31    37
    chip   time of day dv hh lap seq date  checksum

chip code (7), time of day ``HH:MM:SS.mmm`` (12), device number (2, right-aligned), a
space, a two-digit hex count we take for the hit count (01..0F seen, 0F the most common
cap), lap number (3, right-aligned), passing sequence (4 hex digits, contiguous per
location in the log), date ``YYMMDD`` (6) and a checksum: the byte sum of the first 37
characters modulo 256, as two upper-case hex digits. ``parse_chip_record`` never raises:
a record that fails a check is a ``BadRecord`` naming the check. ``encode_chip_record``
raises ValueError for values that do not fit their columns.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from .timeofday import (
    format_time_of_day,
    format_yymmdd,
    local_time_us,
    parse_time_of_day,
    parse_yymmdd,
)

CHIP_RECORD_LENGTH = 39
_CHECKED = 37  # characters covered by the checksum
_HEX = frozenset("0123456789ABCDEFabcdef")
# Chip codes seen: 7 upper-case letters and digits (e.g. KV86583, 0001228).
_CHIP = re.compile(r"[0-9A-Z]{7}")


class RecordError(StrEnum):
    """Why a passing record inside a message was rejected (the ``reason`` of a BadRecord)."""

    LENGTH = "wrong length"
    CHECKSUM = "bad checksum"
    FORMAT = "malformed field"
    MISSING = "missing field"


@dataclass(frozen=True, slots=True)
class BadRecord:
    """One passing record that failed a check; the rest of its message is still used."""

    reason: RecordError
    text: str


@dataclass(frozen=True, slots=True)
class ChipRecord:
    """One V1 passing, every column of the 39-character record."""

    chip: str
    time_of_day_us: int  # local time of day, whole milliseconds on the wire
    device: int
    hits: int  # hex column at 22-23; meaning inferred, see the module docstring
    lap: int
    sequence: int  # 4 hex digits: the passing's number at its location
    date: dt.date

    @property
    def time_us(self) -> int:
        """Local microseconds since 1970-01-01 00:00 (see ``timeofday``)."""
        return local_time_us(self.date, self.time_of_day_us)


def chip_checksum(text: str) -> int:
    """Byte sum of the first 37 characters, modulo 256."""
    return sum(text[:_CHECKED].encode("utf-8")) % 256


def _digits(text: str) -> int | None:
    """A right-aligned decimal column (leading spaces allowed), or None."""
    stripped = text.lstrip(" ")
    if not stripped or not stripped.isascii() or not stripped.isdigit():
        return None
    return int(stripped)


def _hex(text: str) -> int | None:
    return int(text, 16) if text and set(text) <= _HEX else None


def parse_chip_record(text: str) -> ChipRecord | BadRecord:
    """Check and split one V1 record; never raises."""
    if len(text) != CHIP_RECORD_LENGTH:
        return BadRecord(RecordError.LENGTH, text)
    checksum = _hex(text[37:39])
    if checksum is None or not text.isascii():
        return BadRecord(RecordError.FORMAT, text)
    if checksum != chip_checksum(text):
        return BadRecord(RecordError.CHECKSUM, text)
    time_of_day = parse_time_of_day(text[7:19])
    device = _digits(text[19:21])
    hits = _hex(text[22:24])
    lap = _digits(text[24:27])
    sequence = _hex(text[27:31])
    date = parse_yymmdd(text[31:37])
    if (
        not _CHIP.fullmatch(text[:7])
        or text[21] != " "
        or time_of_day is None
        or device is None
        or hits is None
        or lap is None
        or sequence is None
        or date is None
    ):
        return BadRecord(RecordError.FORMAT, text)
    return ChipRecord(text[:7], time_of_day, device, hits, lap, sequence, date)


def encode_chip_record(record: ChipRecord) -> str:
    """The 39-character text of ``record``, checksum included."""
    if not _CHIP.fullmatch(record.chip):
        raise ValueError(f"chip code {record.chip!r} is not 7 letters and digits")
    for name, value, top in (
        ("device", record.device, 99),
        ("hits", record.hits, 0xFF),
        ("lap", record.lap, 999),
        ("sequence", record.sequence, 0xFFFF),
    ):
        if not 0 <= value <= top:
            raise ValueError(f"{name} {value} out of range 0..{top}")
    body = (
        f"{record.chip}{format_time_of_day(record.time_of_day_us)}{record.device:>2} "
        f"{record.hits:02X}{record.lap:>3}{record.sequence:04X}{format_yymmdd(record.date)}"
    )
    return f"{body}{chip_checksum(body):02X}"
