"""Typed records of the AMB legacy ASCII protocol (P98: AMBrc, Vostok) and of I-Lap.

Strategy: a record on the wire is SOH, a one-character type, TAB-separated ASCII fields,
optionally TAB ``x`` + four hex digits of CRC, then CR LF. Every record keeps *all* of its
fields after the type character, as text and without the CRC, in ``fields``: a model that
sends one more field still decodes, and a decoded record re-encodes byte-exact. The named
attributes are views over the known positions; the encoder uses them when ``fields`` is
empty (records built by hand). Times are integer microseconds since the decoder's clock
started (or was last reset), never floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

SOH = 0x01
MAX_RECORD_SIZE = 256
"""Largest record accepted or produced, SOH through LF; real ones are under 64 bytes."""


class BadRecordReason(StrEnum):
    """Why a record was rejected (the ``reason`` of a ``BadRecord``)."""

    BAD_CRC = "bad crc"
    MISSING_CRC = "missing crc"
    TRUNCATED = "truncated"  # a new SOH arrived before the line ended
    OVERSIZE = "oversize"
    BAD_BYTE = "bad byte"  # a control or non-ASCII byte inside the line
    BAD_FIELD = "bad field"  # wrong field count, or a field that is not what it must be


@dataclass(frozen=True, slots=True)
class Passing:
    """``@``: a transponder crossed the loop.

    P98 decoders send ``decoder_id, passing_number, transponder, time, hits, strength,
    status``; I-Lap sends ``decoder_id, transponder, time`` (the other attributes None).
    """

    decoder_id: str
    transponder: str
    time_us: int  # since the decoder clock started
    passing_number: int | None = None  # P98: the record number, shared with status records
    hits: int | None = None
    strength: int | None = None
    status: int | None = None
    fields: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Status:
    """``#``: periodic decoder status: ``decoder_id, record_number, noise``."""

    decoder_id: str
    record_number: int
    noise: int
    fields: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Init:
    """``%``: I-Lap's answer to the init command (clock reset, 7-digit mode)."""

    decoder_id: str
    fields: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class UnknownRecord:
    """A well-formed record of a type we do not interpret (e.g. ``$``); kept, not fatal."""

    kind: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record that failed a check; the decoder resyncs on the next SOH."""

    reason: str
    data: bytes


Record = Passing | Status | Init | UnknownRecord
DecodeResult = Record | BadRecord
