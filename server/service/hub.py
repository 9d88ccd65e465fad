"""Fan-out of rendered updates to websocket subscribers.

Strategy: the single writer renders each update once per channel and hands the same
string to every subscriber. Each subscriber has a small bounded queue; a client that
cannot keep up never slows the others: when its queue is full, its backlog is dropped
and replaced by the channel's latest full snapshot (every snapshot is self-sufficient,
so nothing is lost but stale intermediate states). New subscribers get the snapshot
first, then updates.

A channel carries either whole renders (``publish``: each message is every block of the
page, htmx swaps them) or row-level updates (``publish_view``: ``server.service.fanout``
turns each render into what changed since the last one, numbered; a client that sees a
gap in the numbers asks for a snapshot, ``resync``). Listeners (the Redis relay) get
every message a subscriber would get, in order. An edge's channel is fed with the
messages of the race service's channel (``forward``) and serves the same snapshots.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from server.service.fanout import View, ViewState

log = logging.getLogger("racecontrol.hub")

# (channel name, message, True for an update or snapshot / False for a heartbeat)
Listener = Callable[[str, str, bool], None]
# heartbeats a busy channel leaves out in a row: its updates say "alive" and carry the server
# time too; one still goes out every few (a heartbeat's time is the browser clock's exact
# anchor, an update's only moves it forward)
HEARTBEATS_SKIPPED = 4


class Mailbox:
    """A subscriber's bounded queue of messages: what ``asyncio.Queue`` does here, in a
    list and one future. An edge holds one per spectator, and a Queue's four deques and
    its event cost ~2.5 KB each (bench/README.md, "memory per client")."""

    __slots__ = ("_items", "_maxsize", "_waiter")

    def __init__(self, maxsize: int) -> None:
        self._items: list[str] = []  # shared strings: every subscriber holds the same ones
        self._maxsize = maxsize
        self._waiter: asyncio.Future[None] | None = None

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, message: str) -> None:
        if len(self._items) >= self._maxsize:
            raise asyncio.QueueFull
        self._items.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def get_nowait(self) -> str:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.pop(0)

    async def get(self) -> str:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class Subscriber:
    __slots__ = ("dropped", "queue", "resynced_at")

    def __init__(self, maxsize: int) -> None:
        self.queue = Mailbox(maxsize)
        self.dropped = 0  # backlogs replaced by a snapshot
        self.resynced_at: int | None = None  # the seq of the last snapshot asked for

    def offer(self, message: str, snapshot: str | Callable[[], str]) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1
            self.reset(snapshot if isinstance(snapshot, str) else snapshot())

    def reset(self, snapshot: str) -> None:
        """Drop the backlog; the snapshot comes next."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(snapshot)

    async def get(self) -> str:
        return await self.queue.get()


class Channel:
    def __init__(self, name: str, maxsize: int) -> None:
        self.name = name
        self._snapshot = ""
        self.view: ViewState | None = None  # row-level updates (publish_view / forward)
        self.subscribers: set[Subscriber] = set()
        self.listeners: list[Listener] = []
        self.published = 0
        self.resyncs = 0  # snapshots clients asked for (they saw a gap)
        self._maxsize = maxsize
        self._sent_since_beat = False  # an update went out since the last heartbeat tick
        self._beats_skipped = 0

    @property
    def watched(self) -> bool:
        return bool(self.subscribers or self.listeners)

    @property
    def snapshot(self) -> str:
        """What a new subscriber gets first ("" before the first render)."""
        if self.view is not None:
            return "" if self.view.empty else self.view.snapshot()
        return self._snapshot

    @property
    def seq(self) -> int:
        return 0 if self.view is None else self.view.seq

    def _send(self, message: str, update: bool) -> None:
        self.published += 1
        self._sent_since_beat = self._sent_since_beat or update
        snapshot = self.view.snapshot if self.view is not None else self._snapshot
        for sub in self.subscribers:
            sub.offer(message, snapshot)
        for listener in self.listeners:
            listener(self.name, message, update)

    def publish(self, message: str, *, snapshot: bool = True) -> None:
        """Send ``message`` to every subscriber; a full render also becomes the snapshot."""
        if snapshot:
            self._snapshot = message
        self._send(message, snapshot)

    def publish_view(self, view: View) -> None:
        """Send what changed since the last view (nothing if nothing did)."""
        if self.view is None:
            self.view = ViewState()
        message = self.view.update(view)
        if message is not None:
            self._send(message, True)

    def start_at(self, seq: int) -> None:
        """Number this channel's updates after ``seq`` (a restarted publisher continues)."""
        if self.view is None:
            self.view = ViewState()
        self.view.seq = max(self.view.seq, seq)

    def heartbeat(self, now_us: int, html: str) -> None:
        """The heartbeat: ``html`` on a channel of whole renders, the last seq on the others.
        Left out while updates flow (``HEARTBEATS_SKIPPED`` in a row at most): at 5 crossings
        a second it was one message in 11 to every spectator."""
        if self._sent_since_beat and self._beats_skipped < HEARTBEATS_SKIPPED:
            self._sent_since_beat = False
            self._beats_skipped += 1
            return
        self._sent_since_beat = False
        self._beats_skipped = 0
        if self.view is None:
            self.publish(html, snapshot=False)
        else:
            self._send(self.view.heartbeat(now_us), False)

    def forward(self, message: dict[str, Any], text: str) -> None:
        """An edge: apply a (parsed) update or snapshot of the race service and pass on its
        text. Raises ``BadUpdate`` if it does not fit (the caller fetches a snapshot)."""
        if self.view is None:
            self.view = ViewState()
        if message.get("hb"):
            self._send(text, False)  # the race service already left out the redundant ones
            return
        self.view.apply(message)
        self._send(text, True)

    def resync(self, sub: Subscriber) -> None:
        """A client saw a gap: the snapshot replaces its backlog (once per seq)."""
        if self.view is None or self.view.empty or sub.resynced_at == self.view.seq:
            return
        sub.resynced_at = self.view.seq
        self.resyncs += 1
        sub.reset(self.view.snapshot())

    @property
    def maxsize(self) -> int:
        """The bound of each subscriber's mailbox."""
        return self._maxsize

    @asynccontextmanager
    async def subscribe(self, subscriber: Subscriber | None = None) -> AsyncIterator[Subscriber]:
        """A new subscriber (or ``subscriber``, one made with ``maxsize``): the snapshot
        first, then every update, until the context ends."""
        sub = Subscriber(self._maxsize) if subscriber is None else subscriber
        snapshot = self.snapshot
        if snapshot:
            sub.offer(snapshot, snapshot)
        self.subscribers.add(sub)
        try:
            yield sub
        finally:
            self.subscribers.discard(sub)


class Hub:
    """Named channels: ``public`` (spectators), ``control`` (race control), ``pit``."""

    def __init__(self, maxsize: int = 8) -> None:
        self._maxsize = maxsize
        self.channels: dict[str, Channel] = {}

    def channel(self, name: str) -> Channel:
        if name not in self.channels:
            self.channels[name] = Channel(name, self._maxsize)
        return self.channels[name]
