"""One client of the emulated decoder: an outgoing queue and the task that empties it.

Strategy: the emulator never awaits a client. ``send`` only queues bytes; a per-client pump
task writes them and waits for the socket to drain, with a timeout. A client whose queue
overflows, whose drain times out or whose socket errors is closed and forgotten, so one slow
or dead client can never hold up playback to the others. Closing aborts the transport, the
way a killed decoder vanishes, rather than flushing what is still queued.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class ClientConnection:
    def __init__(
        self,
        writer: asyncio.StreamWriter,
        *,
        send_timeout_s: float,
        max_pending: int,
        on_close: Callable[[ClientConnection], None],
    ) -> None:
        self._writer = writer
        self._send_timeout_s = send_timeout_s
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(max_pending)
        self._on_close = on_close
        self.closed = False
        self.pump = asyncio.create_task(self._pump())

    def send(self, data: bytes) -> None:
        """Queue ``data``; a client too far behind is dropped instead of buffered forever."""
        if self.closed:
            return
        try:
            self._queue.put_nowait(data)
        except asyncio.QueueFull:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.pump.cancel()
        self._writer.transport.abort()
        self._on_close(self)

    async def _pump(self) -> None:
        try:
            while True:
                chunks = [await self._queue.get()]
                while not self._queue.empty():  # batch what piled up: one write, one drain
                    chunks.append(self._queue.get_nowait())
                self._writer.write(b"".join(chunks))
                async with asyncio.timeout(self._send_timeout_s):
                    await self._writer.drain()
        except (OSError, TimeoutError):
            self.close()
