"""What the TLV field ids mean, per record type, in both directions.

Strategy: ``to_record`` reads the named attributes out of a frame's fields, wherever they
sit (field order varies between decoder models) and keeps every field, known or not, in
``fields``. ``to_fields`` does the reverse: a record's own ``fields`` win, so decoded
records re-encode byte-exact; records built by hand get their fields from the attributes,
in the order the karting capture's decoder uses. All integers are little-endian.

Field ids were cross-checked against two public parsers (vmindru/ambp3client
``AmbP3/records.py`` and datagutten/amb-p3-parser ``src/parser.php``) and against the
captures: STATUS input voltage is 0x0C (not 0x0D), loop triggers 0x0B, satellites 0x0A.
``field_error`` range-checks a frame before it is read: every well-known field must have
its fixed width (the widths of every frame in the captures) and times must be plausible,
so a hostile or broken decoder gets a ``BadFrame``, never an absurd value downstream.
"""

from __future__ import annotations

from collections.abc import Sequence

from .records import (
    Field,
    GetTime,
    Passing,
    Record,
    RecordType,
    Resend,
    Status,
    UnknownRecord,
    Version,
)

DECODER_ID = 0x81  # shared by every record type

# PASSING (TOR 0x0001)
PASSING_NUMBER = 0x01
TRANSPONDER = 0x03
RTC_TIME = 0x04
STRENGTH = 0x05
HITS = 0x06
FLAGS = 0x08
TRANSPONDER_STRING = 0x0A  # ProChip and others: the code as ASCII text, e.g. "AB-12345"

# STATUS (TOR 0x0002)
NOISE = 0x01
GPS = 0x06
TEMPERATURE = 0x07
LOOP_TRIGGERS = 0x0B
INPUT_VOLTAGE = 0x0C  # 0x78 = 120 in the captures: tenths of a volt

# VERSION (TOR 0x0003); 0x01 decoder type, 0x04 release, 0x0A build number stay in fields
DESCRIPTION = 0x02
VERSION = 0x03

# RESEND (TOR 0x0004)
RESEND_FROM = 0x01
RESEND_UNTIL = 0x02

# GET_TIME (TOR 0x0024): a zero-length RTC_TIME field asks, an 8-byte one answers
GET_TIME_RTC = 0x01


MAX_TRANSPONDER_STRING = 32
"""Bytes of a transponder string field (ProChip codes are 8; NUL padding is allowed)."""
_CODE_CHARS = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-")

MAX_RTC_US = 4_102_444_800_000_000
"""2100-01-01 00:00 UTC in microseconds: a later RTC time is a broken (or hostile) clock."""

# Record type -> field id -> the widths that field may have, in bytes.
_WIDTHS: dict[int, dict[int, tuple[int, ...]]] = {
    RecordType.PASSING: {
        PASSING_NUMBER: (4,),  # also what RESEND can carry
        TRANSPONDER: (4,),
        RTC_TIME: (8,),
        STRENGTH: (2,),
        HITS: (2,),
        FLAGS: (2,),
        TRANSPONDER_STRING: tuple(range(1, MAX_TRANSPONDER_STRING + 1)),
        DECODER_ID: (4,),
    },
    RecordType.STATUS: {
        NOISE: (2,),
        GPS: (1,),
        TEMPERATURE: (2,),
        LOOP_TRIGGERS: (1, 2, 4),  # width not seen in any capture
        INPUT_VOLTAGE: (1,),
        DECODER_ID: (4,),
    },
    RecordType.VERSION: {DECODER_ID: (4,)},
    RecordType.RESEND: {RESEND_FROM: (4,), RESEND_UNTIL: (4,)},
    RecordType.GET_TIME: {GET_TIME_RTC: (0, 8), DECODER_ID: (4,)},
}
_TIMES: dict[int, int] = {RecordType.PASSING: RTC_TIME, RecordType.GET_TIME: GET_TIME_RTC}


def field_error(tor: int, fields: Sequence[Field]) -> str | None:
    """Why the frame's fields cannot be taken (a wrong width, an absurd time), or None."""
    widths = _WIDTHS.get(tor, {})
    for f in fields:
        allowed = widths.get(f.tid)
        if allowed is not None and len(f.value) not in allowed:
            expected = " or ".join(str(w) for w in allowed)
            return f"field {f.tid:#04x} is {len(f.value)} bytes, not {expected}"
    if tor == RecordType.PASSING:
        code = _raw(fields, TRANSPONDER_STRING)
        if code is not None and not _is_code(code):
            return f"transponder string {code!r} is not a code (letters, digits, '-')"
    time_id = _TIMES.get(tor)
    if time_id is not None:
        rtc = _int(fields, time_id)
        if rtc is not None and rtc >= MAX_RTC_US:
            return f"time {rtc} us is past 2100"
    if tor == RecordType.RESEND:
        first, last = _int(fields, RESEND_FROM), _int(fields, RESEND_UNTIL)
        if first is not None and last is not None and first > last:
            return f"resend range {first}..{last} is reversed"
    return None


def _is_code(value: bytes) -> bool:
    """Letters, digits and dashes, then only NUL padding; at least one character."""
    text = value.rstrip(b"\x00")
    return bool(text) and all(byte in _CODE_CHARS for byte in text)


def _raw(fields: Sequence[Field], tid: int) -> bytes | None:
    # The first occurrence wins; a repeated id stays visible in ``fields``.
    for f in fields:
        if f.tid == tid:
            return f.value
    return None


def _int(fields: Sequence[Field], tid: int) -> int | None:
    value = _raw(fields, tid)
    return int.from_bytes(value, "little") if value else None


def _text(fields: Sequence[Field], tid: int) -> str | None:
    value = _raw(fields, tid)
    return None if value is None else value.rstrip(b"\x00").decode("ascii", "replace")


def to_record(tor: int, fields: tuple[Field, ...]) -> Record | None:
    """The record a frame carries, or None when a mandatory field is missing."""
    get = _int
    if tor == RecordType.PASSING:
        number, transponder = get(fields, PASSING_NUMBER), get(fields, TRANSPONDER)
        rtc = get(fields, RTC_TIME)
        code = _text(fields, TRANSPONDER_STRING)
        if number is None or (transponder is None and code is None) or rtc is None:
            return None
        return Passing(
            passing_number=number,
            transponder=transponder,
            transponder_code=code,
            rtc_time_us=rtc,
            strength=get(fields, STRENGTH),
            hits=get(fields, HITS),
            flags=get(fields, FLAGS),
            decoder_id=get(fields, DECODER_ID),
            fields=fields,
        )
    if tor == RecordType.STATUS:
        return Status(
            noise=get(fields, NOISE),
            gps=get(fields, GPS),
            temperature=get(fields, TEMPERATURE),
            loop_triggers=get(fields, LOOP_TRIGGERS),
            input_voltage=get(fields, INPUT_VOLTAGE),
            decoder_id=get(fields, DECODER_ID),
            fields=fields,
        )
    if tor == RecordType.VERSION:
        return Version(
            decoder_id=get(fields, DECODER_ID),
            description=_text(fields, DESCRIPTION),
            version=_text(fields, VERSION),
            fields=fields,
        )
    if tor == RecordType.RESEND:
        first, last = get(fields, RESEND_FROM), get(fields, RESEND_UNTIL)
        if first is None or last is None:
            return None
        return Resend(from_passing=first, until_passing=last, fields=fields)
    if tor == RecordType.GET_TIME:
        return GetTime(rtc_time_us=get(fields, GET_TIME_RTC), fields=fields)
    return UnknownRecord(tor=tor, fields=fields)


def tor_of(record: Record) -> int:
    """The TOR a record is sent with."""
    match record:
        case Passing():
            return RecordType.PASSING
        case Status():
            return RecordType.STATUS
        case Version():
            return RecordType.VERSION
        case Resend():
            return RecordType.RESEND
        case GetTime():
            return RecordType.GET_TIME
        case UnknownRecord():
            return record.tor


def _u(tid: int, value: int | None, width: int) -> list[Field]:
    if value is None:
        return []
    if not 0 <= value < 1 << (8 * width):
        raise ValueError(f"field {tid:#04x}: {value} does not fit in {width} unsigned bytes")
    return [Field(tid, value.to_bytes(width, "little"))]


def _s(tid: int, value: str | None) -> list[Field]:
    if value is None:
        return []
    try:
        return [Field(tid, value.encode("ascii"))]
    except UnicodeEncodeError:
        raise ValueError(f"field {tid:#04x}: {value!r} is not ASCII") from None


def to_fields(record: Record) -> tuple[Field, ...]:
    """The fields to send: the record's own, else built from its named attributes."""
    if record.fields or isinstance(record, UnknownRecord):
        return record.fields
    fields: list[Field]
    match record:
        case Passing():
            code = record.transponder_code
            if code is not None and (
                len(code) > MAX_TRANSPONDER_STRING or not _is_code(code.encode("ascii", "replace"))
            ):
                raise ValueError(f"transponder string {code!r} is not a code")
            fields = [
                *_u(PASSING_NUMBER, record.passing_number, 4),
                *_u(TRANSPONDER, record.transponder, 4),
                *_s(TRANSPONDER_STRING, record.transponder_code),
                *_u(RTC_TIME, record.rtc_time_us, 8),
                *_u(STRENGTH, record.strength, 2),
                *_u(HITS, record.hits, 2),
                *_u(FLAGS, record.flags, 2),
                *_u(DECODER_ID, record.decoder_id, 4),
            ]
        case Status():
            fields = [
                *_u(NOISE, record.noise, 2),
                *_u(TEMPERATURE, record.temperature, 2),
                *_u(INPUT_VOLTAGE, record.input_voltage, 1),
                *_u(GPS, record.gps, 1),
                # Width not seen in any capture; one byte is a guess.
                *_u(LOOP_TRIGGERS, record.loop_triggers, 1),
                *_u(DECODER_ID, record.decoder_id, 4),
            ]
        case Version():
            fields = [
                *_s(DESCRIPTION, record.description),
                *_s(VERSION, record.version),
                *_u(DECODER_ID, record.decoder_id, 4),
            ]
        case Resend():
            fields = [
                *_u(RESEND_FROM, record.from_passing, 4),
                *_u(RESEND_UNTIL, record.until_passing, 4),
            ]
        case GetTime():
            if record.rtc_time_us is None:
                fields = [Field(GET_TIME_RTC, b"")]
            else:
                fields = _u(GET_TIME_RTC, record.rtc_time_us, 8)
    return tuple(fields)
