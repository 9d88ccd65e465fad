"""MyLaps T&S exchange listener: T&S connects to us and pushes its passings.

Strategy: the protocol lives in ``MessageFramer`` and ``ExchangeSession`` (sans-IO); this
module owns the listening socket, one task per connected T&S client, the timers and the
counters. For every chunk read, each message's detections are awaited through
``on_detection`` before its replies are written, so an acknowledgement always follows
delivery (T&S sends unacknowledged messages again). A ``Ping`` goes to every client every
``ping_interval_s``; T&S answers each one, so a client that sends nothing for
``silence_timeout_s`` is gone and its connection is closed. Network errors are logged and
counted in ``state`` (``connected`` while at least one client is connected), never raised;
a port that cannot be bound is retried with back-off. An exception from ``on_detection``
is a bug in the caller and ends ``run()``. Every timer is a real (monotonic) timer; the
injected ``Clock`` only stamps the last keep-alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from urllib.parse import urlsplit

from timing_adapters.adapter import DecoderState, OnDetection, OnState
from timing_adapters.clock import Clock, WallClock
from timing_adapters.rejections import RejectionLog

from .codec import MAX_MESSAGE_SIZE, MessageFramer, encode
from .messages import BadMessage, Passing, Store
from .protocol import DEFAULT_SERVER_NAME, PROTOCOL_VERSION, ExchangeSession, RecentKeys

__all__ = ["DEFAULT_PORT", "SCHEME", "MyLapsExchangeServer", "parse_listen_url"]

logger = logging.getLogger("racecontrol.decoder.mylaps")

SCHEME = "mylaps+listen"
DEFAULT_PORT = 3097
"""The port T&S connects to by default (its TCP/IP exchange settings)."""

_READ_SIZE = 65536
_BIND_RETRY_CAP_S = 10.0


@dataclasses.dataclass(frozen=True, slots=True)
class _Counts:
    messages: int = 0
    bad: int = 0
    rejected: int = 0
    duplicates: int = 0
    junk: int = 0


def parse_listen_url(url: str) -> tuple[str, int]:
    """``mylaps+listen://HOST[:PORT]`` -> (host, port); ValueError saying what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid listener URL {url!r}: {exc}") from None
    if parts.scheme.lower() != SCHEME:
        raise ValueError(f"{url!r}: a MyLaps T&S listener URL is {SCHEME}://HOST:PORT")
    if not parts.hostname:
        raise ValueError(f"{url!r} has no host; use {SCHEME}://0.0.0.0:{DEFAULT_PORT}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{url!r} must be {SCHEME}://HOST[:PORT] with nothing after")
    return parts.hostname, DEFAULT_PORT if port is None else port


class MyLapsExchangeServer:
    """The adapter for ``mylaps+listen://``: a TCP listener for T&S clients."""

    def __init__(
        self,
        url: str,
        on_detection: OnDetection,
        *,
        clock: Clock | None = None,
        on_state: OnState | None = None,
        silence_timeout_s: float = 30.0,
        ping_interval_s: float = 10.0,
        send_timeout_s: float = 5.0,
        max_clients: int = 16,
        server_name: str = DEFAULT_SERVER_NAME,
        version: str | None = PROTOCOL_VERSION,
        max_message_size: int = MAX_MESSAGE_SIZE,
    ) -> None:
        self._host, self._port = parse_listen_url(url)
        if min(silence_timeout_s, ping_interval_s, send_timeout_s) <= 0 or max_clients < 1:
            raise ValueError("timeouts, intervals and max_clients must be positive")
        self._on_detection = on_detection
        self._rejections = RejectionLog(logger, f"MyLaps T&S {url}")
        self._clock: Clock = clock if clock is not None else WallClock()
        self._on_state = on_state
        self._silence_s = silence_timeout_s
        self._ping_s = ping_interval_s
        self._send_s = send_timeout_s
        self._max_clients = max_clients
        self._name = server_name
        self._version = version
        self._max_message_size = max_message_size
        self._recent = RecentKeys()  # shared: a resend may come on another connection
        self._clients = 0
        self._locations: set[str] = set()
        self._listening = asyncio.Event()
        self.port: int | None = None  # the bound port once listening (useful with port 0)
        self._s = DecoderState(url=url)

    @property
    def state(self) -> DecoderState:
        return dataclasses.replace(self._s)

    async def wait_listening(self) -> int:
        """Wait until the socket is bound; returns the port."""
        await self._listening.wait()
        assert self.port is not None
        return self.port

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                await self._listen()
            except OSError as exc:
                self._error(f"cannot listen on {self._host}:{self._port}: {exc!r}")
            failures += 1
            await asyncio.sleep(min(_BIND_RETRY_CAP_S, 0.5 * 2.0**failures))

    async def _listen(self) -> None:
        clients: asyncio.TaskGroup | None = None

        def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                assert clients is not None  # no await between binding and the group
                clients.create_task(self._client(reader, writer))
            except RuntimeError:  # the group is shutting down: we are stopping
                writer.close()

        # Bound outside the group, so that a busy port is a plain OSError for run().
        server = await asyncio.start_server(accept, self._host, self._port)
        async with asyncio.TaskGroup() as group:
            clients = group
            try:
                self.port = server.sockets[0].getsockname()[1]
                logger.info("MyLaps T&S listener on %s:%d", self._host, self.port)
                self._listening.set()
                await asyncio.Event().wait()  # until cancelled; clients run in the group
            finally:
                self._listening.clear()
                server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        if self._clients >= self._max_clients:
            self._error(f"refused {peer}: already {self._clients} clients")
            writer.close()
            return
        self._clients += 1
        self._s.connected = True
        self._s.connects += 1
        logger.info("MyLaps T&S client %s connected", peer)
        self._notify()
        session = ExchangeSession(self._name, version=self._version, recent=self._recent)
        pinger = asyncio.create_task(self._ping(writer, session))
        try:
            await self._serve(reader, writer, session)
        except TimeoutError:
            self._error(f"client {peer} silent for {self._silence_s:g} s or not reading")
        except OSError as exc:
            self._error(f"client {peer}: {exc!r}")
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await pinger
            writer.close()
            self._clients -= 1
            self._s.connected = self._clients > 0
            self._s.disconnects += 1
            logger.info("MyLaps T&S client %s disconnected", peer)
            self._notify()

    async def _ping(self, writer: asyncio.StreamWriter, session: ExchangeSession) -> None:
        while True:
            await asyncio.sleep(self._ping_s)
            writer.write(encode(session.ping()))

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, session: ExchangeSession
    ) -> None:
        """Read and answer until the client closes; TimeoutError when it goes silent."""
        framer = MessageFramer(max_message_size=self._max_message_size)
        seen = _Counts()  # this connection's counters already added to the state
        while True:
            async with asyncio.timeout(self._silence_s):
                data = await reader.read(_READ_SIZE)
            if not data:
                return
            for item in framer.receive(data):
                if isinstance(item, BadMessage):
                    self._s.last_rejection = self._rejections.report(item.reason, item.data)
                    self._s.last_error = f"bad message ({item.reason})"
                elif isinstance(item, Store | Passing):
                    for bad in item.rejected:
                        text = bad.text.encode("utf-8", "replace")
                        self._s.last_rejection = self._rejections.report(bad.reason, text)
                reaction = session.handle(item)
                for detection in reaction.detections:
                    await self._on_detection(detection)
                    self._s.passings += 1
                for reply in reaction.replies:
                    try:
                        writer.write(encode(reply))
                    except ValueError as exc:  # an echoed name the wire cannot carry
                        logger.error("MyLaps T&S: reply not sent (%s): %r", exc, reply)
                if reaction.keepalive:
                    self._s.last_status_at_us = self._clock.now_us()
            seen = self._count(session, framer, seen)
            self._locations.update(session.locations)
            self._s.decoder_id = ", ".join(sorted(self._locations)) or None
            self._notify()
            async with asyncio.timeout(self._send_s):
                await writer.drain()

    def _count(self, session: ExchangeSession, framer: MessageFramer, seen: _Counts) -> _Counts:
        """Add what this connection counted since ``seen`` to the listener's totals."""
        now = _Counts(
            session.messages,
            session.bad_messages,
            session.rejected_records,
            session.duplicates,
            framer.junk_bytes,
        )
        self._s.frames += now.messages - seen.messages
        self._s.bad_frames += now.bad - seen.bad + now.rejected - seen.rejected
        self._s.duplicates += now.duplicates - seen.duplicates
        self._s.junk_bytes += now.junk - seen.junk
        if now.rejected > seen.rejected:
            self._s.last_error = f"{now.rejected - seen.rejected} chip record(s) rejected"
        return now

    def _error(self, message: str) -> None:
        self._s.last_error = message
        logger.warning("MyLaps T&S: %s", message)
        self._notify()

    def _notify(self) -> None:
        if self._on_state is not None:
            self._on_state(self.state)
