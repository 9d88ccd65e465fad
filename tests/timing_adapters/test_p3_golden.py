"""Golden tests: real P3 traffic from two public projects decodes to known values."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.fixtures.timing_data import TIMING_DATA
from timing_adapters.capture import read_hex_capture
from timing_adapters.p3 import BadFrame, P3Decoder, Passing, Status, encode

DATA = TIMING_DATA
# vmindru/ambp3client test_server/amb.out, commit 072b0084 (Apache-2.0).
KARTING = DATA / "p3-karting-ambp3client"
# datagutten/amb-p3-parser tests/test_data/, commit c7740414 (GPL-3.0-or-later).
FIXTURES = DATA / "p3-fixtures-amb-p3-parser"


def test_karting_capture_decodes_completely() -> None:
    frames = read_hex_capture(KARTING / "amb.out")
    assert len(frames) == 1388
    decoder = P3Decoder()
    records = decoder.receive(b"".join(frames))
    # Every frame passed the length and CRC checks; nothing was skipped.
    assert (decoder.frames, decoder.bad_frames, decoder.junk_bytes) == (1388, 0, 0)
    assert Counter(type(r).__name__ for r in records) == {"Status": 1304, "Passing": 84}
    assert {r.decoder_id for r in records if isinstance(r, Passing | Status)} == {0x0004_1813}

    passings = [r for r in records if isinstance(r, Passing)]
    assert [p.passing_number for p in passings] == list(range(157777, 157861))
    assert {p.transponder for p in passings} == {5691251, 3292480, 3438895}
    assert all(p.flags == 0 and p.strength and p.hits for p in passings)
    # The double read: one "lap" of 2.767 s for transponder 3438895.
    laps: dict[int, list[int]] = {}
    last: dict[int, int] = {}
    for p in passings:
        if p.transponder in last:
            laps.setdefault(p.transponder, []).append(p.rtc_time_us - last[p.transponder])
        last[p.transponder] = p.rtc_time_us
    assert min(min(v) for v in laps.values()) == 2_767_000
    assert min(laps[3438895]) == 2_767_000

    statuses = [r for r in records if isinstance(r, Status)]
    assert all(s.noise is not None and s.temperature is not None for s in statuses)
    assert all(s.input_voltage is not None and s.gps == 0 for s in statuses)


def test_karting_capture_has_escapes_in_crc_and_reencodes_byte_exact() -> None:
    frames = read_hex_capture(KARTING / "amb.out")
    assert any(f[4] == 0x8D or f[5] == 0x8D for f in frames)  # an escaped CRC byte
    for wire in frames:
        [record] = P3Decoder().receive(wire)
        assert not isinstance(record, BadFrame)
        assert encode(record) == wire


def test_short_capture_is_a_subsequence_of_the_long_one() -> None:
    # Not its first 371 lines (as the data README says): 371 frames picked in order,
    # 83 passings (157829 is missing) and 288 statuses.
    short = read_hex_capture(KARTING / "amb-short.out")
    remaining = iter(read_hex_capture(KARTING / "amb.out"))
    assert all(frame in remaining for frame in short)
    records = P3Decoder().receive(b"".join(short))
    assert Counter(type(r).__name__ for r in records) == {"Status": 288, "Passing": 83}
    numbers = {r.passing_number for r in records if isinstance(r, Passing)}
    assert set(range(157777, 157861)) - numbers == {157829}


def test_good_passing_golden_values() -> None:
    [record] = P3Decoder().receive((FIXTURES / "good_passing").read_bytes())
    assert record == Passing(
        passing_number=113736,
        transponder=2906141,
        rtc_time_us=1437769372993000,
        strength=106,
        hits=50,
        flags=0,
        decoder_id=135059,
    )


def test_multi_gives_ten_passings() -> None:
    decoder = P3Decoder()
    records = decoder.receive((FIXTURES / "multi").read_bytes())
    assert len(records) == 10 and all(isinstance(r, Passing) for r in records)
    assert decoder.frames == 10


def test_need_trimming_skips_nine_junk_bytes() -> None:
    decoder = P3Decoder()
    records = decoder.receive((FIXTURES / "need_trimming").read_bytes())
    assert decoder.junk_bytes == 9
    [record] = records
    assert isinstance(record, Passing) and record.passing_number == 113736


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("last", Passing),
        ("missing_strength", Passing),  # valid despite its name, with escapes
        ("bad_passing", Passing),  # valid despite its name, with escapes
        ("first", Status),
        ("status", Status),
        ("1437857960_0", Status),  # escaped CRC byte
        ("1459169234", Status),
    ],
)
def test_single_frame_fixtures(name: str, kind: type) -> None:
    wire = (FIXTURES / name).read_bytes()
    decoder = P3Decoder()
    [record] = decoder.receive(wire)
    assert isinstance(record, kind) and isinstance(record, Passing | Status)
    assert (decoder.bad_frames, decoder.junk_bytes) == (0, 0)
    assert record.decoder_id == 135059
    assert encode(record) == wire
