"""Sans-IO AMB legacy / I-Lap stream decoder: bytes in, records out.

Strategy: like ``P3Decoder``, a ``ReceiveBuffer`` (timing_adapters/receive_buffer.py) that
always starts at a record start (SOH) or is empty. Anything before an SOH is junk, counted
and dropped (line noise on a serial cable, or the tail of a record that was too long). The
first delimiter after the start decides: LF ends the record, another SOH means it was cut
short (a ``BadRecord``, then we start over at that SOH). SOH and LF never occur inside a
record, so no escaping exists and resync is always on the next SOH. A record that grows
past ``max_record_size`` without an LF is reported and dropped, so the buffer stays bounded
whatever arrives. Corrupt input is never an exception: it is a counted ``BadRecord``.
"""

from __future__ import annotations

import re

from ..receive_buffer import ReceiveBuffer, Rejection
from .records import MAX_RECORD_SIZE, SOH, BadRecord, BadRecordReason, DecodeResult
from .wire import parse_record

_DELIMITER = re.compile(rb"[\x01\n]")
_REJECTIONS: dict[Rejection, BadRecordReason] = {
    "oversize": BadRecordReason.OVERSIZE,
    "truncated": BadRecordReason.TRUNCATED,
}
_MIN_RECORD_SIZE = 8  # SOH, type, TAB, x + 4 hex: anything smaller cannot hold a record


class AmbLegacyDecoder(ReceiveBuffer[DecodeResult]):
    """Incremental decoder: ``feed`` bytes as they arrive, then drain ``events``.

    ``crc=True`` (AMB / P98 decoders) rejects a record without a CRC; ``crc=False``
    (I-Lap) accepts it, and still verifies a CRC that is present.
    """

    def __init__(self, *, crc: bool = True, max_record_size: int = MAX_RECORD_SIZE) -> None:
        if not _MIN_RECORD_SIZE <= max_record_size <= MAX_RECORD_SIZE:
            raise ValueError(f"max_record_size must be {_MIN_RECORD_SIZE}..{MAX_RECORD_SIZE}")
        super().__init__(start=SOH, delimiter=_DELIMITER, limit=max_record_size)
        self.crc = crc
        self.max_record_size = max_record_size
        self.records = 0
        self.bad_records = 0

    def _reject(self, reason: Rejection, evidence: bytes) -> BadRecord:
        self.bad_records += 1
        return BadRecord(_REJECTIONS[reason], evidence)

    def _parse(self, wire: bytes) -> DecodeResult:
        result = parse_record(wire, crc=self.crc)
        if isinstance(result, BadRecord):
            self.bad_records += 1
        else:
            self.records += 1
        return result
