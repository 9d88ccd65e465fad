"""Sans-IO P3 codec: a byte stream in, records out; records in, wire frames out.

Strategy: ``P3Decoder`` owns a receive buffer that always starts at a frame start (0x8E)
or is empty. Anything before a 0x8E is junk, counted and dropped. Because 0x8E and 0x8F
never appear escaped, the first raw delimiter after the start decides the frame: 0x8F
closes it, another 0x8E means the frame was cut short (a ``BadFrame``, then we start over
at that 0x8E). A frame that grows past the worst-case escaped size of ``max_frame_size``
is reported and dropped, so the buffer stays bounded whatever arrives. Corrupt input is
never an exception: it is a counted ``BadFrame`` and a resync. Misusing the encoder (a
negative number, a value too wide for its field) raises ``ValueError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .framing import (
    MAX_FRAME_SIZE,
    P3_VERSION,
    SOR,
    BadFrameReason,
    build_frame,
    parse_frame,
)
from .layouts import to_fields, to_record, tor_of
from .records import BadFrame, DecodeResult, GetTime, Record, Resend

_DELIMITER = re.compile(rb"[\x8e\x8f]")


def decode_frame(wire: bytes, *, max_frame_size: int = MAX_FRAME_SIZE) -> DecodeResult:
    """Decode exactly one wire frame (0x8E .. 0x8F, still escaped); never raises."""
    raw = parse_frame(wire, max_size=max_frame_size)
    if isinstance(raw, BadFrame):
        return raw
    record = to_record(raw.tor, raw.fields)
    return BadFrame(BadFrameReason.MISSING_FIELD, wire) if record is None else record


class P3Decoder:
    """Incremental decoder: ``feed`` bytes as they arrive, then drain ``events``."""

    def __init__(self, *, max_frame_size: int = MAX_FRAME_SIZE) -> None:
        if max_frame_size < 11:
            raise ValueError("max_frame_size cannot hold a P3 header")
        self.max_frame_size = max_frame_size
        # Worst case on the wire: every byte between SOR and EOR escaped to two.
        self._max_wire = 2 * max_frame_size - 2
        self._buffer = bytearray()
        self._scanned = 1  # buffer[1:_scanned] is known to hold no delimiter
        self.frames = 0
        self.bad_frames = 0
        self.junk_bytes = 0

    @property
    def buffered(self) -> int:
        """Bytes held for a frame that is not complete yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def events(self) -> Iterator[DecodeResult]:
        """Yield every complete frame in the buffer, good or bad, in stream order."""
        while (result := self._next()) is not None:
            yield result

    def receive(self, data: bytes) -> list[DecodeResult]:
        self.feed(data)
        return list(self.events())

    def _drop(self, count: int) -> None:
        del self._buffer[:count]
        self._scanned = 1

    def _bad(self, reason: BadFrameReason, end: int) -> BadFrame:
        # Keep at most one frame's worth of evidence, whatever was skipped.
        bad = BadFrame(reason, bytes(self._buffer[: min(end, self._max_wire)]))
        self._drop(end)
        self.bad_frames += 1
        return bad

    def _next(self) -> DecodeResult | None:
        buf = self._buffer
        if buf and buf[0] != SOR:
            start = buf.find(SOR)
            skipped = len(buf) if start < 0 else start
            self.junk_bytes += skipped
            self._drop(skipped)
        if not buf:
            return None
        match = _DELIMITER.search(buf, self._scanned)
        if match is None:
            if len(buf) > self._max_wire:
                return self._bad(BadFrameReason.OVERSIZE, len(buf))
            self._scanned = len(buf)
            return None
        end = match.start()
        if buf[end] == SOR:
            # A new frame starts before this one ended: report it, resync on the new start.
            reason = BadFrameReason.OVERSIZE if end > self._max_wire else BadFrameReason.TRUNCATED
            return self._bad(reason, end)
        if end >= self._max_wire:
            return self._bad(BadFrameReason.OVERSIZE, end + 1)
        wire = bytes(buf[: end + 1])
        self._drop(end + 1)
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
    if not 0 <= from_passing <= until_passing:
        raise ValueError("need 0 <= from_passing <= until_passing")
    return encode(Resend(from_passing=from_passing, until_passing=until_passing))


def encode_get_time() -> bytes:
    """A request for the decoder's RTC time (answered by a ``GetTime`` with the time)."""
    return encode(GetTime())
