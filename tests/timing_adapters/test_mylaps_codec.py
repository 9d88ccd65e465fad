"""Byte tables for the MyLaps T&S codec: framing, messages, V1 and V2 records, encoding."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from timing_adapters.mylaps_ts import (
    AckGetInfo,
    AckMarker,
    AckPassing,
    AckPing,
    AckPong,
    AckStore,
    BadMessage,
    BadMessageReason,
    BadRecord,
    ChipRecord,
    GetInfo,
    GetLocations,
    Marker,
    Message,
    MessageFramer,
    Passing,
    PassingRecord,
    Ping,
    Pong,
    Received,
    RecordError,
    Store,
    UnknownMessage,
    chip_checksum,
    encode,
    encode_chip_record,
    make_passing,
    parse_chip_record,
    parse_message,
    parse_passing_record,
)
from timing_adapters.mylaps_ts.timeofday import (
    format_time_of_day,
    local_time_us,
    parse_time_of_day,
    parse_yymmdd,
)

# Two V1 records of the racemap/mylaps-to-racemap-forwarder log (MIT), commit b6471c20.
REC_A = "LZ6302115:37:40.704 5 0F  1000125030862"
REC_B = "000122806:15:31.82711 01  1D65725041339"
HOUR = 3_600_000_000


def _chip(text: str) -> ChipRecord:
    record = parse_chip_record(text)
    assert isinstance(record, ChipRecord)
    return record


def _with_checksum(at: int, text: str) -> str:
    """REC_A with ``text`` written at column ``at`` and a checksum that fits."""
    body = REC_A[:at] + text + REC_A[at + len(text) : 37]
    return f"{body}{chip_checksum(body):02X}"


def frames(*chunks: bytes) -> tuple[list[Received], MessageFramer]:
    framer = MessageFramer(max_message_size=64)
    out: list[Received] = []
    for chunk in chunks:
        out += framer.receive(chunk)
    return out, framer


FRAMING: list[tuple[str, list[bytes], list[Received]]] = [
    ("one", [b"Start@Pong@$"], [Pong("Start")]),
    ("split", [b"Sta", b"rt@Po", b"ng@", b"$"], [Pong("Start")]),
    (
        "merged, CR LF and NUL pairs between",
        [b"Start@Pong@$\r\n\x00\x00MTB Split 4Km@AckPing@$\r\n"],
        [Pong("Start"), AckPing("MTB Split 4Km")],
    ),
    ("only separators", [b"\r\n\x00\x00\r\n"], []),
    ("incomplete", [b"Start@Po"], []),
    (
        "binary junk before a message",
        [b"\x8e\x02\x33\x00$Start@Pong@$"],
        [BadMessage(BadMessageReason.CONTROL_CHARACTERS, b"\x8e\x02\x33\x00"), Pong("Start")],
    ),
    ("no function", [b"hello$"], [BadMessage(BadMessageReason.NO_FUNCTION, b"hello")]),
    ("empty", [b"$"], [BadMessage(BadMessageReason.NO_FUNCTION, b"")]),
    (
        "function not a word",
        [b"Start@P o n g@$"],
        [BadMessage(BadMessageReason.BAD_FUNCTION, b"Start@P o n g@")],
    ),
    (
        "store without number",
        [b"Start@Store@abc@$"],
        [BadMessage(BadMessageReason.BAD_NUMBER, b"Start@Store@abc@")],
    ),
    (
        "ack without number",
        [b"x@AckStore@$"],
        [BadMessage(BadMessageReason.BAD_NUMBER, b"x@AckStore@")],
    ),
    (
        "oversize, then resync",
        [b"A@Store@" + b"9" * 100, b"9@$Start@Pong@$"],
        [BadMessage(BadMessageReason.OVERSIZE, (b"A@Store@" + b"9" * 100)[:64]), Pong("Start")],
    ),
    (
        "oversize in one chunk",
        [b"A@Store@" + b"9" * 100 + b"@$Start@Pong@$"],
        [BadMessage(BadMessageReason.OVERSIZE, (b"A@Store@" + b"9" * 100)[:64]), Pong("Start")],
    ),
    ("unknown function", [b"S@Frobnicate@a@b@$"], [UnknownMessage("S", "Frobnicate", ("a", "b"))]),
    ("latin-1", [b"D\xe9part@Pong@$"], [Pong("Départ")]),
    ("utf-8", ["Départ@Pong@$".encode()], [Pong("Départ")]),
]


@pytest.mark.parametrize(
    ("chunks", "expected"), [t[1:] for t in FRAMING], ids=[t[0] for t in FRAMING]
)
def test_framing(chunks: list[bytes], expected: list[Received]) -> None:
    assert frames(*chunks)[0] == expected


def test_framer_counters_and_buffer() -> None:
    _, framer = frames(b"A@Store@" + b"9" * 100, b"9@$\x01@x@$Start@Pong@$Sta")
    assert (framer.messages, framer.bad_messages) == (1, 2)
    assert framer.junk_bytes == len(b"A@Store@" + b"9" * 100 + b"9@$")
    assert framer.buffered == 3
    with pytest.raises(ValueError, match="max_message_size"):
        MessageFramer(max_message_size=10)


MESSAGES: list[tuple[bytes, Received]] = [
    (b"Start@AckPing@", AckPing("Start")),
    (b"srv@Ping@", Ping("srv")),
    (b"srv@AckPong@@Version2.1@", AckPong("srv", ("", "Version2.1"))),
    (
        b"Toolkit@GetLocations@ln=Start - Finish@ln=21Km = 2Km@",
        GetLocations("Toolkit", ("Start - Finish", "21Km = 2Km")),
    ),
    (b"srv@GetLocations@", GetLocations("srv")),
    (b"srv@GetInfo@", GetInfo("srv")),
    (b"srv@GetInfo@5Km@", GetInfo("srv", "5Km")),
    (
        b"Start@AckGetInfo@PSD-0C0210@Unknown@Laptop-Hidde",
        AckGetInfo("Start", ("PSD-0C0210", "Unknown", "Laptop-Hidde")),
    ),
    (b"srv@AckStore@2@", AckStore("srv", 2)),
    (b"srv@AckPassing@ 1016@", AckPassing("srv", 1016)),
    (b"srv@AckMarker@1@", AckMarker("srv", 1)),
    (
        b"Start - Finish@Marker@2025-04-13 05:57:56.027|ext-gun|Extern gunshot@1@",
        Marker("Start - Finish", ("2025-04-13 05:57:56.027|ext-gun|Extern gunshot",), 1),
    ),
    (b"Start@Store@7@", Store("Start", (), 7)),
]


@pytest.mark.parametrize(("body", "expected"), MESSAGES)
def test_messages(body: bytes, expected: Received) -> None:
    assert parse_message(body) == expected


def test_store_keeps_good_records_and_counts_bad_ones() -> None:
    bad_sum = REC_A[:-2] + "00"
    message = parse_message(f"Start@Store@{REC_A}@{bad_sum}@short@{REC_B}@12@".encode())
    assert isinstance(message, Store)
    assert message.message_number == 12
    assert [r.chip for r in message.records] == ["LZ63021", "0001228"]
    assert message.rejected == (
        BadRecord(RecordError.CHECKSUM, bad_sum),
        BadRecord(RecordError.LENGTH, "short"),
    )


def test_v2_passing_message() -> None:
    one = "c=AB12345|ct=CX|t=13:59:56.452|d=230909|l=1|dv=7|re=0|an=-1|g=-1|n=AB12345|b=-1"
    two = "t=13:12:21.83|c=0000039|ct=UH|l=30|an=00001101"
    message = parse_message(f"10KM@Passing@{one}@{two}@c=X@ 1016@".encode())
    assert isinstance(message, Passing)
    assert message.message_number == 1016
    first, second = message.passings
    assert (first.chip, first.date, first.get("l"), first.get("zz")) == (
        "AB12345",
        dt.date(2023, 9, 9),
        "1",
        None,
    )
    assert first.time_us == local_time_us(dt.date(2023, 9, 9), 13 * HOUR + 3_596_452_000)
    assert (second.chip, second.date, second.time_us) == ("0000039", None, 47_541_830_000)
    assert message.rejected == (BadRecord(RecordError.MISSING, "c=X"),)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("c=A|t=1:2:3", RecordError.FORMAT),
        ("c=A|t=10:00:00.000|d=991332", RecordError.FORMAT),
        ("c= |t=10:00:00.000", RecordError.FORMAT),
        ("c=A|nokey|t=10:00:00.000", RecordError.FORMAT),
        ("=A|t=10:00:00.000", RecordError.FORMAT),
        ("t=10:00:00.000", RecordError.MISSING),
    ],
)
def test_bad_v2_passings(text: str, reason: RecordError) -> None:
    assert parse_passing_record(text) == BadRecord(reason, text)


def test_v1_record_columns() -> None:
    assert parse_chip_record(REC_B) == ChipRecord(
        "0001228", 6 * HOUR + 15 * 60_000_000 + 31_827_000, 11, 1, 1, 0xD657, dt.date(2025, 4, 13)
    )
    assert encode_chip_record(_chip(REC_A)) == REC_A
    lower = REC_A[:-2] + REC_A[-2:].lower()
    assert parse_chip_record(lower) == parse_chip_record(REC_A)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (REC_A[:-1], RecordError.LENGTH),
        (REC_A + " ", RecordError.LENGTH),
        (REC_A[:-2] + "5F", RecordError.CHECKSUM),
        (REC_A[:-2] + "ZZ", RecordError.FORMAT),
        ("é" + REC_A[1:], RecordError.FORMAT),
        (_with_checksum(7, "25"), RecordError.FORMAT),
        (_with_checksum(31, "251332"), RecordError.FORMAT),
        (_with_checksum(0, "lz"), RecordError.FORMAT),
        (_with_checksum(21, "x"), RecordError.FORMAT),
        (_with_checksum(22, "0G"), RecordError.FORMAT),
        (_with_checksum(26, "x"), RecordError.FORMAT),
        (_with_checksum(19, "  "), RecordError.FORMAT),
    ],
)
def test_bad_v1_records(text: str, reason: RecordError) -> None:
    assert parse_chip_record(text) == BadRecord(reason, text)


ENCODED: list[tuple[Message, bytes]] = [
    (AckStore("racecontrol", 2), b"racecontrol@AckStore@2@$"),
    (AckPassing("racecontrol", 1016), b"racecontrol@AckPassing@1016@$"),
    (AckMarker("racecontrol", 1), b"racecontrol@AckMarker@1@$"),
    (AckPong("racecontrol", ("Version2.1",)), b"racecontrol@AckPong@Version2.1@$"),
    (AckPong("racecontrol"), b"racecontrol@AckPong@$"),
    (Ping("racecontrol"), b"racecontrol@Ping@$"),
    (GetLocations("racecontrol"), b"racecontrol@GetLocations@$"),
    (GetInfo("racecontrol"), b"racecontrol@GetInfo@$"),
    (GetLocations("Toolkit", ("Start",)), b"Toolkit@GetLocations@ln=Start@$"),
    (Store("Start", (_chip(REC_A),), 1), f"Start@Store@{REC_A}@1@$".encode()),
    (
        Passing("5K", (make_passing("AB12345", HOUR, dt.date(2024, 2, 29), [("l", "3")]),), 9),
        b"5K@Passing@c=AB12345|t=01:00:00.000|d=240229|l=3@9@$",
    ),
    (UnknownMessage("S", "Hello", ("x",)), b"S@Hello@x@$"),
]


@pytest.mark.parametrize(("message", "wire"), ENCODED)
def test_encode(message: Message, wire: bytes) -> None:
    assert encode(message) == wire
    assert parse_message(wire[:-1]) == message


@pytest.mark.parametrize(
    "build",
    [
        lambda: encode(Pong("a@b")),
        lambda: encode(Pong("a", ("x$",))),
        lambda: encode(Marker("a", ("line\n",), 1)),
        lambda: encode(AckStore("a", -1)),
        lambda: encode(UnknownMessage("a", "not a word")),
        lambda: encode(Passing("a", (PassingRecord("A", 0, None, ()),), 1)),
        lambda: make_passing("A|B", HOUR),
        lambda: make_passing(" A", HOUR),
        lambda: make_passing("A", HOUR + 1),
        lambda: make_passing("A", HOUR, dt.date(1999, 1, 1)),
        lambda: encode_chip_record(ChipRecord("ab12345", 0, 1, 1, 1, 1, dt.date(2025, 1, 1))),
        lambda: encode_chip_record(ChipRecord("AB12345", 0, 100, 1, 1, 1, dt.date(2025, 1, 1))),
        lambda: encode_chip_record(ChipRecord("AB12345", 0, 1, 1, 1, 0x10000, dt.date(2025, 1, 1))),
        lambda: encode_chip_record(ChipRecord("AB12345", -1000, 1, 1, 1, 1, dt.date(2025, 1, 1))),
    ],
)
def test_encoder_misuse_raises(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        build()


def test_encode_rejects_non_messages() -> None:
    with pytest.raises(TypeError):
        encode(BadMessage(BadMessageReason.OVERSIZE, b""))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "us"),
    [
        ("00:00:00", 0),
        ("23:59:59.999", 86_399_999_000),
        ("12:00:00.5", 43_200_500_000),
        ("12:00:00.123456", 43_200_123_456),
        ("24:00:00.000", None),
        ("12:60:00.000", None),
        ("12:00:60.000", None),
        ("12:00:00.1234567", None),
        ("١٢:00:00.000", None),
        ("12:00", None),
    ],
)
def test_time_of_day(text: str, us: int | None) -> None:
    assert parse_time_of_day(text) == us


def test_dates_and_formatting() -> None:
    assert parse_yymmdd("250413") == dt.date(2025, 4, 13)
    assert parse_yymmdd("250230") is None
    assert parse_yymmdd("25041") is None
    assert parse_yymmdd("2504\uff113") is None  # a full-width digit
    assert format_time_of_day(86_399_999_000) == "23:59:59.999"
    with pytest.raises(ValueError):
        format_time_of_day(86_400_000_000)
    assert local_time_us(dt.date(1970, 1, 2), 5) == 86_400_000_005
