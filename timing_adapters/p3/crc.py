"""CRC-16 of P3 frames.

Strategy: the decoders use a table-driven CRC with polynomial 0x1021, initial value 0xFFFF,
no reflection and no final xor, but the update step differs from CRC-16/CCITT-FALSE: the
table is indexed by the high byte of the running CRC alone and the data byte is xored in
*after* the shift (verified on every frame of the real captures in tests/data). The table is
built once at import; ``frame_crc`` applies the frame convention (CRC bytes zeroed while computing).
"""

from __future__ import annotations

_POLY = 0x1021


def _make_table() -> tuple[int, ...]:
    table = []
    for index in range(256):
        crc = index << 8
        for _ in range(8):
            crc = ((crc << 1) ^ _POLY) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return tuple(table)


_TABLE = _make_table()


def crc16(data: bytes) -> int:
    """P3 CRC-16 of ``data`` (check value for ``b"123456789"``: 0xA69D)."""
    crc = 0xFFFF
    for byte in data:
        crc = (_TABLE[(crc >> 8) & 0xFF] ^ (crc << 8) ^ byte) & 0xFFFF
    return crc


CRC_OFFSET = 4
"""Where the little-endian CRC sits in an unescaped frame."""


def frame_crc(frame: bytes) -> int:
    """CRC of an unescaped frame (0x8E .. 0x8F), computed with its own CRC bytes as zero."""
    return crc16(frame[:CRC_OFFSET] + b"\x00\x00" + frame[CRC_OFFSET + 2 :])
