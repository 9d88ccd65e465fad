"""AMB legacy (P98) and I-Lap codec: byte tables of real and hand-made lines."""

from __future__ import annotations

import pytest

from timing_adapters.amb_legacy import (
    ILAP_INIT,
    AmbLegacyDecoder,
    BadRecord,
    BadRecordReason,
    DecodeResult,
    Init,
    Passing,
    Status,
    UnknownRecord,
    encode,
    format_time,
    parse_record,
    parse_time_us,
)
from timing_adapters.p3.crc import crc16

# Real output of a Vostok decoder (P98), quoted as test data in skoky/ammc-android,
# ammc/src/test/kotlin/com/skoky/P98ParserTest.kt (commit 100c972d; no licence file in that
# repository: these four lines are used as factual test vectors only). The CRC of each was
# checked here to be the P3 CRC-16 over the text from the type character to the last TAB.
VOSTOK = [
    b"\x01#\t101\t1378\t0\tx53D2\r\n",
    b"\x01@\t101\t1379\t8110984\t2434.835\t190\t40\t2\tx26C0\r\n",
    b"\x01@\t101\t9788\t8110984\t52083.691\t127\t40\t2\tx3DAF\r\n",
    b"\x01#\t101\t9789\t0\tx840E\r\n",
]
# A "$" record quoted from a protocol document in the same file; meaning unknown, CRC good.
DOLLAR = b"\x01$\t40\t3\t5\t28800\txF9EB\r\n"
# I-Lap, from the manufacturer's e-mail published by Electrathon of Tampa Bay
# (electrathonoftampabay.org, Documents/Ilap/decoder ilap.txt) and the HackyRacers
# Transponder-Documentation notes: no CRC, "SECS.MSS" with trailing zeros omitted.
ILAP_PASSING = bytes.fromhex("0140093230340933343536373839093332342e3632300d0a")
ILAP_SHORT = b"\x01@\t204\t3174966\t12.226\r\n"
ILAP_ACK = b"\x01%\t204\t0\t0\r\n"


def decode(data: bytes, *, crc: bool = True) -> list[DecodeResult]:
    return AmbLegacyDecoder(crc=crc).receive(data)


def test_real_vostok_lines_decode() -> None:
    assert decode(b"".join(VOSTOK)) == [
        Status("101", 1378, 0),
        Passing("101", "8110984", 2_434_835_000, 1379, hits=190, strength=40, status=2),
        Passing("101", "8110984", 52_083_691_000, 9788, hits=127, strength=40, status=2),
        Status("101", 9789, 0),
    ]


@pytest.mark.parametrize("line", [*VOSTOK, DOLLAR])
def test_real_lines_reencode_byte_exact(line: bytes) -> None:
    (record,) = decode(line)
    assert not isinstance(record, BadRecord)
    assert encode(record) == line


def test_records_built_by_hand_encode_like_the_decoder() -> None:
    passing = Passing("101", "8110984", 2_434_835_000, 1379, hits=190, strength=40, status=2)
    assert encode(passing) == VOSTOK[1]
    assert encode(Status("101", 1378, 0)) == VOSTOK[0]


def test_unknown_record_type_is_kept() -> None:
    assert decode(DOLLAR) == [UnknownRecord("$", ("40", "3", "5", "28800"))]


def test_ilap_without_crc() -> None:
    decoder = AmbLegacyDecoder(crc=False)
    assert decoder.receive(ILAP_ACK + ILAP_PASSING + ILAP_SHORT) == [
        Init("204"),
        Passing("204", "3456789", 324_620_000),
        Passing("204", "3174966", 12_226_000),
    ]
    assert (decoder.records, decoder.bad_records, decoder.junk_bytes) == (3, 0, 0)
    assert ILAP_INIT == b"\x01%\r\n"


def test_ilap_mode_still_checks_a_crc_that_is_there() -> None:
    bad = VOSTOK[1].replace(b"2434.835", b"2434.836")
    assert decode(VOSTOK[1] + bad, crc=False) == [
        decode(VOSTOK[1])[0],
        BadRecord(BadRecordReason.BAD_CRC, bad),
    ]


def test_amb_mode_rejects_a_line_without_crc() -> None:
    assert decode(ILAP_PASSING) == [BadRecord(BadRecordReason.MISSING_CRC, ILAP_PASSING)]


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("324.62", 324_620_000),
        ("324.620", 324_620_000),
        ("0.000001", 1),
        ("52083.691", 52_083_691_000),
        ("7", 7_000_000),
        ("7.", 7_000_000),
        ("999999999999.999999", 999_999_999_999_999_999),
    ],
)
def test_time_is_parsed_exactly(text: str, micros: int) -> None:
    assert parse_time_us(text) == micros


@pytest.mark.parametrize("text", ["", ".5", "1.2345678", "-1.0", "1e3", "1,5", " 1.0", "\uff10.1"])
def test_time_rejects_what_is_not_decimal_seconds(text: str) -> None:
    assert parse_time_us(text) is None


def test_format_time() -> None:
    assert format_time(2_434_835_000) == "2434.835"
    assert format_time(1) == "0.000001"
    assert format_time(0) == "0.000"
    with pytest.raises(ValueError, match="negative"):
        format_time(-1)
    with pytest.raises(ValueError, match="10 years"):
        format_time(10**18)


def p98(number: str, time: str, hits: str = "40", strength: str = "190") -> bytes:
    body = f"@\t101\t{number}\t8110984\t{time}\t{hits}\t{strength}\t2".encode()
    return b"\x01" + body + b"\tx%04X\r\n" % crc16(body + b"\t")


@pytest.mark.parametrize(
    "wire",
    [
        p98("4294967296", "2434.835"),  # a passing number past 4 bytes
        p98("1379", "315576000.000001"),  # a decoder clock past 10 years
        p98("1379", "999999999999.0"),
        p98("1379", "2434.835", hits="65536"),
        p98("1379", "2434.835", strength="99999999"),
        b"\x01#\t101\t1378\t65536\r\n",  # noise past 2 bytes (I-Lap style: no CRC)
    ],
)
def test_values_out_of_range_are_bad_fields(wire: bytes) -> None:
    result = parse_record(wire, crc=False)
    assert isinstance(result, BadRecord)
    assert result.reason == BadRecordReason.BAD_FIELD


def test_values_at_the_limits_decode() -> None:
    result = parse_record(p98("4294967295", "315576000.000", hits="65535", strength="0"))
    assert isinstance(result, Passing)
    assert (result.passing_number, result.time_us, result.hits) == (
        2**32 - 1,
        315576 * 10**9,
        65535,
    )


GOOD = VOSTOK[1]
CUT = GOOD[:20]  # SOH .. part of the transponder, then the line is lost


def summary(results: list[DecodeResult]) -> list[str]:
    """P for a passing, S for a status, else the reason of the bad record."""
    return [
        str(r.reason) if isinstance(r, BadRecord) else {Passing: "P", Status: "S"}[type(r)]
        for r in results
    ]


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        # junk before, between and after records: counted, skipped
        (b"\xff\x00junk" + GOOD + b"\r\n\n" + VOSTOK[0] + b"tail", ["P", "S"]),
        # corrupt CRC digit, then a good record
        (GOOD.replace(b"x26C0", b"x26C1") + VOSTOK[0], ["bad crc", "S"]),
        # a field changed in transit (CRC no longer matches)
        (GOOD.replace(b"8110984", b"8110985"), ["bad crc"]),
        # truncated: a record starts before the previous one ended
        (CUT + GOOD, ["truncated", "P"]),
        # spliced: the head of one line glued to the tail of another, one SOH, one LF
        (CUT + VOSTOK[2][20:], ["bad crc"]),
        # a control byte or a non-ASCII byte inside the line
        (GOOD.replace(b"\t190", b"\x07190"), ["bad byte"]),
        (GOOD.replace(b"2434", b"\xe92434"), ["bad byte"]),
        # an empty record; a bare LF ending and lower-case CRC digits are accepted
        (b"\x01\r\n", ["missing crc"]),
        (GOOD[:-2] + b"\n", ["P"]),
        (VOSTOK[0].replace(b"x53D2", b"x53d2"), ["S"]),
    ],
)
def test_stream_table(stream: bytes, expected: list[str]) -> None:
    decoder = AmbLegacyDecoder()
    assert summary(decoder.receive(stream)) == expected
    assert decoder.bad_records == sum(e not in ("P", "S") for e in expected)


def test_junk_is_counted() -> None:
    decoder = AmbLegacyDecoder()
    decoder.receive(b"\xff\x00junk" + GOOD + b"\r\n\n" + VOSTOK[0] + b"tail")
    assert decoder.junk_bytes == 6 + 3 + 4 and decoder.records == 2 and decoder.buffered == 0


def with_crc(body: bytes) -> bytes:
    text = body + b"\t"
    return b"\x01" + text + b"x%04X\r\n" % crc16(text)


@pytest.mark.parametrize(
    "body",
    [
        "@\t101\t12\t3444425\t46.82\t61\t40",  # P98 passing with 6 fields
        "@\t101\t3444425",  # too few
        "@\t101\tx\t3444425\t46.82\t61\t40\t2",  # number not a number
        "@\t101\t12\t34 44\t46.82\t61\t40\t2",  # transponder with a space
        "@\t101\t12\t3444425\t46,82\t61\t40\t2",  # decimal comma
        "@\t101\t12\t3444425\t46.82\t-1\t40\t2",  # negative hits
        "#\t101\t7",  # status without noise
        "#\t\t7\t0",  # status without decoder id
        "%",  # I-Lap ack without decoder id
        "@@\t101\t204",  # two-character type
    ],
)
def test_bad_fields_are_reported_with_a_valid_crc(body: str) -> None:
    wire = with_crc(body.encode())
    assert parse_record(wire) == BadRecord(BadRecordReason.BAD_FIELD, wire)


def test_extra_fields_are_kept_and_reencoded() -> None:
    wire = with_crc(b"@\t101\t12\t3444425\t46.82\t61\t40\t2\t99")
    record = parse_record(wire)
    assert record == Passing("101", "3444425", 46_820_000, 12, hits=61, strength=40, status=2)
    assert isinstance(record, Passing) and record.fields[-1] == "99"
    assert encode(record) == wire


@pytest.mark.parametrize("first_read", [50, 70])
def test_oversize_line_is_dropped_and_the_stream_resyncs(first_read: int) -> None:
    decoder = AmbLegacyDecoder(max_record_size=64)
    long_line = b"\x01@" + b"\t1" * 40 + b"\r\n"
    first = decoder.receive(long_line[:first_read])
    results = first + decoder.receive(long_line[first_read:] + VOSTOK[0])
    assert summary(results) == ["oversize", "S"]
    assert isinstance(results[0], BadRecord) and len(results[0].data) == 64
    assert decoder.buffered == 0 and decoder.bad_records == 1
    # Read in one piece the whole line is the bad record; if the limit is hit before its
    # LF arrives, what is left of it is junk until the next SOH.
    assert decoder.junk_bytes == (0 if first_read < 64 else len(long_line) - first_read)


def test_buffer_stays_bounded_without_any_delimiter() -> None:
    decoder = AmbLegacyDecoder(max_record_size=32)
    for _ in range(100):
        decoder.receive(b"\x01" + b"a" * 50)
        assert decoder.buffered <= 51
    assert decoder.bad_records == 100


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (Passing("101", "81 10", 1, 1, 1, 1, 1), "letters or digits"),
        (Passing("101", "8110", -1, 1, 1, 1, 1), "negative"),
        (Passing("101", "8110", 1, -1, 1, 1, 1), "out of range"),
        (Passing("101", "8110", 1, 1), "needs hits, strength and status"),
        (Passing("101", "8110", 1, hits=3), "no hits/strength/status"),
        (Status("", 1, 0), "letters or digits"),
        (UnknownRecord("$", ("a\tb",)), "without TAB"),
        (UnknownRecord("@", ()), "is known"),
        (UnknownRecord("ab", ()), "one printable"),
        (UnknownRecord("$", ("x" * 300,)), "exceeds"),
    ],
)
def test_encoder_misuse_raises(record: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode(record)  # type: ignore[arg-type]


def test_encoder_refuses_a_last_field_that_would_read_as_a_crc() -> None:
    with pytest.raises(ValueError, match="read as a CRC"):
        encode(UnknownRecord("$", ("xBEEF",)), crc=False)
    assert decode(encode(UnknownRecord("$", ("xBEEF",)))) == [UnknownRecord("$", ("xBEEF",))]


def test_decoder_rejects_silly_limits() -> None:
    with pytest.raises(ValueError, match="max_record_size"):
        AmbLegacyDecoder(max_record_size=4)
