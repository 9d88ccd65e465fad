"""Fan-out of rendered updates to websocket subscribers.

Strategy: the single writer renders each update once per channel and hands the same
string to every subscriber. Each subscriber has a small bounded queue; a client that
cannot keep up never slows the others: when its queue is full, its backlog is dropped
and replaced by the channel's latest full snapshot (every snapshot is self-sufficient,
so nothing is lost but stale intermediate states). New subscribers get the snapshot
first, then deltas.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Subscriber:
    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize)
        self.dropped = 0  # backlogs replaced by a snapshot

    def offer(self, message: str, snapshot: str) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(snapshot)

    async def get(self) -> str:
        return await self.queue.get()


class Channel:
    def __init__(self, name: str, maxsize: int) -> None:
        self.name = name
        self.snapshot = ""
        self.subscribers: set[Subscriber] = set()
        self.published = 0
        self._maxsize = maxsize

    def publish(self, message: str, *, snapshot: bool = True) -> None:
        """Send ``message`` to every subscriber; a full render also becomes the snapshot."""
        if snapshot:
            self.snapshot = message
        self.published += 1
        for sub in self.subscribers:
            sub.offer(message, self.snapshot)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscriber]:
        sub = Subscriber(self._maxsize)
        if self.snapshot:
            sub.queue.put_nowait(self.snapshot)
        self.subscribers.add(sub)
        try:
            yield sub
        finally:
            self.subscribers.discard(sub)


class Hub:
    """Named channels: ``public`` (spectators) and ``control`` (race control)."""

    def __init__(self, maxsize: int = 8) -> None:
        self._maxsize = maxsize
        self.channels: dict[str, Channel] = {}

    def channel(self, name: str) -> Channel:
        if name not in self.channels:
            self.channels[name] = Channel(name, self._maxsize)
        return self.channels[name]
