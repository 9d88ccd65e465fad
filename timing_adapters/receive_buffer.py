"""Receive buffer shared by the start-byte / delimiter codecs (P3 and AMB legacy).

Strategy: the buffer always starts at a unit start byte or is empty. Anything before a
start byte is junk, counted in ``junk_bytes`` and dropped. The first delimiter after the
start decides: the end byte completes the unit (handed to ``_parse``), another start byte
means the unit was cut short (``_reject("truncated")``, then we start over at that start
byte). A unit that grows past ``limit`` bytes without an end is rejected as "oversize" and
dropped, so the buffer stays bounded whatever arrives. Rejection evidence is capped at
``limit`` bytes. The subclass owns its result types and counters; this module only cuts
the stream, which is why it never raises on corrupt input.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Generic, Literal, TypeVar

Result = TypeVar("Result")
Rejection = Literal["oversize", "truncated"]


class ReceiveBuffer(ABC, Generic[Result]):
    """Incremental framing: ``feed`` bytes as they arrive, then drain ``events``.

    ``delimiter`` must match exactly the start byte and the end byte, which must never
    occur inside a unit (so the first one found after the start decides).
    """

    def __init__(self, *, start: int, delimiter: re.Pattern[bytes], limit: int) -> None:
        self._start = start
        self._delimiter = delimiter
        self._limit = limit
        self._buffer = bytearray()
        self._scanned = 1  # buffer[1:_scanned] is known to hold no delimiter
        self.junk_bytes = 0

    @abstractmethod
    def _parse(self, wire: bytes) -> Result:
        """Decode one complete unit, start byte to end byte inclusive; count it."""

    @abstractmethod
    def _reject(self, reason: Rejection, evidence: bytes) -> Result:
        """The bad result for a unit the framing itself rejects; count it."""

    @property
    def buffered(self) -> int:
        """Bytes held for a unit that is not complete yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def events(self) -> Iterator[Result]:
        """Yield every complete unit in the buffer, good or bad, in stream order."""
        while (result := self._next()) is not None:
            yield result

    def receive(self, data: bytes) -> list[Result]:
        self.feed(data)
        return list(self.events())

    def _drop(self, count: int) -> None:
        del self._buffer[:count]
        self._scanned = 1

    def _bad(self, reason: Rejection, end: int) -> Result:
        # Keep at most one unit's worth of evidence, whatever was skipped.
        evidence = bytes(self._buffer[: min(end, self._limit)])
        self._drop(end)
        return self._reject(reason, evidence)

    def _next(self) -> Result | None:
        buf = self._buffer
        if buf and buf[0] != self._start:
            start = buf.find(self._start)
            skipped = len(buf) if start < 0 else start
            self.junk_bytes += skipped
            self._drop(skipped)
        if not buf:
            return None
        match = self._delimiter.search(buf, self._scanned)
        if match is None:
            if len(buf) > self._limit:
                return self._bad("oversize", len(buf))
            self._scanned = len(buf)
            return None
        end = match.start()
        if buf[end] == self._start:
            # A new unit starts before this one ended: report it, resync on the new start.
            return self._bad("oversize" if end > self._limit else "truncated", end)
        if end + 1 > self._limit:
            return self._bad("oversize", end + 1)
        wire = bytes(buf[: end + 1])
        self._drop(end + 1)
        return self._parse(wire)
