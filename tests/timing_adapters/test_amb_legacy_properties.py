"""Hypothesis properties of the AMB legacy / I-Lap codec: chunking, junk, round trips."""

from __future__ import annotations

import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timing_adapters.amb_legacy import (
    MAX_RECORD_SIZE,
    AmbLegacyDecoder,
    BadRecord,
    DecodeResult,
    Init,
    Passing,
    Record,
    Status,
    UnknownRecord,
    encode,
    format_time,
    parse_record,
    parse_time_us,
)
from timing_adapters.amb_legacy.wire import MAX_NUMBER, MAX_SMALL, MAX_TIME_US

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ids = st.from_regex(r"[0-9A-Za-z]{1,12}", fullmatch=True)
counts = st.integers(0, MAX_NUMBER)
small = st.integers(0, MAX_SMALL)
times = st.integers(0, MAX_TIME_US)
p98_passings = st.builds(Passing, ids, ids, times, counts, hits=small, strength=small, status=small)
ilap_passings = st.builds(Passing, ids, ids, times)
statuses = st.builds(Status, ids, counts, small)
inits = st.builds(Init, ids)
unknowns = st.builds(
    UnknownRecord,
    st.from_regex(r"[\x20-\x7e]", fullmatch=True).filter(lambda k: k not in "@#%"),
    st.lists(st.from_regex(r"[\x20-\x7e]{0,10}", fullmatch=True), max_size=5).map(tuple),
)
records = st.one_of(p98_passings, ilap_passings, statuses, inits, unknowns)


def stream_of(items: list[Record]) -> bytes:
    return b"".join(encode(r) for r in items)


def decode_chunks(chunks: list[bytes], *, crc: bool = True) -> list[DecodeResult]:
    decoder = AmbLegacyDecoder(crc=crc)
    results: list[DecodeResult] = []
    for chunk in chunks:
        results += decoder.receive(chunk)
    assert decoder.buffered <= MAX_RECORD_SIZE
    return results


@FAST
@given(records)
def test_encode_decode_round_trip(record: Record) -> None:
    assert parse_record(encode(record)) == record
    assert decode_chunks([encode(record)]) == [record]


@FAST
@given(st.one_of(ilap_passings, statuses, inits))
def test_round_trip_without_crc(record: Record) -> None:
    wire = encode(record, crc=False)
    # no CRC suffix (a decoder id may itself start with "x", so look at the end only)
    assert re.search(rb"\tx[0-9A-F]{4}\r\n\Z", wire) is None
    assert parse_record(wire, crc=False) == record


@FAST
@given(records)
def test_decoded_records_reencode_byte_exact(record: Record) -> None:
    wire = encode(record)
    decoded = parse_record(wire)
    assert not isinstance(decoded, BadRecord)
    assert encode(decoded) == wire


@FAST
@given(st.lists(records, min_size=1, max_size=8), st.data())
def test_random_split_points_change_nothing(items: list[Record], data: st.DataObject) -> None:
    stream = stream_of(items)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=30))
    edges = [0, *sorted(cuts), len(stream)]
    assert decode_chunks([stream[a:b] for a, b in itertools.pairwise(edges)]) == items


def test_byte_at_a_time_equals_one_chunk() -> None:
    items: list[Record] = [
        Status("101", 1, 3),
        Passing("101", "8110984", 12_345_678, 2, hits=9, strength=40, status=2),
        UnknownRecord("$", ("40", "3")),
    ]
    stream = b"junk" + stream_of(items) + b"\x01@\t1"
    assert decode_chunks([stream[i : i + 1] for i in range(len(stream))]) == items


@FAST
@given(st.binary(max_size=600), st.booleans())
def test_random_bytes_never_raise(data: bytes, crc: bool) -> None:
    decoder = AmbLegacyDecoder(crc=crc)
    results = decoder.receive(data)
    assert decoder.records + decoder.bad_records == len(results)
    assert decoder.buffered <= MAX_RECORD_SIZE


@FAST
@given(
    st.lists(st.one_of(records, st.binary(max_size=40)), max_size=10),
    st.lists(st.integers(0, 10_000), max_size=10),
)
def test_good_records_survive_junk_between_them(
    parts: list[Record | bytes], cuts: list[int]
) -> None:
    """Junk without SOH never hides a record that follows it."""
    chunks = [p.replace(b"\x01", b"") if isinstance(p, bytes) else encode(p) for p in parts]
    stream = b"".join(chunks)
    edges = [0, *sorted(c % (len(stream) + 1) for c in cuts), len(stream)]
    results = decode_chunks([stream[a:b] for a, b in itertools.pairwise(edges)])
    wanted = [p for p in parts if not isinstance(p, bytes)]
    assert [r for r in results if not isinstance(r, BadRecord)] == wanted


@FAST
@given(records, st.data())
def test_a_changed_byte_is_never_a_silent_wrong_record(record: Record, data: st.DataObject) -> None:
    """CRC-16 catches every single-byte error; only a hex digit's case may change freely."""
    wire = bytearray(encode(record))
    pos = data.draw(st.integers(1, len(wire) - 3))  # type character .. last CRC digit
    new = data.draw(st.integers(0, 255).filter(lambda b: b not in (wire[pos], 0x01, 0x0A)))
    wire[pos] = new
    (result,) = AmbLegacyDecoder().receive(bytes(wire))
    assert isinstance(result, BadRecord) or result == record


@FAST
@given(times)
def test_time_text_round_trip(time_us: int) -> None:
    assert parse_time_us(format_time(time_us)) == time_us
