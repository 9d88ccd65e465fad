"""One render per change for everyone: the race service's output side.

Strategy: the writer marks channels dirty after each batch; ``run_publisher`` renders
each dirty channel at most once per ``interval_s`` and hands the same message to every
subscriber of it. A channel nobody watches is only marked stale and rendered when its
first viewer arrives (``refresh``). "public" carries the team channels with it (a team's
pit wall is public). The pages are the web layer's business: it hands over how to render
each channel and the heartbeat, so this package never imports server.web.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from server.service.fanout import View
from server.service.hub import Hub
from timing_adapters.clock import Clock

ALL_CHANNELS = frozenset({"public", "control", "pit", "stewards"})
# a team's pit wall, one channel per car watched ("team:7"): public, rendered with "public"
TEAM_CHANNEL = "team:"

# a channel's message is a whole render (str) or a View the hub turns into row-level updates
Renders = Callable[[frozenset[str]], dict[str, str | View]]
HeartbeatRender = Callable[[int], str]
# wait, at most that many seconds, until the input queued so far is applied
Settle = Callable[[float], Awaitable[None]]


class ChannelPublisher:
    def __init__(
        self,
        hub: Hub,
        clock: Clock,
        render: Renders,
        heartbeat: HeartbeatRender,
        interval_s: float,
        on_public: Callable[[], None],
        settle: Settle | None = None,
    ) -> None:
        self.hub = hub
        self.interval_s = interval_s
        self._clock = clock
        self._render_channels = render
        self._heartbeat = heartbeat
        self._on_public = on_public  # before "public" is rendered (the RMonitor feed)
        self._settle = settle
        self._dirty = asyncio.Event()
        self._dirty_channels: set[str] = set()
        self._stale: set[str] = set(ALL_CHANNELS)  # changed since rendered, nobody watching

    def mark_dirty(self, channels: frozenset[str] = ALL_CHANNELS) -> None:
        """Ask the publisher to re-render ``channels`` (coalesced)."""
        self._dirty_channels |= channels
        self._dirty.set()

    async def run_heartbeat(self, interval_s: float) -> None:
        """Lets browsers tell a quiet race from a dead connection."""
        while True:
            await asyncio.sleep(interval_s)
            now = self._clock.now_us()
            beat = self._heartbeat(now)
            for name in self._with_teams(ALL_CHANNELS):
                self.hub.channel(name).heartbeat(now, beat)

    async def run_publisher(self) -> None:
        """Render dirty channels, each at most once per ``interval_s``; a channel is
        never held back by another one's render (a decoder STATUS only concerns race
        control, and must not delay the spectators' next lap)."""
        loop = asyncio.get_running_loop()
        last: dict[str, float] = {}
        while True:
            await self._dirty.wait()
            now = loop.time()
            interval = self.interval_s
            due = {c for c in self._dirty_channels if now - last.get(c, -interval) >= interval}
            if due and self._settle is not None:
                # a burst's passings come in several batches: render once, after the last
                # (an isolated passing's batch is already applied: no wait)
                await self._settle(interval)
                now = loop.time()
                due = {c for c in self._dirty_channels if now - last.get(c, -interval) >= interval}
            if due:
                self._dirty_channels -= due
                self.publish(frozenset(due))
                last.update(dict.fromkeys(due, now))
            if not self._dirty_channels:
                self._dirty.clear()
                continue
            earliest = min(last.get(c, now) + interval for c in self._dirty_channels)
            await asyncio.sleep(max(0.0, earliest - loop.time()))

    def publish(self, channels: frozenset[str] = ALL_CHANNELS) -> None:
        """Render each channel once and hand the same string to all its subscribers.

        A channel nobody watches is not rendered, only marked stale; ``refresh`` renders
        it when its first viewer arrives.
        """
        channels = self._with_teams(channels)
        if "public" in channels:
            self._on_public()
        watched = frozenset(c for c in channels if self.hub.channel(c).watched)
        self._stale |= channels - watched
        self._render(watched)

    def refresh(self, channel: str) -> None:
        """Bring a stale (or never rendered) channel's snapshot up to date (before a
        viewer subscribes)."""
        if channel in self._stale or not self.hub.channel(channel).snapshot:
            self._render(frozenset({channel}))

    def _with_teams(self, channels: frozenset[str]) -> frozenset[str]:
        """``channels`` and, with "public", the team channels (what spectators see)."""
        if "public" not in channels:
            return channels
        return channels | {name for name in self.hub.channels if name.startswith(TEAM_CHANNEL)}

    def _render(self, channels: frozenset[str]) -> None:
        self._stale -= channels
        for name, message in self._render_channels(channels).items():
            if isinstance(message, View):
                self.hub.channel(name).publish_view(message)
            else:
                self.hub.channel(name).publish(message)
