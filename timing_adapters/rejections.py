"""One log line per rejected input, with its bytes in hex, without flooding the log.

Strategy: a hostile or broken decoder can send thousands of bad frames a second. Each one
is counted on the ``DecoderState`` (``bad_frames``) by its runner; this only decides which
ones are also written to the log: the first ``detailed`` of a runner, then one at each
power of ten (100, 1000, ...) with the running count, so the log shows what the bad input
looks like and how much of it there is, and stays bounded.
"""

from __future__ import annotations

import logging

_HEX_BYTES = 256  # a frame is at most a few hundred bytes; a longer blob is cut


def hex_excerpt(data: bytes) -> str:
    """``data`` in hex, cut at 256 bytes (with the full length said)."""
    text = data[:_HEX_BYTES].hex(" ")
    return text if len(data) <= _HEX_BYTES else f"{text} ... ({len(data)} bytes)"


_TEXT_CHARS = 80


def text_excerpt(data: bytes, encoding: str = "cp1252") -> str:
    """A text protocol's rejected line as text (control characters shown as ``\\xNN``),
    cut at 80 characters: what race control reads on the decoder panel."""
    text = data.rstrip(b"\r\n").decode(encoding, "replace")
    shown = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    return shown if len(shown) <= _TEXT_CHARS else shown[:_TEXT_CHARS] + " ..."


class RejectionLog:
    def __init__(self, logger: logging.Logger, source: str, *, detailed: int = 20) -> None:
        self._logger = logger
        self._source = source
        self._detailed = detailed
        self.count = 0

    def report(self, reason: str, data: bytes, *, text: str | None = None) -> str:
        """Count one rejected input, log it if it is one of the few worth a line; returns
        the short form for ``DecoderState.last_rejection`` (``text``: the encoding of a
        text protocol, whose line is shown as text rather than hex)."""
        self.count += 1
        n = self.count
        if n <= self._detailed or (n >= 100 and str(n).rstrip("0") == "1"):
            self._logger.warning(
                "%s: rejected input #%d (%s): %s", self._source, n, reason, hex_excerpt(data)
            )
        if text is not None:
            return f"{reason}: {text_excerpt(data, text)}"
        return f"{reason}: {data[:16].hex(' ')}" + (" ..." if len(data) > 16 else "")
