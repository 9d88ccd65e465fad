"""Run one P3 decoder connection forever: reconnect, watchdog, gap detection and RESEND.

Strategy: the codec (``P3Decoder``) and the ordering logic (``PassingSequencer``) are pure;
``ReconnectingRunner`` (reconnect.py) connects, backs off, closes the socket and carries the
counters across connections, and runs the read loop with its silence watchdog; this module
owns the protocol: decoding, the RESEND timer (asked for at once on every reconnect, for
what came after the last passing delivered), the numbering epochs and the counters. A fresh
codec per connection, so a half frame from a dead socket never glues onto the next one; the
sequencer survives reconnects, because passing numbers belong to the decoder, not to the TCP
session. A passing that arrives beyond ``last + 1`` is
held back and the hole is asked for with RESEND; after two unanswered requests the hole is
given up (counted as lost) so that live timing never stalls. A decoder that restarts its
numbering (power cycle, swap) sends numbers already passed, timed outside the times they
had: that starts a new numbering epoch (``epoch``, carried on every detection), so its
passings are scored, while a repeat of a number of the current epoch is still dropped.
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

from timing_adapters.adapter import DecoderState
from timing_adapters.clock import Clock
from timing_adapters.p3 import P3Decoder, encode_get_time, encode_resend
from timing_adapters.p3.codec import MAX_PASSING_NUMBER
from timing_adapters.p3.records import BadFrame, GetTime, Passing, Status, Version
from timing_adapters.reconnect import ReconnectingRunner, Streams
from timing_adapters.rejections import RejectionLog
from timing_adapters.transport import open_stream, parse_url

__all__ = [
    "PROACTIVE_RESEND_WINDOW",
    "RESTART_MARGIN_US",
    "DecoderRunner",
    "DecoderState",
    "PassingSequencer",
]

logger = logging.getLogger("racecontrol.decoder")

_RESEND_ATTEMPTS = 2
_RESTART_RESEND_MAX = 1000  # a restarted numbering first seen at or below: ask from 1
PROACTIVE_RESEND_WINDOW = 65_536
"""On (re)connect, the passings after the last one delivered are asked for at once, this many."""
CLOCK_SAMPLES = 4
"""GET_TIME asked this many times per connection, one after the other; the quickest answer
sets the clock offset."""
RESTART_MARGIN_US = 1_000_000
"""A number already passed, timed this far outside its numbering's times: a restart."""


class PassingSequencer:
    """Pure: releases passings in number order, holds back those past a hole, drops repeats,
    and tells a decoder that restarted its numbering from one that repeats itself.

    ``span_us`` is the earliest and latest decoder time delivered in this numbering: a
    number at or below the last one delivered, timed inside that span, is a repeat (a RESEND
    answer); timed outside it (the RTC went on, the numbers went back) the decoder has
    restarted its numbering (``is_restart``), and its passings are new.
    """

    def __init__(
        self, last_delivered: int | None = None, span_us: tuple[int, int] | None = None
    ) -> None:
        self.last = last_delivered  # None until the first passing: we start wherever it is
        self.span_us = span_us
        self.pending: dict[int, Passing] = {}
        self.duplicates = 0
        self.lost = 0

    def is_restart(self, passing: Passing) -> bool:
        """Whether ``passing`` belongs to a new numbering (see the class docstring)."""
        n, at = passing.passing_number, passing.rtc_time_us
        if self.last is None or n > self.last or self.span_us is None:
            return False
        earliest, latest = self.span_us
        return at > latest + RESTART_MARGIN_US or at < earliest - RESTART_MARGIN_US

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
            out.append(self._spanned(self.pending.pop(n)))
        return out

    def _release(self) -> list[Passing]:
        out: list[Passing] = []
        while self.last is not None and self.last + 1 in self.pending:
            self.last += 1
            out.append(self._spanned(self.pending.pop(self.last)))
        return out

    def _spanned(self, passing: Passing) -> Passing:
        at = passing.rtc_time_us
        low, high = self.span_us if self.span_us is not None else (at, at)
        self.span_us = (min(low, at), max(high, at))
        return passing


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
        epoch: int = 0,
        epoch_span_us: tuple[int, int] | None = None,
        opener: Callable[[], Awaitable[Streams]] | None = None,
    ) -> None:
        """``last_passing_number``, ``epoch`` and ``epoch_span_us`` resume where the journal
        ends (the ingest's ``ResumePoint``): the numbering epoch, its last passing number and
        the decoder times it covered."""
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
            silence_timeout_s=silence_timeout_s,
        )
        self._on_passing = on_passing
        self._resend_timeout_s = resend_timeout_s
        self._seq = PassingSequencer(last_passing_number, epoch_span_us)
        self._s.last_passing_number = last_passing_number
        self._s.numbering_epoch = epoch
        self._resend_deadline: float | None = None
        self._resend_tries = 0
        self._passing_decoder_id: int | None = None
        self._time_asked_us = 0
        self._time_samples = 0  # GET_TIME answers on this connection
        self._best_round_trip_us: int | None = None
        self._rejections = RejectionLog(logger, f"decoder {url}")

    @property
    def clock_offset_us(self) -> int | None:
        """Decoder clock -> our clock, from the last GET_TIME answer (None before one)."""
        return self._s.clock_offset_us

    @property
    def epoch(self) -> int:
        """The decoder's numbering epoch: one more every time it restarted its numbers."""
        return self._s.numbering_epoch

    def _new_codec(self) -> P3Decoder:
        return P3Decoder()

    def _counts(self, codec: P3Decoder) -> tuple[int, int, int]:
        return codec.frames, codec.bad_frames, codec.junk_bytes

    def _link_closed(self) -> None:
        self._resend_deadline = None  # the holes are asked for again on the next connection

    def _timer_deadline(self) -> float | None:
        return self._resend_deadline

    async def _connected(self, writer: asyncio.StreamWriter) -> None:
        # The decoder's clock against ours, measured once per connection (GET_TIME), asked
        # first: a decoder answers in order, and an answer queued behind thousands of
        # resent passings would put the midpoint seconds off, and with it every passing
        # after it (a lap across the reconnection would shrink under the minimum lap).
        self._time_samples, self._best_round_trip_us = 0, None
        self._ask_time(writer)
        last = max(self._seq.pending, default=self._seq.last)
        if last is not None and last < MAX_PASSING_NUMBER:
            # Whatever the decoder numbered while we were away (or down), asked for at
            # once: the next crossing need not reveal the gap. No timer: when nothing
            # was missed, nothing comes back, and that is no loss.
            until = min(MAX_PASSING_NUMBER, last + PROACTIVE_RESEND_WINDOW)
            logger.info("decoder %s: RESEND %d..%d (on connect)", self._url, last + 1, until)
            writer.write(encode_resend(last + 1, until))
            self._s.resend_requests += 1
        # Passings held back when the last connection dropped: ask for their holes again.
        self._request(writer, self._seq.holes())

    async def _receive(self, codec: P3Decoder, data: bytes, writer: asyncio.StreamWriter) -> None:
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
                self._time_answered(record.rtc_time_us, writer)
            elif isinstance(record, BadFrame):
                reason = f"{record.reason}: {record.detail}" if record.detail else record.reason
                self._s.last_rejection = self._rejections.report(reason, record.data)

    def _ask_time(self, writer: asyncio.StreamWriter) -> None:
        self._time_asked_us = self._clock.now_us()
        writer.write(encode_get_time())

    def _time_answered(self, rtc_time_us: int, writer: asyncio.StreamWriter) -> None:
        """The answer was stamped somewhere between our request and now: its midpoint is
        off by at most half the round trip. Of the answers on this connection, the one
        with the shortest round trip sets the offset (an answer that queued behind resent
        passings or a busy loop is not trusted over a quick one); asked one at a time, so
        each round trip is that request's own."""
        now = self._clock.now_us()
        round_trip = now - self._time_asked_us
        self._time_samples += 1
        if self._best_round_trip_us is None or round_trip < self._best_round_trip_us:
            self._best_round_trip_us = round_trip
            self._s.clock_offset_us = (self._time_asked_us + now) // 2 - rtc_time_us
            self._s.clock_round_trip_us = round_trip
        if self._time_samples < CLOCK_SAMPLES:
            self._ask_time(writer)

    async def _timer_expired(self, writer: asyncio.StreamWriter) -> None:
        await self._resend_expired(writer)

    async def _fresh_numbering(self, last_delivered: int | None) -> None:
        """Release what the old numbering held back; then number from scratch."""
        await self._deliver(self._seq.skip_holes())
        fresh = PassingSequencer(last_delivered)
        fresh.duplicates, fresh.lost = self._seq.duplicates, self._seq.lost
        self._seq = fresh
        self._resend_deadline = None
        self._resend_tries = 0

    async def _passing(self, passing: Passing, writer: asyncio.StreamWriter) -> None:
        if passing.decoder_id is not None and passing.decoder_id != self._passing_decoder_id:
            if self._passing_decoder_id is not None:
                # Another decoder on this address numbers its passings from its own start.
                logger.warning("decoder %s: decoder id changed, restarting numbering", self._url)
                await self._fresh_numbering(None)
            self._passing_decoder_id = passing.decoder_id
        if self._seq.is_restart(passing):
            n = passing.passing_number
            logger.warning(
                "decoder %s restarted its passing numbers at %d (last was %s); new epoch %d",
                self._url,
                n,
                self._seq.last,
                self._s.numbering_epoch + 1,
            )
            # From 1 the passings it numbered before we saw this one are asked for; a
            # numbering that resumes high (a swapped decoder's own history) starts here.
            await self._fresh_numbering(0 if n <= _RESTART_RESEND_MAX else n - 1)
            self._s.numbering_epoch += 1
        ready, hole = self._seq.push(passing)
        self._s.duplicates, self._s.lost_passings = self._seq.duplicates, self._seq.lost
        if hole is not None:
            self._request(writer, [hole])
        await self._deliver(ready)

    async def _deliver(self, passings: list[Passing]) -> None:
        if not self._seq.pending:
            self._resend_deadline = None
            self._resend_tries = 0
        elif passings and self._resend_deadline is not None:
            # the hole is being filled: a long answer (thousands of passings resent after a
            # restart, a busy server) is not an unanswered request. The timer counts the
            # decoder's silence on the hole, never the answer's length: given up half way,
            # the later passings went first and the rest came in out of order (a lap lost)
            self._resend_deadline = asyncio.get_running_loop().time() + self._resend_timeout_s
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
