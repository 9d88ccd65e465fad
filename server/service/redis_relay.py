"""Spectators served by edges: the race service's public updates through Redis.

Strategy: with ``racecontrol serve --redis URL``, a relay listens to the hub's public
channel and writes, in order, every message a spectator would get to a Redis Stream
(``<prefix>:<channel>:updates``, field ``m``, trimmed to about ``STREAM_MAXLEN``
entries) and the channel's latest snapshot to a key (``<prefix>:<channel>:snapshot``),
both in one MULTI transaction, so a reader that takes the stream's last id and then the
snapshot never misses an update. ``racecontrol edge`` processes (``RedisMirror``) read
them and serve spectators; they never touch the database. Writing never blocks timing:
the publisher only appends to a bounded buffer; while Redis is away the buffer keeps the
newest ``BUFFER_MAX`` messages (an edge that then sees a gap in the numbers reloads the
snapshot key, which is written again first thing after a reconnect). At start, the relay
continues the numbering from the snapshot in Redis, so edges and browsers follow a
restarted race service without a reload.

``RedisMirror`` is the edge's side: it takes the last stream id and the snapshot, then
reads the stream from that id (``XREAD BLOCK``), applies each update to its own hub
channel and forwards its text. After a lost connection it resumes from the last id it
read; a gap in the numbers (updates trimmed meanwhile, a buffer overflow) reloads the
snapshot. While Redis is away it sends nothing, not even heartbeats, so browsers show the
stale badge.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.service.fanout import BadUpdate, parse
from server.service.hub import Hub

log = logging.getLogger("racecontrol.redis")

STREAM_MAXLEN = 2000  # updates kept for edges that reconnect (approximate trim)
BUFFER_MAX = 5000  # messages held while Redis is away (the oldest go first)
RETRY_S = (0.1, 0.2, 0.5, 1.0, 2.0)  # back-off between reconnection attempts
PUBLIC_CHANNELS = ("public",)


def snapshot_key(prefix: str, channel: str) -> str:
    return f"{prefix}:{channel}:snapshot"


def stream_key(prefix: str, channel: str) -> str:
    return f"{prefix}:{channel}:updates"


def connect(url: str, name: str) -> Redis:
    """A client whose connections say who they are (``CLIENT LIST``)."""
    client: Redis = Redis.from_url(
        url, client_name=name, socket_connect_timeout=2.0, decode_responses=True
    )
    return client


async def keep_trying(
    step: Callable[[], Awaitable[None]],
    url: str,
    what: str,
    on_failure: Callable[[], None] | None = None,
) -> None:
    """Run ``step`` for ever; while Redis is away, again after a growing back-off (said
    once per outage, as "<what> retried")."""
    failures = 0
    while True:
        try:
            await step()
            failures = 0
        except (RedisError, OSError) as exc:
            if failures == 0:
                log.warning("Redis at %s: %s; %s retried", url, exc, what)
            if on_failure is not None:
                on_failure()
            await asyncio.sleep(RETRY_S[min(failures, len(RETRY_S) - 1)])
            failures += 1


class RedisRelay:
    """Writes the hub's public channels to Redis (see the module's docstring)."""

    def __init__(self, url: str, prefix: str, hub: Hub) -> None:
        self.url, self.prefix, self._hub = url, prefix, hub
        self.redis = connect(url, f"{prefix}:relay")
        self._buffer: deque[tuple[str, str]] = deque(maxlen=BUFFER_MAX)
        self._wake = asyncio.Event()
        self.written = 0
        self.overflowed = 0  # messages dropped from a full buffer
        self.connected = False

    async def start(self) -> None:
        """Listen to the public channels, numbering after what Redis already has."""
        for name in PUBLIC_CHANNELS:
            channel = self._hub.channel(name)
            try:
                stored: Any = await self.redis.get(snapshot_key(self.prefix, name))
                if stored is not None:
                    channel.start_at(int(parse(stored)["seq"]))
                self.connected = True
            except (RedisError, OSError, BadUpdate, ValueError) as exc:
                log.warning("Redis at %s: %s; updates are written once it answers", self.url, exc)
            channel.listeners.append(self.listen)

    def push_snapshot(self, channel: str) -> None:
        """Put the channel's snapshot in its stream (and key): its followers get it."""
        snapshot = self._hub.channel(channel).snapshot
        if snapshot:
            self.listen(channel, snapshot, True)

    def listen(self, channel: str, message: str, update: bool) -> None:
        """A channel's listener: the message is written in order, soon."""
        if len(self._buffer) == self._buffer.maxlen:
            self.overflowed += 1
        self._buffer.append((channel, message))
        self._wake.set()

    async def run(self) -> None:
        """Write what the channels sent, in order; retry (forever) while Redis is away."""
        failures = 0
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._buffer:
                batch = list(self._buffer)
                try:
                    await self._write(batch)
                except (RedisError, OSError) as exc:
                    if self.connected or failures == 0:
                        log.warning("Redis at %s: %s; retrying", self.url, exc)
                    self.connected = False
                    await asyncio.sleep(RETRY_S[min(failures, len(RETRY_S) - 1)])
                    failures += 1
                    continue
                if not self.connected:
                    log.info("Redis at %s: writing again", self.url)
                self.connected, failures = True, 0
                for _ in batch:
                    if self._buffer:
                        self._buffer.popleft()
                self.written += len(batch)

    async def _write(self, batch: list[tuple[str, str]]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for channel, message in batch:
                pipe.xadd(
                    stream_key(self.prefix, channel),
                    {"m": message},
                    maxlen=STREAM_MAXLEN,
                    approximate=True,
                )
            for channel in {c for c, _m in batch}:
                snapshot = self._hub.channel(channel).snapshot
                if snapshot:
                    pipe.set(snapshot_key(self.prefix, channel), snapshot)
            await pipe.execute()

    async def close(self) -> None:
        await self.redis.aclose()


class RedisMirror:
    """An edge's copy of a public channel, fed from Redis (see the module's docstring)."""

    def __init__(self, url: str, prefix: str, hub: Hub, channel: str = "public") -> None:
        self.url, self.prefix = url, prefix
        self.channel = hub.channel(channel)
        self._snapshot_key = snapshot_key(prefix, channel)
        self._stream_key = stream_key(prefix, channel)
        self.redis = connect(url, f"{prefix}:edge")
        self.last_id: str | None = None
        self.connected = False
        self.reloads = 0  # snapshots loaded (start, gaps)
        self.failures = 0  # connection attempts or reads that failed in a row
        self.rejected = 0  # stream entries that were not updates (logged)

    async def run(self) -> None:
        while True:
            try:
                if self.last_id is None:
                    await self._load()
                await self._follow()
            except (RedisError, OSError) as exc:
                if self.connected or self.failures == 0:
                    log.warning("Redis at %s: %s; reconnecting", self.url, exc)
                self.connected = False
                await asyncio.sleep(RETRY_S[min(self.failures, len(RETRY_S) - 1)])
                self.failures += 1

    async def _load(self) -> None:
        """The stream's last id, then the snapshot: nothing after it is missed."""
        last: Any = await self.redis.xrevrange(self._stream_key, count=1)
        stored: Any = await self.redis.get(self._snapshot_key)
        self.last_id = str(last[0][0]) if last else "0-0"
        self.connected = True
        self.reloads += 1
        if stored is not None:
            try:
                self.channel.forward(parse(stored), stored)
            except BadUpdate as exc:
                self.rejected += 1
                log.error("snapshot in Redis key %s not used: %s", self._snapshot_key, exc)

    async def _follow(self) -> None:
        while True:
            assert self.last_id is not None
            answer: Any = await self.redis.xread(
                {self._stream_key: self.last_id}, count=500, block=1000
            )
            if not self.connected:
                log.info("Redis at %s: following again from %s", self.url, self.last_id)
            self.connected, self.failures = True, 0
            for _stream, entries in answer or ():
                for entry_id, fields in entries:
                    self.last_id = str(entry_id)
                    if not await self._take(str(fields.get("m", ""))):
                        await self._load()  # a gap: start again from the snapshot
                        break

    async def _take(self, text: str) -> bool:
        """Apply one stream entry; False if the numbers jumped (a snapshot is needed)."""
        try:
            message = parse(text)
            seq = int(message["seq"])
        except (BadUpdate, ValueError, TypeError) as exc:
            self.rejected += 1
            log.error("stream entry %s skipped: %s", self.last_id, exc)
            return True
        view = self.channel.view
        current = 0 if view is None else view.seq
        if message.get("snap") or message.get("hb"):
            if message.get("hb") and seq > current:
                return False  # an update we never saw
            self.channel.forward(message, text)
            return True
        if seq <= current:
            return True  # already in the snapshot
        if seq != current + 1 or view is None or view.empty:
            return False
        try:
            self.channel.forward(message, text)
        except BadUpdate as exc:
            self.rejected += 1
            log.error("update %d does not fit (%s): reloading the snapshot", seq, exc)
            return False
        return True

    async def close(self) -> None:
        await self.redis.aclose()
