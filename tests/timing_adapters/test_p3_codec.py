"""P3Decoder and encode on hand-made byte tables: split, merged, escaped, corrupt, junk."""

from __future__ import annotations

import struct

import pytest

from timing_adapters.p3 import (
    MAX_FRAME_SIZE,
    BadFrame,
    BadFrameReason,
    DecodeResult,
    Field,
    GetTime,
    P3Decoder,
    Passing,
    RecordType,
    Resend,
    Status,
    UnknownRecord,
    Version,
    decode_frame,
    encode,
    encode_get_time,
    encode_resend,
    escape,
    frame_crc,
)

# First STATUS line of vmindru/ambp3client test_server/amb.out (Apache-2.0).
STATUS_WIRE = bytes.fromhex("8e021f004d7c0000020001022700070216000c01760601008104131804008f")
STATUS = Status(noise=0x27, gps=0, temperature=0x16, input_voltage=0x76, decoder_id=0x41813)
PASSING = Passing(
    passing_number=7,
    transponder=0x8E8D8F,  # every special byte, so the frame carries escapes
    rtc_time_us=1_551_542_808_933_000,
    strength=120,
    hits=40,
    flags=0,
    decoder_id=0x41813,
)
PASSING_WIRE = encode(PASSING)


def frame(tor: int, body: bytes, *, length: int | None = None, crc: int | None = None) -> bytes:
    """A wire frame with a chosen (possibly wrong) LENGTH or CRC."""
    size = 10 + len(body) + 1 if length is None else length
    plain = struct.pack("<BBHHHH", 0x8E, 2, size, 0, 0, tor) + body + b"\x8f"
    crc = frame_crc(plain) if crc is None else crc
    return b"\x8e" + escape(plain[1:4] + crc.to_bytes(2, "little") + plain[6:-1]) + b"\x8f"


def kinds(results: list[DecodeResult]) -> list[str]:
    return [r.reason if isinstance(r, BadFrame) else type(r).__name__ for r in results]


def test_status_frame_decodes() -> None:
    decoder = P3Decoder()
    assert decoder.receive(STATUS_WIRE) == [STATUS]
    assert (decoder.frames, decoder.bad_frames, decoder.junk_bytes, decoder.buffered) == (
        1,
        0,
        0,
        0,
    )


def test_passing_with_escapes_round_trips() -> None:
    assert b"\x8d\xae" in PASSING_WIRE and b"\x8d\xad" in PASSING_WIRE
    assert PASSING_WIRE.count(b"\x8e") == 1 and PASSING_WIRE.count(b"\x8f") == 1
    [decoded] = P3Decoder().receive(PASSING_WIRE)
    assert decoded == PASSING
    assert encode(decoded) == PASSING_WIRE


@pytest.mark.parametrize("cut", range(1, len(STATUS_WIRE)))
def test_split_anywhere(cut: int) -> None:
    decoder = P3Decoder()
    assert decoder.receive(STATUS_WIRE[:cut]) == []
    assert decoder.buffered == cut
    assert decoder.receive(STATUS_WIRE[cut:]) == [STATUS]


def test_merged_frames_in_one_chunk() -> None:
    decoder = P3Decoder()
    assert decoder.receive(STATUS_WIRE + PASSING_WIRE + STATUS_WIRE) == [STATUS, PASSING, STATUS]
    assert decoder.frames == 3


BAD_CASES: list[tuple[str, bytes, list[str], int]] = [
    # (name, stream, results, junk bytes)
    ("junk before", b"\x00\x01junk" + STATUS_WIRE, ["Status"], 6),
    ("stray EOR", b"\x8f" + STATUS_WIRE, ["Status"], 1),
    ("junk only", b"no frame here\x8f", [], 14),
    ("bad crc", STATUS_WIRE[:12] + b"\x28" + STATUS_WIRE[13:], ["bad crc"], 0),
    ("crc off by one", frame(2, b"\x01\x02\x27\x00", crc=0x1234), ["bad crc"], 0),
    ("length too big", frame(2, b"\x01\x02\x27\x00", length=16), ["length mismatch"], 0),
    ("length too small", frame(2, b"\x01\x02\x27\x00", length=11), ["length mismatch"], 0),
    ("bad escape", STATUS_WIRE[:-2] + b"\x8d\x00\x8f", ["bad escape"], 0),
    ("escape at end", STATUS_WIRE[:-1] + b"\x8d\x8f", ["bad escape"], 0),
    ("no header", b"\x8e\x02\x1f\x00\x8f", ["truncated"], 0),
    ("empty frame", b"\x8e\x8f", ["truncated"], 0),
    ("truncated", STATUS_WIRE[:20] + STATUS_WIRE, ["truncated", "Status"], 0),
    ("truncated twice", b"\x8e\x8e" + STATUS_WIRE, ["truncated", "truncated", "Status"], 0),
    ("field overrun", frame(2, b"\x01\x05\x27\x00"), ["field overrun"], 0),
    ("field header cut", frame(2, b"\x01\x02\x27\x00\x07"), ["field overrun"], 0),
    ("passing without transponder", frame(1, b"\x01\x01\x05\x04\x01\x09"), ["missing field"], 0),
    ("resend without until", frame(4, b"\x01\x01\x05"), ["missing field"], 0),
    ("unknown tor", frame(0x45, b"\x01\x01\x05"), ["UnknownRecord"], 0),
    ("no fields", frame(2, b""), ["Status"], 0),
]


@pytest.mark.parametrize(
    ("stream", "expected", "junk"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES]
)
def test_corrupt_input_table(stream: bytes, expected: list[str], junk: int) -> None:
    whole, by_byte = P3Decoder(), P3Decoder()
    results = whole.receive(stream)
    assert kinds(results) == expected
    assert whole.junk_bytes == junk
    assert whole.bad_frames == sum(isinstance(r, BadFrame) for r in results)
    assert whole.frames == len(results) - whole.bad_frames
    assert [r for b in stream for r in by_byte.receive(bytes([b]))] == results
    # After any of these, the decoder is back in sync.
    assert whole.receive(STATUS_WIRE) == [STATUS]


def test_bad_frame_keeps_the_bytes() -> None:
    corrupt = STATUS_WIRE[:12] + b"\x28" + STATUS_WIRE[13:]
    assert P3Decoder().receive(corrupt) == [BadFrame(BadFrameReason.BAD_CRC, corrupt)]


def test_unknown_record_keeps_fields() -> None:
    [record] = P3Decoder().receive(frame(0x45, b"\x01\x01\x05\x99\x00"))
    assert record == UnknownRecord(0x45, (Field(1, b"\x05"), Field(0x99, b"")))
    assert encode(record) == frame(0x45, b"\x01\x01\x05\x99\x00")


def test_field_order_does_not_matter() -> None:
    # Another decoder model may put the decoder id first and RTC time last.
    body = b"\x81\x04\x13\x18\x04\x00\x03\x04\x01\x00\x00\x00\x01\x04\x02\x00\x00\x00"
    body += b"\x04\x08" + (123).to_bytes(8, "little")
    [record] = P3Decoder().receive(frame(1, body))
    assert record == Passing(passing_number=2, transponder=1, rtc_time_us=123, decoder_id=0x41813)
    assert [f.tid for f in record.fields] == [0x81, 0x03, 0x01, 0x04]


def test_oversize_frame_is_dropped_and_buffer_stays_bounded() -> None:
    decoder = P3Decoder()
    results: list[DecodeResult] = []
    results += decoder.receive(b"\x8e")  # a start that never ends
    for _ in range(20):
        results += decoder.receive(b"\x00" * 500)
        assert decoder.buffered <= 2 * MAX_FRAME_SIZE
    results += decoder.receive(STATUS_WIRE)
    assert kinds(results) == ["oversize", "Status"]
    # What followed the dropped part is junk until the next frame start.
    assert decoder.junk_bytes > 7000
    assert all(len(r.data) <= 2 * MAX_FRAME_SIZE for r in results if isinstance(r, BadFrame))


def test_oversize_frame_with_its_end() -> None:
    big = frame(0x45, b"\x01\xff" + b"\x00" * 255)  # fine with the default limit
    assert kinds(P3Decoder().receive(big)) == ["UnknownRecord"]
    small = P3Decoder(max_frame_size=64)
    assert kinds(small.receive(big + STATUS_WIRE)) == ["oversize", "Status"]
    escaped = frame(0x45, b"\x01\x32" + b"\x8e" * 50)  # 61 bytes plain, 111 on the wire
    assert kinds(small.receive(escaped)) == ["UnknownRecord"]
    assert kinds(P3Decoder(max_frame_size=60).receive(escaped)) == ["oversize"]


def test_decoder_rejects_a_useless_limit() -> None:
    with pytest.raises(ValueError):
        P3Decoder(max_frame_size=10)


def test_events_drains_lazily() -> None:
    decoder = P3Decoder()
    decoder.feed(STATUS_WIRE * 3)
    events = decoder.events()
    assert next(events) == STATUS
    assert decoder.frames == 1
    assert list(events) == [STATUS, STATUS]


def test_decode_frame_single() -> None:
    assert decode_frame(STATUS_WIRE) == STATUS
    assert decode_frame(STATUS_WIRE + STATUS_WIRE) == BadFrame(
        BadFrameReason.TRUNCATED, STATUS_WIRE + STATUS_WIRE
    )
    assert isinstance(decode_frame(b""), BadFrame)


def test_encode_status_from_attributes_matches_capture() -> None:
    assert encode(STATUS) == STATUS_WIRE


def test_requests() -> None:
    assert P3Decoder().receive(encode_resend(10, 12)) == [Resend(10, 12)]
    [ask] = P3Decoder().receive(encode_get_time())
    assert ask == GetTime(rtc_time_us=None)
    answer = encode(GetTime(rtc_time_us=1_551_542_808_933_000))
    assert P3Decoder().receive(answer) == [GetTime(rtc_time_us=1_551_542_808_933_000)]


def test_version_strings() -> None:
    record = Version(decoder_id=1, description="P3 emulator", version="4.1")
    assert P3Decoder().receive(encode(record)) == [record]
    padded = frame(3, b"\x02\x04ab\x00\x00\x03\x00")
    assert P3Decoder().receive(padded) == [Version(description="ab", version="")]


@pytest.mark.parametrize(
    "call",
    [
        lambda: encode_resend(-1, 3),
        lambda: encode_resend(5, 3),
        lambda: encode(Passing(passing_number=-1, transponder=1, rtc_time_us=0)),
        lambda: encode(Passing(passing_number=1, transponder=1 << 32, rtc_time_us=0)),
        lambda: encode(Status(input_voltage=256)),
        lambda: encode(Version(description="café")),
        lambda: encode(UnknownRecord(0x10000, ())),
        lambda: encode(UnknownRecord(0x45, (Field(0x100, b""),))),
        lambda: encode(UnknownRecord(0x45, (Field(1, b"\x00" * 256),))),
        lambda: encode(UnknownRecord(0x45, (Field(1, b"\x00" * 255),) * 5)),
    ],
)
def test_encoder_misuse_raises_value_error(call: object) -> None:
    assert callable(call)
    with pytest.raises(ValueError):
        call()


# -- transponder strings (field 0x0A: ProChip and other decoders) ------------------------------


def _string_passing(code: bytes, *, number: int | None = None) -> bytes:
    fields = [Field(0x01, (7).to_bytes(4, "little"))]
    if number is not None:
        fields.append(Field(0x03, number.to_bytes(4, "little")))
    fields += [
        Field(0x0A, code),
        Field(0x04, (1_437_769_372_993_000).to_bytes(8, "little")),
        Field(0x81, (135_059).to_bytes(4, "little")),
    ]
    return encode(UnknownRecord(RecordType.PASSING, tuple(fields)))


@pytest.mark.parametrize(
    ("code", "number"), [(b"AB-12345", None), (b"AB-12345", 2906141), (b"AB-12345\x00\x00", None)]
)
def test_transponder_string_decodes_byte_by_byte(code: bytes, number: int | None) -> None:
    wire = _string_passing(code, number=number)
    decoder = P3Decoder()
    results = [r for b in wire for r in decoder.receive(bytes([b]))]
    assert len(results) == 1
    [passing] = results
    assert isinstance(passing, Passing)
    assert (passing.transponder_code, passing.transponder) == ("AB-12345", number)
    assert encode(passing) == wire  # the fields as they came


@pytest.mark.parametrize(
    "code", [b"", b"\x00\x00", b"AB 12345", b"AB-\xff345", b"A" * 33, b"AB\x0012", b"\x8e\x8f"]
)
def test_transponder_string_out_of_range_is_a_bad_frame(code: bytes) -> None:
    decoder = P3Decoder()
    [result] = decoder.receive(_string_passing(code))
    assert isinstance(result, BadFrame) and result.reason is BadFrameReason.BAD_FIELD
    assert decoder.bad_frames == 1
    # the stream goes on: the next frame decodes
    [good] = decoder.receive(_string_passing(b"CD-54321"))
    assert isinstance(good, Passing) and good.transponder_code == "CD-54321"


def test_transponder_string_from_attributes_round_trips() -> None:
    passing = Passing(3, None, 1_437_769_372_993_000, decoder_id=1, transponder_code="AB-12345")
    [decoded] = P3Decoder().receive(encode(passing))
    assert decoded == passing
    with pytest.raises(ValueError, match="not a code"):
        encode(Passing(3, None, 0, transponder_code="AB 12"))
