"""Hypothesis properties of the RMonitor codec: random bytes, split points, round trips."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timing_adapters.rmonitor import (
    BadLine,
    ClassInfo,
    Competitor,
    CompetitorExt,
    DecodeResult,
    Flag,
    Heartbeat,
    Init,
    LineCrossing,
    Passing,
    PracticePosition,
    RacePosition,
    Record,
    RMonitorDecoder,
    Run,
    Setting,
    UnknownRecord,
    decode_line,
    encode,
    format_time,
    parse_time,
)

S = 1_000_000


def hms(h: int, m: int, s: int, ms: int = 0) -> int:
    return ((h * 60 + m) * 60 + s) * S + ms * 1000


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text a feed can carry: cp1252 without control characters (the encoder turns those into
# spaces), including commas, quotes and "$".
CP1252 = st.characters(codec="cp1252", exclude_categories=["Cc"])
text = st.text(CP1252, max_size=12)
ms = st.integers(0, 999 * 3600 * 1000 + 3599_999).map(lambda v: v * 1000)
seconds = st.integers(0, 99 * 3600).map(lambda v: v * 1_000_000)
number = st.integers(0, 9_999_999_999)
small = st.integers(0, 99_999)
opt = st.none() | small
flag = st.sampled_from(list(Flag))
extra = st.lists(text, max_size=2).map(tuple)

records: st.SearchStrategy[Record] = st.one_of(
    st.builds(Heartbeat, number, seconds | ms, seconds | ms, seconds | ms, flag, extra),
    st.builds(Competitor, text, text, text, text, text, text, opt, extra),
    st.builds(CompetitorExt, text, text, opt, text, text, text, text, extra),
    st.builds(Run, number, text, extra),
    st.builds(ClassInfo, number, text, extra),
    st.builds(Setting, text, text, extra),
    st.builds(RacePosition, small, text, opt, st.none() | ms, extra),
    st.builds(PracticePosition, small, text, opt, st.none() | ms, extra),
    st.builds(Init, seconds | ms, text, extra),
    st.builds(Passing, text, ms, ms, extra),
    st.builds(LineCrossing, text, text, text, text, ms, opt, st.none() | text, extra),
    st.builds(
        UnknownRecord,
        st.from_regex(r"\$RM[A-Z]{0,4}", fullmatch=True),
        st.lists(text, max_size=4).map(tuple),
    ),
)


@FAST
@given(records)
def test_encode_then_decode_round_trips(record: Record) -> None:
    wire = encode(record)
    assert wire.endswith(b"\r\n") and wire.count(b"\n") == 1
    assert decode_line(wire[:-2]) == record
    assert RMonitorDecoder().receive(wire) == [record]


@FAST
@given(st.lists(records, min_size=1, max_size=12), st.lists(st.integers(0, 2000), max_size=30))
def test_random_split_points_change_nothing(batch: list[Record], cuts: list[int]) -> None:
    stream = b"".join(encode(r) for r in batch) + b'$G,1,"7",3\r\n'  # and one truncated line
    expected = RMonitorDecoder().receive(stream)
    assert expected[:-1] == batch and isinstance(expected[-1], BadLine)
    edges = [0, *sorted(c % (len(stream) + 1) for c in cuts), len(stream)]
    decoder = RMonitorDecoder()
    results: list[DecodeResult] = []
    for a, b in itertools.pairwise(edges):
        results += decoder.receive(stream[a:b])
    assert results == expected
    assert (decoder.records, decoder.bad_lines, decoder.buffered) == (len(batch), 1, 0)


# Bytes that look like RMonitor: mostly its punctuation, digits and record letters.
rmonitorish = st.lists(
    st.sampled_from(list(b'$,"\r\n:.0123456789AFGHJLRM \x81\xe9')), max_size=200
).map(bytes)


@FAST
@given(st.lists(st.binary(max_size=300) | rmonitorish, max_size=8))
def test_random_bytes_never_raise(chunks: list[bytes]) -> None:
    decoder = RMonitorDecoder(max_line=128)
    results: list[DecodeResult] = []
    for chunk in chunks:
        results += decoder.receive(chunk)
        assert decoder.buffered <= 128 + 1 + len(chunk)
    assert decoder.records + decoder.bad_lines == len(results)
    for result in results:
        if isinstance(result, BadLine):
            assert len(result.line) <= 128
            continue
        # Whatever decodes re-encodes, its text sanitised, to a line that is a fixed point
        # of decode -> encode, unless the wire cannot carry it (a U+FFFD from an
        # undecodable byte, a time finer than a millisecond).
        try:
            wire = encode(result)
        except ValueError:
            continue
        again = decode_line(wire[:-2])
        assert not isinstance(again, BadLine)
        assert encode(again) == wire


@pytest.mark.parametrize(
    ("text", "us"),
    [
        ("00:00:00", 0),
        ("01:02:03.4", hms(1, 2, 3, 400)),
        ("01:02:03.45", hms(1, 2, 3, 450)),
        ("01:02:03.456", hms(1, 2, 3, 456)),
        ("01:02:03.456789", hms(1, 2, 3) + 456_789),
        ("123:59:59.999", hms(123, 59, 59, 999)),
        ("0:00:01", S),
    ],
)
def test_times_parse_exactly(text: str, us: int) -> None:
    assert parse_time(text) == us


@pytest.mark.parametrize(
    "text", ["", "1:2:3", "00:60:00", "00:00:60", "00:00:00.", "00:00:00.1234567", "-0:00:01"]
)
def test_not_times(text: str) -> None:
    assert parse_time(text) is None


def test_time_formats() -> None:
    assert format_time(hms(1, 2, 3, 45)) == "01:02:03.045"
    assert format_time(hms(1, 2, 3)) == "01:02:03.000"
    assert format_time(hms(1, 2, 3), millis=False) == "01:02:03"
    assert format_time(hms(1, 2, 3, 5), millis=False) == "01:02:03.005"
    assert format_time(hms(100, 0, 0)) == "100:00:00.000"


@FAST
@given(ms)
def test_times_round_trip(us: int) -> None:
    assert parse_time(format_time(us)) == us
    assert parse_time(format_time(us, millis=False)) == us
