"""Connect, run one session, back off, connect again: the loop every decoder client shares.

Strategy: ``ReconnectingRunner`` owns what does not depend on the protocol: the
``DecoderState`` counters and their copies for ``on_state``, the connect timeout, the capped
exponential back-off (with optional jitter from an injectable ``rng``, so tests can pin it)
and closing the writer whatever happened. It also owns the session's read loop
and its silence watchdog, once for every protocol: read, hand the bytes to the subclass's
``_receive``, publish the counters, and raise ``Silence`` when no record has been decoded for
``silence_timeout_s`` (None: no watchdog). A subclass gives a fresh codec per connection,
reads its counters, decodes and dispatches (``_receive``) and may keep one protocol timer
(``_timer_deadline``/``_timer_expired``, the P3 RESEND timer) and say what it sends first
on a new connection (``_connected``). A session only ends by raising: ``Silence`` (the
watchdog fired: the link worked, so retry promptly), ``OSError`` or ``EOFError`` (retry
promptly only if this connection decoded something). Codec counters restart with every
connection; ``_count`` publishes them on top of the earlier connections' totals. Network
errors are logged and counted, never raised; anything else from a session (an exception in
the caller's callback) is a bug and propagates.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable
from typing import ClassVar, Generic, NoReturn, TypeVar

from timing_adapters.adapter import DecoderState, OnState
from timing_adapters.clock import Clock, WallClock

__all__ = ["ReconnectingRunner", "Silence", "Streams"]

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
_Codec = TypeVar("_Codec")


class Silence(Exception):
    """The watchdog fired; the message says what did not arrive, e.g. ``no frame for 15 s``."""


class ReconnectingRunner(abc.ABC, Generic[_Codec]):
    """Run ``_session`` over a fresh connection from ``opener`` forever (an ``Adapter``)."""

    _log: ClassVar[logging.Logger] = logging.getLogger("racecontrol.decoder")
    _kind: ClassVar[str] = "decoder"  # first word of every log line: "decoder URL: ..."
    _record: ClassVar[str] = "frame"  # the watchdog says "no frame for 15 s"
    _peer: ClassVar[str] = "decoder"  # an EOF is "closed by the decoder"
    _read_size: ClassVar[int] = 65536

    def __init__(
        self,
        url: str,
        opener: Callable[[], Awaitable[Streams]],
        *,
        clock: Clock | None = None,
        on_state: OnState | None = None,
        backoff_initial_s: float = 0.5,
        backoff_cap_s: float = 10.0,
        jitter: float = 0.0,
        rng: random.Random | None = None,
        connect_timeout_s: float = 5.0,
        silence_timeout_s: float | None = 15.0,
    ) -> None:
        self._url = url
        self._silence_s = silence_timeout_s
        self._open = opener
        self._clock: Clock = clock if clock is not None else WallClock()
        self._on_state = on_state
        self._backoff_initial_s = backoff_initial_s
        self._backoff_cap_s = backoff_cap_s
        self._jitter = jitter
        self._rng = rng if rng is not None else random.Random()
        self._connect_timeout_s = connect_timeout_s
        self._s = DecoderState(url=url)
        # Codec counters restart with every connection; these carry the earlier totals.
        self._base = (0, 0, 0)

    @abc.abstractmethod
    def _new_codec(self) -> _Codec:
        """A fresh codec, so half a record from a dead link never glues onto the next one."""

    @abc.abstractmethod
    def _counts(self, codec: _Codec) -> tuple[int, int, int]:
        """This connection's (records decoded, bad records, junk bytes)."""

    @abc.abstractmethod
    async def _receive(self, codec: _Codec, data: bytes, writer: asyncio.StreamWriter) -> None:
        """Decode ``data`` and dispatch what it holds (the loop publishes the counters)."""

    async def _connected(self, writer: asyncio.StreamWriter) -> None:
        """What to send first on a new connection (a request, an init command)."""
        return None

    def _timer_deadline(self) -> float | None:
        """When (event-loop time) the protocol's own timer fires, or None."""
        return None

    async def _timer_expired(self, writer: asyncio.StreamWriter) -> None:
        """The protocol's timer fired before its deadline was cleared."""
        return None

    def _link_closed(self) -> None:
        """Forget per-connection protocol state (a timer, say); called before closing."""
        return None

    async def _session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, codec: _Codec
    ) -> NoReturn:
        """Read and dispatch until the link fails: Silence, OSError or EOFError."""
        await self._connected(writer)
        loop = asyncio.get_running_loop()
        last_record = loop.time()
        while True:
            silence_at = None if self._silence_s is None else last_record + self._silence_s
            timer_at = self._timer_deadline()
            wake_at = min((t for t in (silence_at, timer_at) if t is not None), default=None)
            try:
                async with asyncio.timeout(
                    None if wake_at is None else max(0.0, wake_at - loop.time())
                ):
                    data = await reader.read(self._read_size)
            except TimeoutError:
                if silence_at is not None and loop.time() >= silence_at:
                    raise Silence(f"no {self._record} for {self._silence_s:g} s") from None
                await self._timer_expired(writer)
                continue
            if not data:
                raise EOFError(f"closed by the {self._peer}")
            records_before = self._counts(codec)[0]
            await self._receive(codec, data, writer)
            self._count(codec)
            if self._counts(codec)[0] > records_before:
                # Also covers time spent awaiting the callbacks: that was us, not the peer.
                last_record = loop.time()
            self._notify()

    @property
    def state(self) -> DecoderState:
        return dataclasses.replace(self._s)

    def backoff_delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive failed attempts (0 = after a session)."""
        delay = min(self._backoff_cap_s, self._backoff_initial_s * 2.0**failures)
        if self._jitter:
            delay *= 1.0 + self._jitter * (2.0 * self._rng.random() - 1.0)
        return delay

    async def run(self) -> None:
        failures = 0
        while True:
            healthy = False
            try:
                async with asyncio.timeout(self._connect_timeout_s):
                    reader, writer = await self._open()
            except (OSError, TimeoutError) as exc:
                self._error(f"connect failed: {exc!r}")
            else:
                self._s.connected = True
                self._s.connects += 1
                self._log.info("%s %s connected", self._kind, self._url)
                self._notify()
                codec = self._new_codec()
                try:
                    await self._session(reader, writer, codec)
                except Silence as exc:
                    healthy = True  # the link worked until it went quiet: retry promptly
                    self._error(str(exc))
                except (OSError, EOFError) as exc:
                    healthy = self._counts(codec)[0] > 0
                    self._error(f"connection lost: {exc!r}")
                finally:
                    self._base = (self._s.frames, self._s.bad_frames, self._s.junk_bytes)
                    self._link_closed()
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
                    self._s.connected = False
                    self._s.disconnects += 1
                    self._notify()
            failures = 0 if healthy else failures + 1
            await asyncio.sleep(self.backoff_delay(failures))

    def _count(self, codec: _Codec) -> None:
        """Publish the codec's counters on top of the earlier connections' totals."""
        records, bad, junk = self._counts(codec)
        base_records, base_bad, base_junk = self._base
        self._s.frames = base_records + records
        self._s.bad_frames = base_bad + bad
        self._s.junk_bytes = base_junk + junk

    def _error(self, message: str) -> None:
        self._s.last_error = message
        self._log.warning("%s %s: %s", self._kind, self._url, message)
        self._notify()

    def _notify(self) -> None:
        if self._on_state is not None:
            self._on_state(self.state)
