"""Run one P3 decoder connection forever: reconnect, watchdog, gap detection and RESEND.

Strategy: the codec (``P3Decoder``) and the ordering logic (``PassingSequencer``) are pure;
``ReconnectingRunner`` (reconnect.py) connects, backs off, closes the socket and carries the
counters across connections; this module owns the session: the watchdog, the RESEND timer
and the protocol counters. A fresh codec per connection, so a half frame from a dead socket
never glues onto the next one; the sequencer survives reconnects, because passing numbers
belong to the decoder, not to the TCP session. A passing that arrives beyond ``last + 1`` is
held back and the hole is asked for with RESEND; after two unanswered requests the hole is
given up (counted as lost) so that live timing never stalls.
Every timer here is a real (monotonic) timer; the injected ``Clock`` only stamps the status.
The byte stream comes from ``open_stream(url)`` (TCP) unless an ``opener`` is given (a serial
port: ``serial_transport.serial_opener``); the protocol logic is the same either way.
Network errors are logged and counted, never raised; a bad frame is counted (``bad_frames``)
and logged with its bytes in hex (``rejections.py``); an exception from ``on_passing`` is a
bug in the caller and propagates.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable
from typing import NoReturn

from timing_adapters.adapter import DecoderState
from timing_adapters.clock import Clock
from timing_adapters.p3 import P3Decoder, encode_get_time, encode_resend
from timing_adapters.p3.codec import MAX_PASSING_NUMBER
from timing_adapters.p3.records import BadFrame, GetTime, Passing, Status, Version
from timing_adapters.reconnect import ReconnectingRunner, Silence, Streams
from timing_adapters.rejections import RejectionLog
from timing_adapters.transport import open_stream, parse_url

__all__ = ["DecoderRunner", "DecoderState", "PassingSequencer"]

logger = logging.getLogger("racecontrol.decoder")

_READ_SIZE = 65536
_RESEND_ATTEMPTS = 2


class PassingSequencer:
    """Pure: releases passings in number order, holds back those past a hole, drops repeats."""

    def __init__(self, last_delivered: int | None = None) -> None:
        self.last = last_delivered  # None until the first passing: we start wherever it is
        self.pending: dict[int, Passing] = {}
        self.duplicates = 0
        self.lost = 0

    def push(self, passing: Passing) -> tuple[list[Passing], tuple[int, int] | None]:
        """Return the passings now releasable and the new hole to request, if one opened."""
        n = passing.passing_number
        last = n - 1 if self.last is None else self.last
        if n <= last or n in self.pending:
            self.duplicates += 1
            return [], None
        top = max(self.pending, default=last)
        self.pending[n] = passing
        self.last = last
        hole = (top + 1, n - 1) if n > top + 1 else None
        return self._release(), hole

    def holes(self) -> list[tuple[int, int]]:
        """Every missing range (inclusive) below the highest held-back passing."""
        ranges: list[tuple[int, int]] = []
        prev = self.last if self.last is not None else 0
        for n in sorted(self.pending):
            if n > prev + 1:
                ranges.append((prev + 1, n - 1))
            prev = n
        return ranges

    def skip_holes(self) -> list[Passing]:
        """Give up on the missing numbers: release everything held back, in order."""
        out: list[Passing] = []
        for n in sorted(self.pending):
            self.lost += n - (self.last if self.last is not None else n - 1) - 1
            self.last = n
            out.append(self.pending.pop(n))
        return out

    def _release(self) -> list[Passing]:
        out: list[Passing] = []
        while self.last is not None and self.last + 1 in self.pending:
            self.last += 1
            out.append(self.pending.pop(self.last))
        return out


class DecoderRunner(ReconnectingRunner[P3Decoder]):
    def __init__(
        self,
        url: str,
        on_passing: Callable[[Passing], Awaitable[None]],
        *,
        clock: Clock | None = None,
        on_state: Callable[[DecoderState], None] | None = None,
        silence_timeout_s: float = 15.0,
        backoff_initial_s: float = 0.5,
        backoff_cap_s: float = 10.0,
        jitter: float = 0.0,
        rng: random.Random | None = None,
        connect_timeout_s: float = 5.0,
        resend_timeout_s: float = 3.0,
        last_passing_number: int | None = None,
        opener: Callable[[], Awaitable[Streams]] | None = None,
    ) -> None:
        if opener is None:
            parse_url(url)  # a bad URL is a configuration error: fail now, not in the loop
        super().__init__(
            url,
            opener if opener is not None else functools.partial(open_stream, url),
            clock=clock,
            on_state=on_state,
            backoff_initial_s=backoff_initial_s,
            backoff_cap_s=backoff_cap_s,
            jitter=jitter,
            rng=rng,
            connect_timeout_s=connect_timeout_s,
        )
        self._on_passing = on_passing
        self._silence_s = silence_timeout_s
        self._resend_timeout_s = resend_timeout_s
        self._seq = PassingSequencer(last_passing_number)
        self._s.last_passing_number = last_passing_number
        self._resend_deadline: float | None = None
        self._resend_tries = 0
        self._passing_decoder_id: int | None = None
        self._rejections = RejectionLog(logger, f"decoder {url}")

    @property
    def clock_offset_us(self) -> int | None:
        """Decoder clock -> our clock, from the last GET_TIME answer (None before one)."""
        return self._s.clock_offset_us

    def _new_codec(self) -> P3Decoder:
        return P3Decoder()

    def _counts(self, codec: P3Decoder) -> tuple[int, int, int]:
        return codec.frames, codec.bad_frames, codec.junk_bytes

    def _link_closed(self) -> None:
        self._resend_deadline = None  # the holes are asked for again on the next connection

    async def _session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, codec: P3Decoder
    ) -> NoReturn:
        """Read and dispatch until the link fails: Silence, OSError or EOFError."""
        loop = asyncio.get_running_loop()
        last_frame = loop.time()
        # Passings held back when the last connection dropped: ask for their holes again.
        self._request(writer, self._seq.holes())
        # The decoder's clock against ours, measured once per connection (GET_TIME).
        time_asked_us = self._clock.now_us()
        writer.write(encode_get_time())
        while True:
            silence_at = last_frame + self._silence_s
            wake_at = silence_at
            if self._resend_deadline is not None:
                wake_at = min(wake_at, self._resend_deadline)
            try:
                async with asyncio.timeout(max(0.0, wake_at - loop.time())):
                    data = await reader.read(_READ_SIZE)
            except TimeoutError:
                if loop.time() >= silence_at:
                    raise Silence(f"no frame for {self._silence_s:g} s") from None
                await self._resend_expired(writer)
                continue
            if not data:
                raise EOFError("closed by the decoder")
            frames_before = codec.frames
            for record in codec.receive(data):
                if isinstance(record, Passing):
                    await self._passing(record, writer)
                elif isinstance(record, Status | Version):
                    if isinstance(record, Status):
                        self._s.last_status_at_us = self._clock.now_us()
                        self._s.noise = record.noise
                    if record.decoder_id is not None:
                        self._s.decoder_id = record.decoder_id
                elif isinstance(record, GetTime) and record.rtc_time_us is not None:
                    # the answer was stamped somewhere between our request and now
                    midpoint = (time_asked_us + self._clock.now_us()) // 2
                    self._s.clock_offset_us = midpoint - record.rtc_time_us
                elif isinstance(record, BadFrame):
                    reason = f"{record.reason}: {record.detail}" if record.detail else record.reason
                    self._s.last_rejection = self._rejections.report(reason, record.data)
            self._count(codec)
            if codec.frames > frames_before:
                # Also covers time spent awaiting on_passing: that was us, not the decoder.
                last_frame = loop.time()
            self._notify()

    async def _passing(self, passing: Passing, writer: asyncio.StreamWriter) -> None:
        if passing.decoder_id is not None and passing.decoder_id != self._passing_decoder_id:
            if self._passing_decoder_id is not None:
                # Another decoder on this address numbers its passings from its own start.
                logger.warning("decoder %s: decoder id changed, restarting numbering", self._url)
                await self._deliver(self._seq.skip_holes())
                fresh = PassingSequencer()
                fresh.duplicates, fresh.lost = self._seq.duplicates, self._seq.lost
                self._seq = fresh
            self._passing_decoder_id = passing.decoder_id
        ready, hole = self._seq.push(passing)
        self._s.duplicates, self._s.lost_passings = self._seq.duplicates, self._seq.lost
        if hole is not None:
            self._request(writer, [hole])
        await self._deliver(ready)

    async def _deliver(self, passings: list[Passing]) -> None:
        if not self._seq.pending:
            self._resend_deadline = None
            self._resend_tries = 0
        for passing in passings:
            self._s.last_passing_number = passing.passing_number
            self._s.passings += 1
            await self._on_passing(passing)

    def _request(self, writer: asyncio.StreamWriter, holes: list[tuple[int, int]]) -> None:
        for first, last in holes:
            if last > MAX_PASSING_NUMBER:  # cannot be asked for; the codec never lets one in
                logger.error("decoder %s: hole %d..%d cannot be requested", self._url, first, last)
                continue
            logger.info("decoder %s: RESEND %d..%d", self._url, first, last)
            writer.write(encode_resend(first, last))
            self._s.resend_requests += 1
        if holes and self._resend_deadline is None:
            self._resend_deadline = asyncio.get_running_loop().time() + self._resend_timeout_s

    async def _resend_expired(self, writer: asyncio.StreamWriter) -> None:
        self._resend_deadline = None
        self._resend_tries += 1
        if self._resend_tries < _RESEND_ATTEMPTS:
            self._request(writer, self._seq.holes())
            return
        lost_before = self._seq.lost
        released = self._seq.skip_holes()
        self._s.lost_passings = self._seq.lost
        logger.warning(
            "decoder %s: gave up on %d passing(s) after %d RESEND attempts",
            self._url,
            self._seq.lost - lost_before,
            _RESEND_ATTEMPTS,
        )
        await self._deliver(released)
        self._notify()
