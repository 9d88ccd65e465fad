"""One AMB legacy / I-Lap record: wire bytes <-> typed record.

Strategy: ``parse_record`` takes exactly one line (SOH .. LF) and never raises: every check
that fails gives a ``BadRecord`` naming it. The order of checks is the order of trust:
framing, then bytes (printable ASCII and TAB only), then the CRC over the raw text, and
only then the meaning of the fields, so a corrupted line is reported as a CRC error, not as
a nonsense passing. The CRC is the P3 CRC-16 over the text from the type character through
the TAB before ``x`` (verified on real Vostok output), sent as four hex digits. I-Lap sends
no CRC: with ``crc=False`` a missing CRC is accepted, a present one is still verified.
Numbers are parsed as decimal text, the time exactly (``"52083.691"`` is 52_083_691_000 us,
never via a float), and range-checked: record numbers fit in 4 bytes, hits, strength,
status and noise in 2, and a decoder clock (since power-on or a reset) under 10 years; a
value past that is a ``BadRecord`` (bad field), never a number downstream. ``encode`` is
the inverse, for the emulator and the tests, and refuses the same values (ValueError).
"""

from __future__ import annotations

import re

from timing_adapters.p3.crc import crc16

from .records import (
    MAX_RECORD_SIZE,
    SOH,
    BadRecord,
    BadRecordReason,
    DecodeResult,
    Init,
    Passing,
    Record,
    Status,
    UnknownRecord,
)

_TEXT = re.compile(rb"[\t\x20-\x7e]*")
_FIELD = re.compile(r"[\x20-\x7e]*")
_CRC_FIELD = re.compile(r"x[0-9A-Fa-f]{4}")
_ID = re.compile(r"[0-9A-Za-z]{1,32}")
_UINT = re.compile(r"[0-9]{1,12}")
_TIME = re.compile(r"([0-9]{1,12})(?:\.([0-9]{0,6}))?")
_US_PER_S = 1_000_000
MAX_NUMBER = 2**32 - 1  # passing and record numbers
MAX_SMALL = 2**16 - 1  # hits, strength, status, noise
MAX_TIME_US = 10 * 31_557_600 * _US_PER_S
"""Ten years of decoder clock: a later time is a broken (or hostile) decoder."""
_CRC_SUFFIX = len("x0000")

_KINDS: dict[type, str] = {Passing: "@", Status: "#", Init: "%"}

ILAP_INIT = bytes((SOH,)) + b"%\r\n"
"""I-Lap command: 7-digit mode and **reset the decoder clock to zero** (answered by ``%``)."""


def parse_time_us(text: str) -> int | None:
    """``"324.62"`` -> 324_620_000; None unless decimal seconds with at most 6 decimals."""
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    seconds, fraction = match.group(1), match.group(2) or ""
    return int(seconds) * _US_PER_S + int(fraction.ljust(6, "0"))


def format_time(time_us: int) -> str:
    """Seconds with 3 decimals as decoders send them, or 6 when that would lose precision."""
    if time_us < 0:
        raise ValueError(f"time {time_us} us is negative")
    if time_us > MAX_TIME_US:
        raise ValueError(f"time {time_us} us is past 10 years of decoder clock")
    seconds, micros = divmod(time_us, _US_PER_S)
    if micros % 1000 == 0:
        return f"{seconds}.{micros // 1000:03d}"
    return f"{seconds}.{micros:06d}"


def parse_record(wire: bytes, *, crc: bool = True) -> DecodeResult:
    """Decode exactly one record, SOH through LF (CR before LF optional); never raises."""
    if len(wire) > MAX_RECORD_SIZE:
        return BadRecord(BadRecordReason.OVERSIZE, wire[:MAX_RECORD_SIZE])
    if len(wire) < 2 or wire[0] != SOH or wire[-1:] != b"\n":
        return BadRecord(BadRecordReason.TRUNCATED, wire)
    body = wire[1:-2] if wire.endswith(b"\r\n") else wire[1:-1]
    if not _TEXT.fullmatch(body):
        return BadRecord(BadRecordReason.BAD_BYTE, wire)
    fields = body.decode("ascii").split("\t")
    if len(fields) >= 2 and _CRC_FIELD.fullmatch(fields[-1]):
        if crc16(body[:-_CRC_SUFFIX]) != int(fields[-1][1:], 16):
            return BadRecord(BadRecordReason.BAD_CRC, wire)
        fields.pop()
    elif crc:
        return BadRecord(BadRecordReason.MISSING_CRC, wire)
    kind, args = fields[0], tuple(fields[1:])
    record = _interpret(kind, args) if len(kind) == 1 else None
    return BadRecord(BadRecordReason.BAD_FIELD, wire) if record is None else record


def _interpret(kind: str, args: tuple[str, ...]) -> Record | None:
    if kind == "@":
        return _passing(args)
    if kind == "#":
        return _status(args)
    if kind == "%":
        return Init(args[0], args) if args and _ID.fullmatch(args[0]) else None
    return UnknownRecord(kind, args)


def _uint(text: str, top: int = MAX_NUMBER) -> int | None:
    value = int(text) if _UINT.fullmatch(text) else None
    return value if value is not None and value <= top else None


def _passing(args: tuple[str, ...]) -> Passing | None:
    if len(args) == 3:  # I-Lap: decoder, transponder, time
        decoder_id, transponder, time_text = args
        numbers: tuple[int | None, ...] = (None, None, None, None)
    elif len(args) >= 7:  # P98: decoder, number, transponder, time, hits, strength, status
        decoder_id, number, transponder, time_text, *rest = args[:7]
        numbers = (_uint(number), *(_uint(text, MAX_SMALL) for text in rest))
        if None in numbers:
            return None
    else:
        return None
    time_us = parse_time_us(time_text)
    if (
        time_us is None
        or time_us > MAX_TIME_US
        or not _ID.fullmatch(decoder_id)
        or not _ID.fullmatch(transponder)
    ):
        return None
    passing_number, hits, strength, status = numbers
    return Passing(
        decoder_id, transponder, time_us, passing_number, hits, strength, status, fields=args
    )


def _status(args: tuple[str, ...]) -> Status | None:
    if len(args) < 3 or not _ID.fullmatch(args[0]):
        return None
    record_number, noise = _uint(args[1]), _uint(args[2], MAX_SMALL)
    if record_number is None or noise is None:
        return None
    return Status(args[0], record_number, noise, fields=args)


def encode(record: Record, *, crc: bool = True) -> bytes:
    """The wire bytes of ``record``: SOH, fields, the CRC unless ``crc=False``, CR LF."""
    kind, fields = _to_fields(record)
    if len(kind) != 1 or not _FIELD.fullmatch(kind):
        raise ValueError(f"record type {kind!r} must be one printable ASCII character")
    for text in fields:
        if not _FIELD.fullmatch(text):
            raise ValueError(f"field {text!r} must be printable ASCII without TAB")
    if not crc and fields and _CRC_FIELD.fullmatch(fields[-1]):
        raise ValueError(f"last field {fields[-1]!r} would be read as a CRC")
    body = "\t".join((kind, *fields)).encode("ascii")
    if crc:
        body += b"\t"
        body += b"x%04X" % crc16(body)
    wire = bytes((SOH,)) + body + b"\r\n"
    if len(wire) > MAX_RECORD_SIZE:
        raise ValueError(f"record of {len(wire)} bytes exceeds {MAX_RECORD_SIZE}")
    return wire


def _to_fields(record: Record) -> tuple[str, tuple[str, ...]]:
    if isinstance(record, UnknownRecord):
        if record.kind in _KINDS.values():
            raise ValueError(f"type {record.kind!r} is known: encode a Passing, Status or Init")
        return record.kind, record.fields
    kind = _KINDS[type(record)]
    if record.fields:
        return kind, record.fields
    if isinstance(record, Init):
        return kind, (_id(record.decoder_id), "0", "0")
    if isinstance(record, Status):
        numbers = (_count(record.record_number), _count(record.noise, MAX_SMALL))
        return kind, (_id(record.decoder_id), *numbers)
    head = (_id(record.decoder_id), _id(record.transponder), format_time(record.time_us))
    extra = (record.hits, record.strength, record.status)
    if record.passing_number is None:
        if extra != (None, None, None):
            raise ValueError("an I-Lap passing (no passing_number) has no hits/strength/status")
        return kind, head
    if None in extra:
        raise ValueError("a P98 passing needs hits, strength and status")
    number = _count(record.passing_number)
    small = (_count(n, MAX_SMALL) for n in extra if n is not None)
    return kind, (head[0], number, head[1], head[2], *small)


def _id(text: str) -> str:
    if not _ID.fullmatch(text):
        raise ValueError(f"id {text!r} must be 1-32 ASCII letters or digits")
    return text


def _count(value: int, top: int = MAX_NUMBER) -> str:
    if not 0 <= value <= top:
        raise ValueError(f"{value} out of range 0..{top}")
    return str(value)
