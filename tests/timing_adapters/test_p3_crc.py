"""CRC-16 and escaping of P3 frames, checked against known values and real frames."""

from __future__ import annotations

import pytest

from tests.fixtures.timing_data import TIMING_DATA
from timing_adapters.capture import read_hex_capture
from timing_adapters.p3 import crc16, escape, frame_crc, unescape

DATA = TIMING_DATA


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"123456789", 0xA69D),  # check value from tests/data/README.md
        (b"", 0xFFFF),  # the initial value, untouched
    ],
)
def test_crc16_known_values(data: bytes, expected: int) -> None:
    assert crc16(data) == expected


def test_crc16_is_not_ccitt_false() -> None:
    # CRC-16/CCITT-FALSE gives 0x29B1 for the same input: a different update step.
    assert crc16(b"123456789") != 0x29B1


def test_frame_crc_matches_every_captured_frame() -> None:
    # Capture: vmindru/ambp3client test_server/amb.out (Apache-2.0).
    for wire in read_hex_capture(DATA / "p3-karting-ambp3client" / "amb.out"):
        frame = wire[:1] + unescape(wire[1:-1]) + wire[-1:]
        assert frame_crc(frame) == int.from_bytes(frame[4:6], "little")


@pytest.mark.parametrize(
    ("plain", "escaped"),
    [
        (b"", b""),
        (b"\x00\x8c\x90", b"\x00\x8c\x90"),  # neighbours of the special bytes are left alone
        (b"\x8d", b"\x8d\xad"),
        (b"\x8e", b"\x8d\xae"),
        (b"\x8f", b"\x8d\xaf"),
        (b"\x8d\x8e\x8f", b"\x8d\xad\x8d\xae\x8d\xaf"),
        (b"\x8d\xad", b"\x8d\xad\xad"),  # an escaped-looking pair is escaped again
        (b"\x01\x8a\x8b\x8c\x02", b"\x01\x8a\x8b\x8c\x02"),  # seen raw in the capture
    ],
)
def test_escape_table(plain: bytes, escaped: bytes) -> None:
    assert escape(plain) == escaped
    assert unescape(escaped) == plain


@pytest.mark.parametrize("bad", [b"\x8d", b"\x00\x8d", b"\x8d\x00", b"\x8d\x8d", b"\x8d\xb0"])
def test_unescape_rejects_bad_escapes(bad: bytes) -> None:
    with pytest.raises(ValueError):
        unescape(bad)
