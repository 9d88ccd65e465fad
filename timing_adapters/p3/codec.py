"""Sans-IO P3 codec: a byte stream in, records out; records in, wire frames out.

Strategy: ``P3Decoder`` is a ``ReceiveBuffer`` (timing_adapters/receive_buffer.py): the
buffer always starts at a frame start (0x8E) or is empty. Anything before a 0x8E is junk,
counted and dropped. Because 0x8E and 0x8F never appear escaped, the first raw delimiter
after the start decides the frame: 0x8F closes it, another 0x8E means the frame was cut
short (a ``BadFrame``, then we start over at that 0x8E). A frame that grows past the
worst-case escaped size of ``max_frame_size`` is reported and dropped, so the buffer stays
bounded whatever arrives. Only unescaping, LENGTH, CRC and TLV parsing live here, then the
fields' widths and ranges (``layouts.field_error``). Corrupt input is never an exception: it
is a counted ``BadFrame`` and a resync. Misusing the
encoder (a negative number, a value too wide for its field) raises ``ValueError``.
"""

from __future__ import annotations

import re

from ..receive_buffer import ReceiveBuffer, Rejection
from .framing import (
    MAX_FRAME_SIZE,
    P3_VERSION,
    SOR,
    BadFrameReason,
    build_frame,
    parse_frame,
)
from .layouts import field_error, to_fields, to_record, tor_of
from .records import BadFrame, DecodeResult, GetTime, Record, Resend

MAX_PASSING_NUMBER = 0xFFFF_FFFF
"""Passing numbers are 4 bytes on the wire, in a PASSING and in a RESEND request."""
_DELIMITER = re.compile(rb"[\x8e\x8f]")
_REJECTIONS: dict[Rejection, BadFrameReason] = {
    "oversize": BadFrameReason.OVERSIZE,
    "truncated": BadFrameReason.TRUNCATED,
}


def decode_frame(wire: bytes, *, max_frame_size: int = MAX_FRAME_SIZE) -> DecodeResult:
    """Decode exactly one wire frame (0x8E .. 0x8F, still escaped); never raises."""
    raw = parse_frame(wire, max_size=max_frame_size)
    if isinstance(raw, BadFrame):
        return raw
    record = to_record(raw.tor, raw.fields)
    if record is None:
        return BadFrame(BadFrameReason.MISSING_FIELD, wire)
    error = field_error(raw.tor, raw.fields)
    return record if error is None else BadFrame(BadFrameReason.BAD_FIELD, wire, error)


class P3Decoder(ReceiveBuffer[DecodeResult]):
    """Incremental decoder: ``feed`` bytes as they arrive, then drain ``events``."""

    def __init__(self, *, max_frame_size: int = MAX_FRAME_SIZE) -> None:
        if max_frame_size < 11:
            raise ValueError("max_frame_size cannot hold a P3 header")
        # Worst case on the wire: every byte between SOR and EOR escaped to two.
        super().__init__(start=SOR, delimiter=_DELIMITER, limit=2 * max_frame_size - 2)
        self.max_frame_size = max_frame_size
        self.frames = 0
        self.bad_frames = 0

    def _reject(self, reason: Rejection, evidence: bytes) -> BadFrame:
        self.bad_frames += 1
        return BadFrame(_REJECTIONS[reason], evidence)

    def _parse(self, wire: bytes) -> DecodeResult:
        result = decode_frame(wire, max_frame_size=self.max_frame_size)
        if isinstance(result, BadFrame):
            self.bad_frames += 1
        else:
            self.frames += 1
        return result


def encode(record: Record) -> bytes:
    """The escaped wire frame for ``record`` (P3 version 2, header flags 0).

    A decoded record re-encodes byte-exact from its ``fields`` as long as its frame used
    version 2 and header flags 0, as every captured frame does.
    """
    return build_frame(tor_of(record), to_fields(record), version=P3_VERSION)


def encode_resend(from_passing: int, until_passing: int) -> bytes:
    """A request to send again the passings ``from_passing`` .. ``until_passing``."""
    if not 0 <= from_passing <= until_passing <= MAX_PASSING_NUMBER:
        raise ValueError(f"need 0 <= from_passing <= until_passing <= {MAX_PASSING_NUMBER}")
    return encode(Resend(from_passing=from_passing, until_passing=until_passing))


def encode_get_time() -> bytes:
    """A request for the decoder's RTC time (answered by a ``GetTime`` with the time)."""
    return encode(GetTime())
