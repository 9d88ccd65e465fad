"""RMonitor output: a TCP server (port 50000) that scoreboards and timing apps follow.

Strategy: the server knows nothing of the engine; it is handed ``RMonitorSnapshot``s
through ``update()`` and turns them into records with the pure functions of
``snapshot.py``. Every client gets the same stream: the records that changed (on
``update``), ``$F`` every ``heartbeat_interval_s`` (its clock advanced from the snapshot
by the injected ``Clock``, so a slow update rate does not freeze the board) and the full
picture every ``refresh_interval_s``, as IMSA's feed refreshes. A client that connects
mid-session is sent the full picture and a ``$F`` before anything else, in one write.
Nothing here ever awaits a client: writes go to the transport's buffer, and a client
whose buffer holds more than ``max_buffer_bytes`` (it reads too slowly, or not at all) is
dropped on the spot, so one slow scoreboard can never hold up the others (keep the limit
well above the size of a full picture, about 200 bytes a competitor). What clients send
is read and ignored: RMonitor is one-way. A record that cannot be written (a time past
what the wire carries) is left out, logged and counted in ``unencodable``: the caller's
task (the race service's publisher) never sees an exception from the feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from timing_adapters.clock import Clock, WallClock

from . import DEFAULT_PORT
from .codec import encode
from .records import Record
from .snapshot import RMonitorSnapshot, changes, full_picture, heartbeat

__all__ = ["RMonitorServer"]

logger = logging.getLogger("racecontrol.rmonitor.server")


class _Client:
    def __init__(self, writer: asyncio.StreamWriter, max_buffer_bytes: int) -> None:
        self.writer = writer
        self.max_buffer_bytes = max_buffer_bytes
        self.closed = False

    def send(self, data: bytes) -> bool:
        """Queue ``data``; False (and the connection aborted) if the client is too far behind."""
        if self.closed:
            return False
        self.writer.write(data)
        if self.writer.transport.get_write_buffer_size() > self.max_buffer_bytes:
            self.close()
            return False
        return True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.writer.transport.abort()


class RMonitorServer:
    def __init__(
        self,
        *,
        host: str = "0.0.0.0",
        port: int = DEFAULT_PORT,
        clock: Clock | None = None,
        heartbeat_interval_s: float = 1.0,
        refresh_interval_s: float = 60.0,
        max_buffer_bytes: int = 256 * 1024,
    ) -> None:
        if heartbeat_interval_s <= 0 or refresh_interval_s <= 0 or max_buffer_bytes <= 0:
            raise ValueError("intervals and the buffer limit must be positive")
        self.host = host
        self.port = port
        self.clock: Clock = clock if clock is not None else WallClock()
        self.heartbeat_interval_s = heartbeat_interval_s
        self.refresh_interval_s = refresh_interval_s
        self.max_buffer_bytes = max_buffer_bytes
        self.dropped_clients = 0  # cut off for reading too slowly
        self.unencodable = 0  # records left out of the feed: a value the wire cannot carry
        self._snapshot: RMonitorSnapshot | None = None
        self._snapshot_at_us = 0
        self._server: asyncio.Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._clients: set[_Client] = set()
        self._handlers: set[asyncio.Task[object]] = set()
        self._client_added = asyncio.Event()

    @property
    def clients(self) -> int:
        return len(self._clients)

    @property
    def snapshot(self) -> RMonitorSnapshot | None:
        return self._snapshot

    async def start(self) -> int:
        """Listen; returns the port (useful with ``port=0``)."""
        if self._server is not None:
            raise RuntimeError("server already started")
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._ticker = asyncio.create_task(self._tick())
        logger.info("rmonitor output listening on %s:%d", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
        for client in list(self._clients):
            client.close()
        self._clients.clear()
        # Aborted connections end their handlers (the read sees EOF); cancelling them
        # instead would make asyncio's stream callback log their CancelledError.
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await server.wait_closed()

    async def run(self) -> None:
        """Serve until cancelled (for a TaskGroup in the app's lifespan)."""
        await self.start()
        try:
            await asyncio.Future()  # forever
        finally:
            await self.stop()

    async def wait_for_clients(self, n: int = 1, timeout: float = 5.0) -> None:
        """Return once ``n`` clients are connected; TimeoutError after ``timeout`` s."""
        async with asyncio.timeout(timeout):
            while self.clients < n:
                await self._client_added.wait()

    def update(self, snapshot: RMonitorSnapshot) -> None:
        """Publish ``snapshot``: clients get what changed since the previous one."""
        old = self._snapshot
        records = changes(old, snapshot)
        self._snapshot = snapshot
        self._snapshot_at_us = self.clock.now_us()
        if old is None or (old.flag, old.laps_to_go) != (snapshot.flag, snapshot.laps_to_go):
            records.append(self._heartbeat())  # a flag change should not wait for the tick
        self._broadcast(records)

    def _heartbeat(self) -> Record:
        assert self._snapshot is not None
        return heartbeat(self._snapshot, self.clock.now_us() - self._snapshot_at_us)

    def _picture(self) -> list[Record]:
        if self._snapshot is None:
            return []
        return [*full_picture(self._snapshot), self._heartbeat()]

    def _broadcast(self, records: list[Record]) -> None:
        if not records or not self._clients:
            return
        data = self._encode(records)
        for client in list(self._clients):
            self._send(client, data)

    def _encode(self, records: list[Record]) -> bytes:
        lines = []
        for record in records:
            try:
                lines.append(encode(record, errors="replace"))
            except ValueError as exc:
                self.unencodable += 1
                logger.error("rmonitor output: record left out (%s): %r", exc, record)
        return b"".join(lines)

    def _send(self, client: _Client, data: bytes) -> None:
        if not client.send(data):
            self._clients.discard(client)
            self.dropped_clients += 1
            logger.warning("rmonitor output: dropped a client that read too slowly")

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        next_refresh = loop.time() + self.refresh_interval_s
        while True:
            await asyncio.sleep(self.heartbeat_interval_s)
            if self._snapshot is None:
                continue
            if loop.time() >= next_refresh:
                next_refresh = loop.time() + self.refresh_interval_s
                self._broadcast(self._picture())
            else:
                self._broadcast([self._heartbeat()])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None:  # accepted while stopping
            writer.transport.abort()
            return
        task: asyncio.Task[object] | None = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        client = _Client(writer, self.max_buffer_bytes)
        # Picture and registration in one step: no update can slip in between.
        picture = self._picture()
        if picture:
            data = self._encode(picture)
            if not client.send(data):
                self.dropped_clients += 1
        if not client.closed:
            self._clients.add(client)
            self._client_added.set()
            self._client_added = asyncio.Event()
        try:
            with contextlib.suppress(OSError):
                while not client.closed and await reader.read(4096):
                    pass  # RMonitor is one-way; whatever a client says is ignored
        finally:
            client.close()
            self._clients.discard(client)
            if task is not None:
                self._handlers.discard(task)
