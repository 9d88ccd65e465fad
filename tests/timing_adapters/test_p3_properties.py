"""Hypothesis properties of the P3 codec: chunking, junk, random bytes and round trips."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.timing_data import TIMING_DATA
from timing_adapters.capture import read_hex_capture
from timing_adapters.p3 import (
    MAX_PASSING_NUMBER,
    BadFrame,
    BadFrameReason,
    DecodeResult,
    Field,
    GetTime,
    P3Decoder,
    Passing,
    Record,
    RecordType,
    Resend,
    Status,
    UnknownRecord,
    Version,
    encode,
)
from timing_adapters.p3.layouts import MAX_RTC_US

DATA = TIMING_DATA
# vmindru/ambp3client test_server/amb-short.out, commit 072b0084 (Apache-2.0).
SHORT = read_hex_capture(DATA / "p3-karting-ambp3client" / "amb-short.out")
STREAM = b"".join(SHORT)
EXPECTED = P3Decoder().receive(STREAM)

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode_chunks(chunks: list[bytes]) -> tuple[list[DecodeResult], P3Decoder]:
    decoder = P3Decoder()
    results: list[DecodeResult] = []
    for chunk in chunks:
        results += decoder.receive(chunk)
    return results, decoder


def test_whole_stream_and_byte_by_byte_agree() -> None:
    assert len(EXPECTED) == len(SHORT)
    results, decoder = decode_chunks([STREAM[i : i + 1] for i in range(len(STREAM))])
    assert results == EXPECTED
    assert [r.fields for r in results] == [r.fields for r in EXPECTED]  # type: ignore[union-attr]
    assert decoder.buffered == 0


@FAST
@given(st.lists(st.integers(0, len(STREAM)), max_size=60))
def test_random_split_points_change_nothing(cuts: list[int]) -> None:
    edges = [0, *sorted(cuts), len(STREAM)]
    results, decoder = decode_chunks([STREAM[a:b] for a, b in itertools.pairwise(edges)])
    assert results == EXPECTED
    assert (decoder.frames, decoder.bad_frames, decoder.junk_bytes) == (len(SHORT), 0, 0)


# Bytes that look like P3: mostly delimiters, escapes and small values.
p3ish = st.binary(max_size=80) | st.lists(
    st.sampled_from(b"\x8d\x8e\x8f\xad\xae\xaf\x00\x01\x02\x1f"), max_size=80
).map(bytes)


@FAST
@given(st.lists(st.binary(max_size=300) | p3ish, max_size=8))
def test_random_bytes_never_raise(chunks: list[bytes]) -> None:
    results, decoder = decode_chunks(chunks)
    assert decoder.frames + decoder.bad_frames == len(results)
    assert decoder.buffered <= 2 * decoder.max_frame_size
    assert decoder.junk_bytes + decoder.buffered <= sum(map(len, chunks))


@FAST
@given(st.lists(p3ish, min_size=len(SHORT[:12]), max_size=len(SHORT[:12])), st.binary(max_size=40))
def test_junk_between_frames_never_loses_a_frame(junk: list[bytes], tail: bytes) -> None:
    frames = SHORT[:12]
    stream = b"".join(j + f for j, f in zip(junk, frames, strict=True)) + tail
    results, _ = decode_chunks([stream])
    good: Iterator[DecodeResult] = iter(r for r in results if not isinstance(r, BadFrame))
    # The real frames come out in order; junk may add bad (or, rarely, lucky) frames.
    assert all(record in good for record in EXPECTED[:12])


u = st.integers  # short aliases keep the strategies readable
opt = st.none
CODES = st.from_regex(r"[0-9A-Za-z-]{1,32}", fullmatch=True)  # transponder strings (0x0A)


def records() -> st.SearchStrategy[Record]:
    ascii_text = st.text(st.characters(min_codepoint=1, max_codepoint=127), max_size=30)
    known_tors = {int(t) for t in RecordType} - {RecordType.RESET, RecordType.CLEAR_PASSING}
    return st.one_of(
        st.builds(
            Passing,
            passing_number=u(0, 2**32 - 1),
            transponder=u(0, 2**32 - 1),
            rtc_time_us=u(0, MAX_RTC_US - 1),
            strength=opt() | u(0, 2**16 - 1),
            hits=opt() | u(0, 2**16 - 1),
            flags=opt() | u(0, 2**16 - 1),
            decoder_id=opt() | u(0, 2**32 - 1),
            transponder_code=opt() | CODES,
        ),
        # a decoder that sends only the string (field 0x0A), not the number
        st.builds(
            Passing,
            passing_number=u(0, 2**32 - 1),
            transponder=opt(),
            rtc_time_us=u(0, MAX_RTC_US - 1),
            transponder_code=CODES,
        ),
        st.builds(
            Status,
            noise=opt() | u(0, 2**16 - 1),
            gps=opt() | u(0, 255),
            temperature=opt() | u(0, 2**16 - 1),
            loop_triggers=opt() | u(0, 255),
            input_voltage=opt() | u(0, 255),
            decoder_id=opt() | u(0, 2**32 - 1),
        ),
        st.builds(
            Version,
            decoder_id=opt() | u(0, 2**32 - 1),
            description=opt() | ascii_text,
            version=opt() | ascii_text,
        ),
        st.tuples(u(0, 2**32 - 1), u(0, 2**32 - 1)).map(
            lambda pair: Resend(from_passing=min(pair), until_passing=max(pair))
        ),
        st.builds(GetTime, rtc_time_us=opt() | u(0, MAX_RTC_US - 1)),
        st.builds(
            UnknownRecord,
            tor=u(0, 0xFFFF).filter(lambda t: t not in known_tors),
            fields=st.lists(
                st.builds(Field, tid=u(0, 255), value=st.binary(max_size=40)), max_size=8
            ).map(tuple),
        ),
    )


@FAST
@given(
    st.sampled_from(sorted(RecordType)),
    st.lists(
        st.tuples(
            st.sampled_from([0, 1, 2, 3, 4, 5, 6, 8, 0x0A, 0x81]),
            st.binary(max_size=9) | CODES.map(str.encode),
        )
    ),
)
def test_any_fields_under_a_known_type(tor: int, fields: list[tuple[int, bytes]]) -> None:
    wire = encode(UnknownRecord(tor, tuple(Field(t, v) for t, v in fields)))
    [result] = P3Decoder().receive(wire)
    # Either a missing mandatory field, a field of the wrong width or out of range, or a
    # record that keeps its fields as they came, every value within what the wire can say.
    if isinstance(result, BadFrame):
        assert result.reason in (BadFrameReason.MISSING_FIELD, BadFrameReason.BAD_FIELD)
        return
    if fields:  # a record without fields is rebuilt from its attributes instead
        assert encode(result) == wire
    if isinstance(result, Passing):
        assert 0 <= result.passing_number <= MAX_PASSING_NUMBER
        assert result.transponder is None or 0 <= result.transponder < 2**32
        code = result.transponder_code
        assert code is None or re.fullmatch(r"[0-9A-Za-z-]{1,32}", code), code
        assert result.transponder is not None or code is not None
        assert 0 <= result.rtc_time_us < MAX_RTC_US
        assert all(v is None or 0 <= v < 2**16 for v in (result.strength, result.hits))
    if isinstance(result, Resend):
        assert 0 <= result.from_passing <= result.until_passing <= MAX_PASSING_NUMBER


@settings(max_examples=150, deadline=None)
@given(records())
def test_encode_decode_round_trip(record: Record) -> None:
    wire = encode(record)
    decoder = P3Decoder()
    [decoded] = decoder.receive(wire)
    assert decoded == record
    assert encode(decoded) == wire  # re-encoding from the kept fields is byte-exact
    assert wire.count(b"\x8e") == 1 and wire.count(b"\x8f") == 1
