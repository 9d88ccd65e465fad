"""Hypothesis properties of the MyLaps T&S codec: chunking, junk, random bytes, round trips."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.fixtures.timing_data import TIMING_DATA
from timing_adapters.mylaps_ts import (
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
    Store,
    UnknownMessage,
    encode,
    encode_chip_record,
    encode_passing_record,
    make_passing,
    parse_chip_record,
    parse_message,
    parse_passing_record,
)
from timing_adapters.mylaps_ts.capture import client_stream, read_forwarder_log

DATA = TIMING_DATA
# racemap/mylaps-to-racemap-forwarder, logs/MyLapsInputAdapter-by-sporttijden.log,
# commit b6471c20 (MIT). The first 400 entries: Pong, GetLocations, AckGetInfo, Store, ...
LOG = DATA / "mylaps-ts-exchange" / "racemap_MyLapsInputAdapter-by-sporttijden.log"
STREAM = client_stream(read_forwarder_log(LOG.read_bytes())[:400])
SMALL = 256  # a small max_message_size so that oversize messages are generated too

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode(chunks: list[bytes], max_size: int = 32_768) -> tuple[list[Received], MessageFramer]:
    framer = MessageFramer(max_message_size=max_size)
    out: list[Received] = []
    for chunk in chunks:
        out += framer.receive(chunk)
    return out, framer


EXPECTED, _WHOLE = decode([STREAM])


def counters(framer: MessageFramer) -> tuple[int, int, int, int]:
    return framer.messages, framer.bad_messages, framer.junk_bytes, framer.buffered


def test_whole_stream_and_byte_by_byte_agree() -> None:
    assert len(EXPECTED) == 400 and not any(isinstance(m, BadMessage) for m in EXPECTED)
    results, framer = decode([STREAM[i : i + 1] for i in range(len(STREAM))])
    assert results == EXPECTED
    assert counters(framer) == counters(_WHOLE)


@FAST
@given(st.lists(st.integers(0, len(STREAM)), max_size=60))
def test_random_split_points_change_nothing(cuts: list[int]) -> None:
    edges = [0, *sorted(cuts), len(STREAM)]
    results, framer = decode([STREAM[a:b] for a, b in itertools.pairwise(edges)])
    assert results == EXPECTED
    assert counters(framer) == counters(_WHOLE)


@FAST
@given(st.binary(max_size=2_000), st.lists(st.integers(0, 2_000), max_size=20))
def test_random_bytes_never_raise_and_split_points_change_nothing(
    data: bytes, cuts: list[int]
) -> None:
    whole, framer = decode([data], SMALL)
    assert all(isinstance(m, Received) for m in whole)
    assert framer.buffered <= SMALL
    edges = [0, *sorted(c for c in cuts if c <= len(data)), len(data)]
    parts, chunked = decode([data[a:b] for a, b in itertools.pairwise(edges)], SMALL)
    assert parts == whole
    assert counters(chunked) == counters(framer)


@FAST
@given(st.lists(st.sampled_from(b"@$\r\n\x00Ab1 =|:.\xe9\xff"), max_size=600).map(bytes))
def test_protocol_shaped_noise(data: bytes) -> None:
    # Mostly separators and delimiters: the paths random bytes rarely reach.
    whole, framer = decode([data], SMALL)
    assert decode([data[i : i + 1] for i in range(len(data))], SMALL)[0] == whole
    assert framer.messages + framer.bad_messages == len(whole)


@FAST
@given(st.binary(max_size=400).filter(lambda b: b"$" not in b))
def test_resync_after_junk(junk: bytes) -> None:
    results, _ = decode([junk + b"$\r\nStart@Pong@$"], SMALL)
    assert results[-1] == Pong("Start")


def test_oversize_is_reported_once_and_the_buffer_stays_bounded() -> None:
    framer = MessageFramer(max_message_size=SMALL)
    results = [m for _ in range(100) for m in framer.receive(b"x" * 100)]
    assert results == [BadMessage(BadMessageReason.OVERSIZE, b"x" * 64)]
    assert framer.buffered == 0
    assert framer.receive(b"yy$Start@Pong@$") == [Pong("Start")]
    assert framer.junk_bytes == 100 * 100 + 3


# Round trips ---------------------------------------------------------------------------

TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="@$"), max_size=12
)
NUMBER = st.integers(0, 10**18 - 1)
DATES = st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))
MS = st.integers(0, 86_399_999).map(lambda ms: ms * 1000)
CHIPS = st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=7, max_size=7)
CHIP_RECORDS = st.builds(
    ChipRecord,
    chip=CHIPS,
    time_of_day_us=MS,
    device=st.integers(0, 99),
    hits=st.integers(0, 255),
    lap=st.integers(0, 999),
    sequence=st.integers(0, 0xFFFF),
    date=DATES,
)
KEYS = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,3}", fullmatch=True).filter(
    lambda k: k not in ("c", "t", "d")
)
VALUES = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="@$|"), max_size=8
)
PASSINGS = st.builds(
    make_passing,
    chip=TEXT.map(str.strip).filter(lambda c: c != "" and "|" not in c),
    time_of_day_us=MS,
    date=st.none() | DATES,
    extra=st.lists(st.tuples(KEYS, VALUES), max_size=4),
)
MESSAGES: st.SearchStrategy[Message] = st.one_of(
    st.builds(Ping, TEXT),
    st.builds(AckPing, TEXT),
    st.builds(Pong, TEXT, st.lists(TEXT, max_size=3).map(tuple)),
    st.builds(AckPong, TEXT, st.lists(TEXT, max_size=3).map(tuple)),
    st.builds(GetLocations, TEXT, st.lists(TEXT, max_size=4).map(tuple)),
    st.builds(GetInfo, TEXT, st.none() | TEXT),
    st.builds(AckStore, TEXT, NUMBER),
    st.builds(AckPassing, TEXT, NUMBER),
    st.builds(AckMarker, TEXT, NUMBER),
    st.builds(Store, TEXT, st.lists(CHIP_RECORDS, max_size=5).map(tuple), NUMBER),
    st.builds(Passing, TEXT, st.lists(PASSINGS, max_size=4).map(tuple), NUMBER),
    st.builds(Marker, TEXT, st.lists(TEXT, max_size=3).map(tuple), NUMBER),
    st.builds(
        UnknownMessage,
        TEXT,
        st.from_regex(r"[A-Z][a-z]{2,8}", fullmatch=True).filter(
            lambda f: f not in {"Ping", "Pong", "Store", "Passing", "Marker", "GetInfo"}
        ),
        st.lists(TEXT, max_size=3).map(tuple),
    ),
)


@FAST
@given(MESSAGES)
def test_message_round_trip(message: Message) -> None:
    wire = encode(message)
    assert parse_message(wire[:-1]) == message
    assert MessageFramer().receive(b"\r\n\x00\x00" + wire) == [message]


@FAST
@given(st.lists(MESSAGES, max_size=8), st.lists(st.integers(0, 4_000), max_size=10))
def test_encoded_streams_survive_any_split(messages: list[Message], cuts: list[int]) -> None:
    stream = b"\r\n".join(encode(m) for m in messages)
    edges = [0, *sorted(c for c in cuts if c <= len(stream)), len(stream)]
    results, _ = decode([stream[a:b] for a, b in itertools.pairwise(edges)])
    assert results == messages


@FAST
@given(CHIP_RECORDS)
def test_chip_record_round_trip(record: ChipRecord) -> None:
    text = encode_chip_record(record)
    assert len(text) == 39
    assert parse_chip_record(text) == record


@FAST
@given(CHIP_RECORDS, st.integers(0, 38), st.sampled_from("0123456789ABCDEFXYZ :."))
def test_one_changed_character_is_always_caught(record: ChipRecord, at: int, new: str) -> None:
    text = encode_chip_record(record)
    assume(new != text[at])
    assert isinstance(parse_chip_record(text[:at] + new + text[at + 1 :]), BadRecord)


@FAST
@given(PASSINGS)
def test_passing_record_round_trip(record: PassingRecord) -> None:
    assert parse_passing_record(encode_passing_record(record)) == record
