"""Follow another scoring system's RMonitor feed: reconnect, watchdog, detections, picture.

Strategy: the same shape as the P3 runner. This module owns the socket, the timers and the
counters; the codec (``RMonitorDecoder``), the picture (``RMonitorFeedState``) and the
passing logic (``CrossingTracker``) are pure. A fresh decoder per connection, so half a
line from a dead socket never glues onto the first line of the next one; the picture and
the repeat filter survive reconnects, because they belong to the session, not to the TCP
connection. RMonitor sends ``$F`` every second, so silence for ``silence_timeout_s`` means
a dead link even when the socket looks open. Network errors are logged and counted, never
raised; an exception from ``on_detection`` is a bug in the caller and propagates.
URL: ``rmonitor+tcp://host[:port]``, port 50000 by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from typing import NoReturn
from urllib.parse import urlsplit

from timing_adapters.adapter import DecoderState, OnDetection, OnState
from timing_adapters.clock import Clock, WallClock
from timing_adapters.transport import open_stream

from . import DEFAULT_PORT
from .codec import MAX_LINE, RMonitorDecoder
from .crossings import CrossingTracker
from .feed_state import RMonitorFeedState
from .records import BadLine, Heartbeat

__all__ = ["SCHEME", "RMonitorAdapter", "parse_rmonitor_url"]

logger = logging.getLogger("racecontrol.rmonitor")

SCHEME = "rmonitor+tcp"
_READ_SIZE = 65536


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


class _Silence(Exception):
    """The watchdog fired: no line arrived for ``silence_timeout_s``."""


class RMonitorAdapter:
    """An ``Adapter`` (``state``, ``run()``) that follows an RMonitor feed over TCP."""

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
        self._tcp_url = f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"
        self._url = url
        self._on_detection = on_detection
        self._clock: Clock = clock if clock is not None else WallClock()
        self._on_state = on_state
        self._silence_s = silence_timeout_s
        self._backoff_initial_s = backoff_initial_s
        self._backoff_cap_s = backoff_cap_s
        self._connect_timeout_s = connect_timeout_s
        self._max_line = max_line
        self._feed = RMonitorFeedState()
        self._tracker = CrossingTracker(url, line_crossings=line_crossings)
        self._s = DecoderState(url=url)
        self._base = (0, 0, 0)  # counters of the connections before this one

    @property
    def state(self) -> DecoderState:
        return dataclasses.replace(self._s)

    @property
    def feed(self) -> RMonitorFeedState:
        """A copy of everything the feed has said (competitors, classes, positions...)."""
        return self._feed.copy()

    @property
    def unplaced_crossings(self) -> int:
        """``$L`` lines dropped because no ``$F`` had given a time base yet."""
        return self._tracker.unplaced

    def backoff_delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive failed attempts (0 = after a session)."""
        return min(self._backoff_cap_s, self._backoff_initial_s * 2.0**failures)

    async def run(self) -> None:
        failures = 0
        while True:
            healthy = False
            try:
                async with asyncio.timeout(self._connect_timeout_s):
                    reader, writer = await open_stream(self._tcp_url)
            except (OSError, TimeoutError) as exc:
                self._error(f"connect failed: {exc!r}")
            else:
                self._s.connected = True
                self._s.connects += 1
                logger.info("rmonitor %s connected", self._url)
                self._notify()
                decoder = RMonitorDecoder(max_line=self._max_line)
                try:
                    await self._session(reader, decoder)
                except _Silence:
                    healthy = True  # it worked until it went quiet: retry promptly
                    self._error(f"no line for {self._silence_s:g} s")
                except (OSError, EOFError) as exc:
                    healthy = decoder.records > 0
                    self._error(f"connection lost: {exc!r}")
                finally:
                    self._base = (self._s.frames, self._s.bad_frames, self._s.junk_bytes)
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
                    self._s.connected = False
                    self._s.disconnects += 1
                    self._notify()
            failures = 0 if healthy else failures + 1
            await asyncio.sleep(self.backoff_delay(failures))

    async def _session(self, reader: asyncio.StreamReader, decoder: RMonitorDecoder) -> NoReturn:
        """Read and dispatch until the link fails: _Silence, OSError or EOFError."""
        loop = asyncio.get_running_loop()
        last_line = loop.time()
        while True:
            try:
                async with asyncio.timeout(max(0.0, last_line + self._silence_s - loop.time())):
                    data = await reader.read(_READ_SIZE)
            except TimeoutError:
                raise _Silence from None
            if not data:
                raise EOFError("closed by the feed")
            records_before = decoder.records
            for result in decoder.receive(data):
                if isinstance(result, BadLine):
                    logger.debug("rmonitor %s: bad line (%s)", self._url, result.reason)
                    continue
                self._feed.apply(result)
                if isinstance(result, Heartbeat):
                    self._s.last_status_at_us = self._clock.now_us()
                detection = self._tracker.push(result, self._feed)
                self._s.duplicates = self._tracker.duplicates
                if detection is not None:
                    self._s.passings += 1
                    await self._on_detection(detection)
            records, bad, skipped = self._base
            self._s.frames = records + decoder.records
            self._s.bad_frames = bad + decoder.bad_lines
            self._s.junk_bytes = skipped + decoder.skipped_bytes
            if decoder.records > records_before:
                # Also covers time spent awaiting on_detection: that was us, not the feed.
                last_line = loop.time()
            self._notify()

    def _error(self, message: str) -> None:
        self._s.last_error = message
        logger.warning("rmonitor %s: %s", self._url, message)
        self._notify()

    def _notify(self) -> None:
        if self._on_state is not None:
            self._on_state(self.state)
