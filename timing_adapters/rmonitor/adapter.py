"""Follow another scoring system's RMonitor feed: reconnect, watchdog, detections, picture.

Strategy: the same shape as the P3 runner. ``ReconnectingRunner`` (reconnect.py) connects,
backs off, closes the socket, carries the counters across connections and runs the read
loop with its silence watchdog; this module decodes and dispatches. The codec
(``RMonitorDecoder``), the picture (``RMonitorFeedState``) and the passing logic
(``CrossingTracker``) are pure. A fresh decoder
per connection, so half a line from a dead socket never glues onto the first line of the
next one; the picture and the repeat filter survive reconnects, because they belong to the
session, not to the TCP connection. RMonitor sends ``$F`` every second, so silence for
``silence_timeout_s`` means a dead link even when the socket looks open. Network errors are
logged and counted, never raised; an exception from ``on_detection`` is a bug in the caller
and propagates.
URL: ``rmonitor+tcp://host[:port]``, port 50000 by default.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from urllib.parse import urlsplit

from timing_adapters.adapter import OnDetection, OnState
from timing_adapters.clock import Clock
from timing_adapters.reconnect import ReconnectingRunner
from timing_adapters.rejections import RejectionLog
from timing_adapters.transport import open_stream

from . import DEFAULT_PORT
from .codec import ENCODING, MAX_LINE, RMonitorDecoder
from .crossings import CrossingTracker
from .feed_state import RMonitorFeedState
from .records import BadLine, Heartbeat

__all__ = ["SCHEME", "RMonitorAdapter", "parse_rmonitor_url"]

logger = logging.getLogger("racecontrol.rmonitor")

SCHEME = "rmonitor+tcp"


def parse_rmonitor_url(url: str) -> tuple[str, int]:
    """``rmonitor+tcp://host[:port]`` -> (host, port); ValueError naming the problem."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid RMonitor URL {url!r}: {exc}") from None
    if parts.scheme.lower() != SCHEME:
        raise ValueError(f"RMonitor URL {url!r} must start with {SCHEME}://")
    if not parts.hostname:
        raise ValueError(f"RMonitor URL {url!r} has no host; use {SCHEME}://host:port")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"RMonitor URL {url!r} must be {SCHEME}://host[:port]")
    return parts.hostname, DEFAULT_PORT if port is None else port


class RMonitorAdapter(ReconnectingRunner[RMonitorDecoder]):
    """An ``Adapter`` (``state``, ``run()``) that follows an RMonitor feed over TCP."""

    _log = logger
    _kind = "rmonitor"
    _record = "line"
    _peer = "feed"

    def __init__(
        self,
        url: str,
        on_detection: OnDetection,
        *,
        clock: Clock | None = None,
        on_state: OnState | None = None,
        silence_timeout_s: float = 15.0,
        backoff_initial_s: float = 0.5,
        backoff_cap_s: float = 10.0,
        connect_timeout_s: float = 5.0,
        line_crossings: bool = True,
        max_line: int = MAX_LINE,
    ) -> None:
        host, port = parse_rmonitor_url(url)  # a bad URL fails now, not in the loop
        tcp_url = f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"
        super().__init__(
            url,
            functools.partial(open_stream, tcp_url),
            clock=clock,
            on_state=on_state,
            backoff_initial_s=backoff_initial_s,
            backoff_cap_s=backoff_cap_s,
            connect_timeout_s=connect_timeout_s,
            silence_timeout_s=silence_timeout_s,
        )
        self._on_detection = on_detection
        self._rejections = RejectionLog(logger, f"rmonitor {url}")
        self._max_line = max_line
        self._feed = RMonitorFeedState()
        self._tracker = CrossingTracker(url, line_crossings=line_crossings)

    @property
    def feed(self) -> RMonitorFeedState:
        """A copy of everything the feed has said (competitors, classes, positions...)."""
        return self._feed.copy()

    @property
    def unplaced_crossings(self) -> int:
        """``$L`` lines dropped because no ``$F`` had given a time base yet."""
        return self._tracker.unplaced

    def _new_codec(self) -> RMonitorDecoder:
        return RMonitorDecoder(max_line=self._max_line)

    def _counts(self, codec: RMonitorDecoder) -> tuple[int, int, int]:
        return codec.records, codec.bad_lines, codec.skipped_bytes

    async def _receive(
        self, decoder: RMonitorDecoder, data: bytes, writer: asyncio.StreamWriter
    ) -> None:
        for result in decoder.receive(data):
            if isinstance(result, BadLine):
                # a line cut short, two spliced: counted, and shown as text on /control
                self._s.last_rejection = self._rejections.report(
                    result.reason, result.line, text=ENCODING
                )
                continue
            self._feed.apply(result)
            if isinstance(result, Heartbeat):
                self._s.last_status_at_us = self._clock.now_us()
            for detection in self._tracker.push(result, self._feed):
                self._s.passings += 1
                await self._on_detection(detection)
            self._s.duplicates = self._tracker.duplicates
