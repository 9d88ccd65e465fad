"""P3 framing: escaping, the 10-byte header and the TLV body of one frame.

Strategy: a frame on the wire is ``0x8E`` + escaped(header[1:] + TLV fields) + ``0x8F``.
Only 0x8D, 0x8E and 0x8F are escaped (0x8D then the byte + 0x20), so a raw 0x8E or 0x8F
is always a delimiter and the stream can be split before anything is unescaped. This
module works on one whole frame at a time and never raises on bad input: ``parse_frame``
returns a ``BadFrame`` naming the first check that failed. The stream buffer that finds
frames lives in ``codec.py``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from .crc import frame_crc
from .records import BadFrame, Field

SOR = 0x8E
EOR = 0x8F
ESC = 0x8D
_ESC_SHIFT = 0x20

P3_VERSION = 0x02
"""Protocol version byte sent by every decoder in the captures."""

MAX_FRAME_SIZE = 1024
"""Largest unescaped frame accepted or produced; real records are well under 100 bytes."""

_HEADER = struct.Struct("<BBHHHH")  # SOR, version, length, crc, flags, tor
HEADER_SIZE = _HEADER.size
_MIN_FRAME = HEADER_SIZE + 1  # header + EOR, no fields


class BadFrameReason(StrEnum):
    """Why a frame was rejected (the ``reason`` of a ``BadFrame``)."""

    BAD_CRC = "bad crc"
    LENGTH_MISMATCH = "length mismatch"
    BAD_ESCAPE = "bad escape"
    OVERSIZE = "oversize"
    TRUNCATED = "truncated"
    FIELD_OVERRUN = "field overrun"
    MISSING_FIELD = "missing field"
    BAD_FIELD = "bad field"  # a field of the wrong width, or a value out of range


@dataclass(frozen=True, slots=True)
class RawFrame:
    """A frame that passed every check, before its fields are given meaning."""

    tor: int
    fields: tuple[Field, ...]
    version: int = P3_VERSION
    flags: int = 0


def escape(data: bytes) -> bytes:
    """Escape 0x8D, 0x8E and 0x8F in ``data`` (the bytes between SOR and EOR)."""
    # 0x8D first: the escapes added for 0x8E/0x8F start with 0x8D and must stay as they are.
    return (
        data.replace(b"\x8d", b"\x8d\xad")
        .replace(b"\x8e", b"\x8d\xae")
        .replace(b"\x8f", b"\x8d\xaf")
    )


def unescape(data: bytes) -> bytes:
    """Undo ``escape``; raises ValueError on 0x8D not followed by 0xAD, 0xAE or 0xAF."""
    head, *rest = data.split(b"\x8d")
    out = bytearray(head)
    for part in rest:
        if not part or part[0] not in (0xAD, 0xAE, 0xAF):
            raise ValueError("0x8D must be followed by 0xAD, 0xAE or 0xAF")
        out.append(part[0] - _ESC_SHIFT)
        out += part[1:]
    return bytes(out)


def build_frame(
    tor: int, fields: Sequence[Field], *, version: int = P3_VERSION, flags: int = 0
) -> bytes:
    """The escaped wire bytes of one frame; ValueError on values that cannot be framed."""
    for name, value, top in (
        ("tor", tor, 0xFFFF),
        ("version", version, 0xFF),
        ("flags", flags, 0xFFFF),
    ):
        if not 0 <= value <= top:
            raise ValueError(f"{name} {value} out of range 0..{top:#x}")
    body = bytearray()
    for f in fields:
        if not 0 <= f.tid <= 0xFF:
            raise ValueError(f"field id {f.tid} out of range 0..0xff")
        if len(f.value) > 0xFF:
            raise ValueError(f"field {f.tid:#04x} value longer than 255 bytes")
        body += bytes((f.tid, len(f.value))) + f.value
    length = HEADER_SIZE + len(body) + 1
    if length > MAX_FRAME_SIZE:
        raise ValueError(f"frame of {length} bytes exceeds {MAX_FRAME_SIZE}")
    frame = _HEADER.pack(SOR, version, length, 0, flags, tor) + bytes(body) + bytes((EOR,))
    crc = frame_crc(frame).to_bytes(2, "little")
    inner = frame[1:4] + crc + frame[6:-1]
    return bytes((SOR,)) + escape(inner) + bytes((EOR,))


def parse_frame(wire: bytes, *, max_size: int = MAX_FRAME_SIZE) -> RawFrame | BadFrame:
    """Check and split one wire frame (SOR, escaped bytes, EOR); never raises."""
    inner = wire[1:-1]
    if len(wire) < 2 or wire[0] != SOR or wire[-1] != EOR or SOR in inner or EOR in inner:
        return BadFrame(BadFrameReason.TRUNCATED, wire)
    try:
        frame = bytes((SOR,)) + unescape(inner) + bytes((EOR,))
    except ValueError:
        return BadFrame(BadFrameReason.BAD_ESCAPE, wire)
    if len(frame) > max_size:
        return BadFrame(BadFrameReason.OVERSIZE, wire)
    if len(frame) < _MIN_FRAME:
        return BadFrame(BadFrameReason.TRUNCATED, wire)
    _, version, length, crc, flags, tor = _HEADER.unpack_from(frame)
    if length != len(frame):
        return BadFrame(BadFrameReason.LENGTH_MISMATCH, wire)
    if crc != frame_crc(frame):
        return BadFrame(BadFrameReason.BAD_CRC, wire)
    fields = []
    pos, end = HEADER_SIZE, len(frame) - 1
    while pos < end:
        if pos + 2 > end or pos + 2 + frame[pos + 1] > end:
            return BadFrame(BadFrameReason.FIELD_OVERRUN, wire)
        size = frame[pos + 1]
        fields.append(Field(frame[pos], frame[pos + 2 : pos + 2 + size]))
        pos += 2 + size
    return RawFrame(tor, tuple(fields), version, flags)
