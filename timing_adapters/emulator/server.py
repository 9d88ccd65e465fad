"""An emulated P3 decoder: a real asyncio TCP server that clients connect to.

Strategy: like the hardware, the emulator is the TCP server and keeps detecting whether or
not anyone listens: every passing gets the next passing number, goes into ``history`` and
is sent to whoever is connected, so a client that reconnects can RESEND what it missed.
``stop()`` is a killed decoder (listener and connections gone, history kept) and ``start()``
brings it back on the same port; ``power_cycle()`` also forgets the history and numbers
its passings from 1 again, like a decoder switched off and on. Time comes from a ``Clock``:
RTC times are its
microseconds, and pacing sleeps ``(target_us - now_us) / rate`` real seconds, so a
``ScaledClock`` runs a race faster than life. Protocol bytes come from the sans-IO codec;
each client gets a VERSION on connect, a STATUS every ``status_interval_s`` and answers to
its RESEND and GET_TIME requests; anything else it sends is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Sequence
from dataclasses import dataclass

from timing_adapters.clock import Clock, WallClock
from timing_adapters.p3 import (
    DecodeResult,
    Field,
    GetTime,
    P3Decoder,
    Passing,
    Resend,
    Status,
    Version,
    decode_frame,
    encode,
)
from timing_adapters.p3.layouts import DECODER_ID, GET_TIME_RTC

from .connection import ClientConnection

DEFAULT_PORT = 5403
"""The port a real P3 decoder listens on; the emulator binds a free port unless told."""

DESCRIPTION = "racecontrol P3 emulator"
VERSION = "1.0"


@dataclass(frozen=True, slots=True)
class ScheduledPassing:
    """One passing of a scenario."""

    offset_us: int  # time since playback start, in race (decoder) time
    transponder: int


class P3Emulator:
    """A P3 decoder on TCP; ``send_timeout_s`` and ``max_pending`` bound a slow client."""

    def __init__(
        self,
        *,
        decoder_id: int = 0x0004_1813,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        status_interval_s: float = 5.0,
        first_passing_number: int = 1,
        send_timeout_s: float = 5.0,
        max_pending: int = 50_000,
    ) -> None:
        if not 0 <= decoder_id < 1 << 32:
            raise ValueError("decoder_id must fit in 4 bytes")
        if status_interval_s <= 0 or send_timeout_s <= 0 or max_pending < 1:
            raise ValueError("intervals, timeouts and queue sizes must be positive")
        self.decoder_id = decoder_id
        self.clock: Clock = clock or WallClock()
        self.host = host
        self.port = port
        self.status_interval_s = status_interval_s
        self.history: dict[int, bytes] = {}  # passing number -> frame as sent
        self.passings_sent = 0  # passings emitted, whether or not anyone was connected
        self._next_number = first_passing_number
        self._send_timeout_s = send_timeout_s
        self._max_pending = max_pending
        self._rng = random.Random(decoder_id)  # plausible signal values, same every run
        self._server: asyncio.Server | None = None
        self._status_task: asyncio.Task[None] | None = None
        self._clients: set[ClientConnection] = set()
        self._handlers: set[asyncio.Task[object]] = set()
        self._client_added = asyncio.Event()

    @property
    def clients(self) -> int:
        return len(self._clients)

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> int:
        """Listen (again, on the same port after a ``stop``); returns the port."""
        if self._server is not None:
            raise RuntimeError("emulator already started")
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._status_task = asyncio.create_task(self._send_statuses())
        return self.port

    async def stop(self) -> None:
        """Vanish like a killed decoder: no listener, every connection aborted."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks: list[asyncio.Task[object]] = [*self._handlers]
        if self._status_task is not None:
            tasks.append(self._status_task)
        for client in list(self._clients):
            tasks.append(client.pump)
            client.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    async def power_cycle(self, first_passing_number: int = 1) -> None:
        """Switch the decoder off and on: connections dropped, history gone, passing numbers
        from ``first_passing_number`` again (its RTC goes on: the clock is not reset)."""
        await self.stop()
        self.history.clear()
        self._next_number = first_passing_number
        await self.start()

    async def wait_for_clients(self, n: int = 1, timeout: float = 5.0) -> None:
        """Return once ``n`` clients are connected; TimeoutError after ``timeout`` s."""
        async with asyncio.timeout(timeout):
            while self.clients < n:
                await self._client_added.wait()

    async def play(self, passings: Sequence[ScheduledPassing]) -> None:
        """Emit each passing at its offset from now, in race time, in time order."""
        start_rtc = self.clock.now_us()
        for scheduled in sorted(passings, key=lambda p: p.offset_us):
            rtc = start_rtc + scheduled.offset_us
            await self.clock.sleep_until(rtc)
            self.push_passing(scheduled.transponder, rtc)

    async def play_capture(self, frames: Sequence[bytes], *, realtime: bool = True) -> None:
        """Send recorded wire frames unchanged, paced by their PASSING times if ``realtime``."""
        first: tuple[int, int] | None = None  # (RTC in the capture, clock) at the first passing
        for wire in frames:
            record = decode_frame(wire)
            if isinstance(record, Passing):
                if realtime:
                    if first is None:
                        first = (record.rtc_time_us, self.clock.now_us())
                    await self.clock.sleep_until(first[1] + record.rtc_time_us - first[0])
                self.history[record.passing_number] = wire
                self._next_number = max(self._next_number, record.passing_number + 1)
                self.passings_sent += 1
            self._broadcast(wire)
            if not realtime:
                await asyncio.sleep(0)  # let client pumps keep up with a fast replay

    def push_passing(self, transponder: int, rtc_time_us: int | None = None) -> Passing:
        """Emit one passing now (RTC time from the clock unless given)."""
        passing = Passing(
            passing_number=self._next_number,
            transponder=transponder,
            rtc_time_us=self.clock.now_us() if rtc_time_us is None else rtc_time_us,
            strength=self._rng.randint(80, 200),
            hits=self._rng.randint(15, 60),
            flags=0,
            decoder_id=self.decoder_id,
        )
        frame = encode(passing)  # ValueError on a bad transponder, before any state changes
        self._next_number += 1
        self.history[passing.passing_number] = frame
        self.passings_sent += 1
        self._broadcast(frame)
        return passing

    def _broadcast(self, frame: bytes) -> None:
        for client in list(self._clients):
            client.send(frame)

    async def _send_statuses(self) -> None:
        while True:
            await asyncio.sleep(self.status_interval_s)
            status = Status(
                noise=self._rng.randint(20, 50),
                temperature=22,
                input_voltage=120,  # tenths of a volt
                gps=0,
                decoder_id=self.decoder_id,
            )
            self._broadcast(encode(status))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None:  # accepted while stopping
            writer.transport.abort()
            return
        task: asyncio.Task[object] | None = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        client = ClientConnection(
            writer,
            send_timeout_s=self._send_timeout_s,
            max_pending=self._max_pending,
            on_close=self._clients.discard,
        )
        self._clients.add(client)
        self._client_added.set()
        self._client_added = asyncio.Event()  # later waiters wait for the next one
        client.send(encode(Version(self.decoder_id, description=DESCRIPTION, version=VERSION)))
        decoder = P3Decoder()
        try:
            with contextlib.suppress(OSError):
                while not client.closed and (data := await reader.read(4096)):
                    for result in decoder.receive(data):
                        self._answer(client, result)
        finally:
            client.close()
            if task is not None:
                self._handlers.discard(task)

    def _answer(self, client: ClientConnection, request: DecodeResult) -> None:
        match request:
            case Resend(from_passing=first, until_passing=last):
                for number in sorted(n for n in self.history if first <= n <= last):
                    client.send(self.history[number])
            case GetTime(rtc_time_us=None):
                now = self.clock.now_us()
                fields = (
                    Field(GET_TIME_RTC, now.to_bytes(8, "little")),
                    Field(DECODER_ID, self.decoder_id.to_bytes(4, "little")),
                )
                client.send(encode(GetTime(rtc_time_us=now, fields=fields)))
            case _:
                pass  # a decoder ignores what it has no answer for
