"""Typed P3 records: what the codec yields and what the encoder accepts.

Strategy: every record keeps *all* of its TLV fields in wire order (``fields``), so an
unknown field id or a model-specific field survives a decode -> encode round trip. The
named attributes are convenience views over the well-known ids; they are filled by the
decoder and used by the encoder when ``fields`` is empty (records built by hand).
Decoder times are integer microseconds (RTC_TIME), never floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class RecordType(IntEnum):
    """P3 "TOR" (type of record) values this project knows by name."""

    RESET = 0x0000
    PASSING = 0x0001
    STATUS = 0x0002
    VERSION = 0x0003
    RESEND = 0x0004
    CLEAR_PASSING = 0x0005
    GET_TIME = 0x0024


@dataclass(frozen=True, slots=True)
class Field:
    """One TLV field exactly as on the wire (value is the raw little-endian bytes)."""

    tid: int
    value: bytes


@dataclass(frozen=True, slots=True)
class Passing:
    """A transponder crossed the loop (TOR 0x0001)."""

    passing_number: int
    transponder: int | None  # None when the decoder sends only the string (field 0x0A)
    rtc_time_us: int
    strength: int | None = None
    hits: int | None = None
    flags: int | None = None
    decoder_id: int | None = None
    transponder_code: str | None = None  # field 0x0A, e.g. "AB-12345" (ProChip)
    fields: tuple[Field, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Status:
    """Periodic decoder health report (TOR 0x0002); sent about every 5 s."""

    noise: int | None = None
    gps: int | None = None
    temperature: int | None = None
    loop_triggers: int | None = None
    input_voltage: int | None = None
    decoder_id: int | None = None
    fields: tuple[Field, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Version:
    """Decoder identification (TOR 0x0003)."""

    decoder_id: int | None = None
    description: str | None = None
    version: str | None = None
    fields: tuple[Field, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Resend:
    """Request: send again the passings numbered ``from_passing`` .. ``until_passing``."""

    from_passing: int
    until_passing: int
    fields: tuple[Field, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class GetTime:
    """Request (no time) or answer (with the decoder's RTC time in microseconds)."""

    rtc_time_us: int | None = None
    fields: tuple[Field, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class UnknownRecord:
    """A well-formed frame whose record type we do not interpret; kept, not fatal."""

    tor: int
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame that failed a check (CRC, length, escaping, a field's width or range); the
    decoder resyncs after it. ``detail`` says which field, for the log."""

    reason: str
    data: bytes
    detail: str = field(default="", compare=False)


Record = Passing | Status | Version | Resend | GetTime | UnknownRecord
DecodeResult = Record | BadFrame
