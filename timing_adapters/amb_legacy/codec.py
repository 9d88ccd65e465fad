"""Sans-IO AMB legacy / I-Lap stream decoder: bytes in, records out.

Strategy: like ``P3Decoder``, a receive buffer that always starts at a record start (SOH)
or is empty. Anything before an SOH is junk, counted and dropped (line noise on a serial
cable, or the tail of a record that was too long). The first delimiter after the start
decides: LF ends the record, another SOH means it was cut short (a ``BadRecord``, then we
start over at that SOH). SOH and LF never occur inside a record, so no escaping exists
and resync is always on the next SOH. A record that grows past ``max_record_size`` without
an LF is reported and dropped, so the buffer stays bounded whatever arrives. Corrupt input
is never an exception: it is a counted ``BadRecord``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .records import MAX_RECORD_SIZE, SOH, BadRecord, BadRecordReason, DecodeResult
from .wire import parse_record

_DELIMITER = re.compile(rb"[\x01\n]")
_MIN_RECORD_SIZE = 8  # SOH, type, TAB, x + 4 hex: anything smaller cannot hold a record


class AmbLegacyDecoder:
    """Incremental decoder: ``feed`` bytes as they arrive, then drain ``events``.

    ``crc=True`` (AMB / P98 decoders) rejects a record without a CRC; ``crc=False``
    (I-Lap) accepts it, and still verifies a CRC that is present.
    """

    def __init__(self, *, crc: bool = True, max_record_size: int = MAX_RECORD_SIZE) -> None:
        if not _MIN_RECORD_SIZE <= max_record_size <= MAX_RECORD_SIZE:
            raise ValueError(f"max_record_size must be {_MIN_RECORD_SIZE}..{MAX_RECORD_SIZE}")
        self.crc = crc
        self.max_record_size = max_record_size
        self._buffer = bytearray()
        self._scanned = 1  # buffer[1:_scanned] is known to hold no delimiter
        self.records = 0
        self.bad_records = 0
        self.junk_bytes = 0

    @property
    def buffered(self) -> int:
        """Bytes held for a record that is not complete yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def events(self) -> Iterator[DecodeResult]:
        """Yield every complete record in the buffer, good or bad, in stream order."""
        while (result := self._next()) is not None:
            yield result

    def receive(self, data: bytes) -> list[DecodeResult]:
        self.feed(data)
        return list(self.events())

    def _drop(self, count: int) -> None:
        del self._buffer[:count]
        self._scanned = 1

    def _bad(self, reason: BadRecordReason, end: int) -> BadRecord:
        bad = BadRecord(reason, bytes(self._buffer[: min(end, self.max_record_size)]))
        self._drop(end)
        self.bad_records += 1
        return bad

    def _next(self) -> DecodeResult | None:
        buf = self._buffer
        if buf and buf[0] != SOH:
            start = buf.find(SOH)
            skipped = len(buf) if start < 0 else start
            self.junk_bytes += skipped
            self._drop(skipped)
        if not buf:
            return None
        match = _DELIMITER.search(buf, self._scanned)
        if match is None:
            if len(buf) > self.max_record_size:
                return self._bad(BadRecordReason.OVERSIZE, len(buf))
            self._scanned = len(buf)
            return None
        end = match.start()
        if buf[end] == SOH:
            # A new record starts before this one ended: report it, resync on the new start.
            too_long = end > self.max_record_size
            return self._bad(
                BadRecordReason.OVERSIZE if too_long else BadRecordReason.TRUNCATED, end
            )
        if end + 1 > self.max_record_size:
            return self._bad(BadRecordReason.OVERSIZE, end + 1)
        wire = bytes(buf[: end + 1])
        self._drop(end + 1)
        result = parse_record(wire, crc=self.crc)
        if isinstance(result, BadRecord):
            self.bad_records += 1
        else:
            self.records += 1
        return result
