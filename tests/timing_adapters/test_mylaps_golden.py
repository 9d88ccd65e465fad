"""Golden tests on a real MyLaps T&S exchange: the racemap/sporttijden forwarder log."""

from __future__ import annotations

import collections
import datetime as dt
import re

import pytest

from tests.fixtures.timing_data import TIMING_DATA
from timing_adapters.adapter import Detection
from timing_adapters.mylaps_ts import (
    AckAuth,
    AckStore,
    BadMessage,
    ChipRecord,
    ExchangeSession,
    GetInfo,
    GetLocations,
    MessageFramer,
    Store,
    encode,
    encode_chip_record,
    parse_message,
)
from timing_adapters.mylaps_ts.capture import client_stream, read_forwarder_log

DATA = TIMING_DATA
# racemap/mylaps-to-racemap-forwarder, logs/MyLapsInputAdapter-by-sporttijden.log,
# commit b6471c20 (MIT).
LOG = (DATA / "mylaps-ts-exchange" / "racemap_MyLapsInputAdapter-by-sporttijden.log").read_bytes()
ENTRIES = read_forwarder_log(LOG)
STREAM = client_stream(ENTRIES)
MESSAGES = MessageFramer().receive(STREAM)
STORES = [m for m in MESSAGES if isinstance(m, Store)]

# Independent of the codec: a V1 record is 39 characters between two "@".
V1 = re.compile(
    rb"(?<=@)[0-9A-Z]{7}\d\d:\d\d:\d\d\.\d{3}[ \d]\d [0-9A-F]{2}[ \d]{3}"
    rb"[0-9A-F]{4}\d{6}[0-9A-F]{2}(?=@)"
)
RAW_RECORDS = V1.findall(LOG)


def test_v1_records_found_without_the_codec_all_have_valid_checksums() -> None:
    assert len(RAW_RECORDS) == 3_724  # Store messages are sent again until acknowledged
    assert len(set(RAW_RECORDS)) == 2_494
    assert all(sum(r[:37]) % 256 == int(r[37:], 16) for r in RAW_RECORDS)


def test_codec_parses_every_record_with_a_valid_checksum() -> None:
    records = [r for store in STORES for r in store.records]
    assert not [r for store in STORES for r in store.rejected]
    assert len(records) == len(RAW_RECORDS)
    texts = [encode_chip_record(r).encode() for r in records]
    assert texts == RAW_RECORDS  # byte-exact, in stream order
    assert len({(s.source, r) for s in STORES for r in s.records}) == 2_494


def test_record_columns() -> None:
    first = STORES[0].records[0]
    assert first == ChipRecord(
        chip="LZ63021",
        time_of_day_us=(15 * 3600 + 37 * 60 + 40) * 1_000_000 + 704_000,
        device=5,
        hits=0x0F,
        lap=1,
        sequence=1,
        date=dt.date(2025, 3, 8),
    )
    # Local date and time read as if UTC: microseconds since 1970-01-01 00:00.
    local = dt.datetime(2025, 3, 8, 15, 37, 40, 704_000) - dt.datetime(1970, 1, 1)
    assert first.time_us == local // dt.timedelta(microseconds=1)
    five_km = next(s for s in STORES if s.source == "5Km").records[0]
    assert (five_km.chip, five_km.device, five_km.sequence) == ("0001228", 11, 0xD657)
    assert five_km.date == dt.date(2025, 4, 13)


def test_sequence_numbers_are_contiguous_per_location() -> None:
    by_location: dict[str, set[int]] = collections.defaultdict(set)
    for store in STORES:
        by_location[store.source].update(r.sequence for r in store.records)
    for sequences in by_location.values():
        assert sequences == set(range(min(sequences), max(sequences) + 1))
    assert {k: len(v) for k, v in by_location.items()} == {
        "Start": 73,
        "MTB Split 4Km": 30,
        "5Km": 2_391,
    }


def test_laps_never_decrease_for_a_chip() -> None:
    passings: dict[tuple[str, str], set[ChipRecord]] = collections.defaultdict(set)
    for store in STORES:
        for r in store.records:
            passings[store.source, r.chip].add(r)
    for records in passings.values():
        laps = [r.lap for r in sorted(records, key=lambda r: r.time_us)]
        assert laps == sorted(laps)


def test_every_message_of_both_sides_parses_and_reencodes() -> None:
    for entry in ENTRIES:
        message = parse_message(entry.data)
        assert not isinstance(message, BadMessage), entry
        body = entry.data.lstrip(b"\r\n\x00") + b"$"
        wire = encode(message)
        # T&S omits the trailing "@" of AckGetInfo; everything else is byte-exact.
        assert wire in (body, body[:-1] + b"@$"), entry


def test_message_counts() -> None:
    sent = collections.Counter(type(m).__name__ for m in MESSAGES)
    assert sent == {
        "AckPing": 5_140,
        "Marker": 372,
        "Store": 127,
        "Pong": 49,
        "AckGetInfo": 19,
        "GetLocations": 5,
        "AckAuth": 1,
    }
    answers = [parse_message(e.data) for e in ENTRIES if not e.from_client]
    assert collections.Counter(type(m).__name__ for m in answers) == {
        "Ping": 926,
        "AckStore": 80,
        "AckPong": 14,
        "GetLocations": 2,
        "GetInfo": 2,
    }


def test_separators_before_messages_are_crlf_and_nul_pairs() -> None:
    prefixes = {
        e.data[: len(e.data) - len(e.data.lstrip(b"\r\n\x00"))] for e in ENTRIES if e.from_client
    }
    assert all(p == b"" or (p[:2] == b"\r\n" and set(p[2:]) <= {0}) for p in prefixes)
    assert {len(p) - 2 for p in prefixes if p} == {0, 2, 4, 6, 40}
    framer = MessageFramer()
    framer.receive(STREAM)
    assert (framer.messages, framer.bad_messages, framer.junk_bytes, framer.buffered) == (
        5_713,
        0,
        0,
        0,
    )


def test_locations_and_credentials() -> None:
    answers = [m for m in MESSAGES if isinstance(m, GetLocations)]
    assert answers[-1].source == "Toolkit"
    assert answers[-1].locations == ("Start - Finish", "21Km = 2Km", "3Km", "5Km")
    auth = next(m for m in MESSAGES if isinstance(m, AckAuth))
    assert "REDACTED" not in repr(auth)


def test_session_replay_emits_one_detection_per_distinct_record() -> None:
    session = ExchangeSession()
    detections: list[Detection] = []
    acks: list[AckStore] = []
    for message in MESSAGES:
        reaction = session.handle(message)
        detections += reaction.detections
        if isinstance(message, Store):
            assert reaction.replies == (AckStore("racecontrol", message.message_number),)
        acks += [r for r in reaction.replies if isinstance(r, AckStore)]
    assert len(detections) == 2_494
    assert session.duplicates == 3_724 - 2_494
    assert len(acks) == len(STORES)
    raw = {(r[:7].decode(), r[7:19].decode()) for r in set(RAW_RECORDS)}
    assert {(d.transponder, _hms(d.time_us)) for d in detections} == raw
    assert {d.decoder_id for d in detections} == {"Start", "MTB Split 4Km", "5Km"}
    assert all(d.loop == d.decoder_id and d.passing_number is None for d in detections)


def test_a_message_s_passings_carry_its_newest_passing_as_the_decoder_s_clock() -> None:
    """T&S sends its backlog in one Store: the newest record in it is where its clock stood
    (at least) when it sent it, so older records are placed at their own time live."""
    session = ExchangeSession()
    backlogs = 0
    for message in STORES:
        found = session.handle(message).detections
        if not found:
            continue
        newest = max(record.time_us for record in message.records)
        assert {d.decoder_now_us for d in found} == {newest}
        backlogs += len({d.time_us for d in found}) > 1
    assert backlogs > 0  # the log has messages with several passings of different times


def test_acknowledgements_match_the_log_for_the_acknowledged_session() -> None:
    # The forwarder of 2025-04-16 acknowledged every Store; ours must echo the same numbers.
    start = next(i for i, e in enumerate(ENTRIES) if e.timestamp.startswith("2025-04-16"))
    session = ExchangeSession("MyLaps2RMServer_v1.0.2")
    ours: list[object] = []
    for message in MessageFramer().receive(client_stream(ENTRIES[start:])):
        ours += session.handle(message).replies
    theirs = [parse_message(e.data) for e in ENTRIES[start:] if not e.from_client]
    assert [m for m in ours if isinstance(m, AckStore)] == [
        m for m in theirs if isinstance(m, AckStore)
    ]
    greeting = [type(m) for m in theirs[:3]]
    assert [type(m) for m in ours[:3]] == greeting
    assert greeting[1:] == [GetLocations, GetInfo]


def _hms(time_us: int) -> str:
    seconds, us = divmod(time_us % 86_400_000_000, 1_000_000)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{us // 1000:03d}"


def test_a_file_that_is_not_a_forwarder_log_is_refused() -> None:
    with pytest.raises(ValueError, match="not a forwarder log"):
        read_forwarder_log(b"Start@Pong@$")
