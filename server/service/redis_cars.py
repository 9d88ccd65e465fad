"""Car pages on edges: which cars edges' spectators watch, and their channels in Redis.

Strategy: an edge whose spectators watch car N keeps a key ``<prefix>:watch:car:N`` alive
(a short TTL, refreshed while watched) and adds N to the set ``<prefix>:watch:cars``.
The race service's ``CarRelay`` reads that set every ``POLL_S`` (one Lua call that also
drops the numbers whose key expired) and, for each watched car, listens to its hub
channel ``car:N`` like the relay listens to ``public``: the car channel is then rendered
with every public update (``server.web.car_page.watched_cars``) and its numbered
messages go to ``<prefix>:car:N:updates`` and ``<prefix>:car:N:snapshot``. A car newly
watched is rendered at once and its snapshot put in the stream, so an edge following
it gets a current panel even when nothing changed. It also writes the entered cars'
numbers (``<prefix>:cars``, a JSON list) so edges answer an unknown car at once. All of
it runs in its own task: timing never waits for Redis (the relay's buffer holds what it
writes).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from server.service.fanout import BadUpdate, parse
from server.service.hub import Hub
from server.service.redis_relay import RedisRelay, keep_trying, snapshot_key

log = logging.getLogger("racecontrol.redis")

WATCH_TTL_S = 10.0  # an edge's watch lives this long unless refreshed
POLL_S = 0.5  # the race service reads the watched set this often
CAR_CHANNEL = "car:"

# the live members of the watched set; the expired ones leave it (atomic: no refresh lost)
_LIVE_WATCHES = """
local live = {}
for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. n) == 1 then
    table.insert(live, n)
  else
    redis.call('SREM', KEYS[1], n)
  end
end
return live
"""


def watch_key(prefix: str, number: str) -> str:
    return f"{prefix}:watch:car:{number}"


def watch_set_key(prefix: str) -> str:
    return f"{prefix}:watch:cars"


def cars_key(prefix: str) -> str:
    return f"{prefix}:cars"


class CarRelay:
    """The race service's side (see the module's docstring)."""

    def __init__(
        self,
        relay: RedisRelay,
        hub: Hub,
        numbers: Callable[[], list[str]],
        render: Callable[[str], bool],
        poll_s: float = POLL_S,
    ) -> None:
        self.relay, self.hub, self.poll_s = relay, hub, poll_s
        self._numbers, self._render = numbers, render
        self._live = relay.redis.register_script(_LIVE_WATCHES)
        self.following: set[str] = set()
        self._cars_written: list[str] | None = None

    async def run(self) -> None:
        await keep_trying(self._round_then_wait, self.relay.url, "car watches", self._unwritten)

    async def _round_then_wait(self) -> None:
        await self.round()
        await asyncio.sleep(self.poll_s)

    def _unwritten(self) -> None:
        self._cars_written = None  # written again once Redis answers

    async def round(self) -> None:
        redis, prefix = self.relay.redis, self.relay.prefix
        cars = sorted(self._numbers())
        if cars != self._cars_written:
            await redis.set(cars_key(prefix), json.dumps(cars))
            self._cars_written = cars
        live: Any = await self._live(keys=[watch_set_key(prefix)], args=[f"{prefix}:watch:car:"])
        watched = {str(n) for n in live} & set(cars)  # no channel for what is no car
        for number in sorted(watched - self.following):
            await self._follow(number)
        for number in self.following - watched:
            self._leave(number)

    async def _follow(self, number: str) -> None:
        name = CAR_CHANNEL + number
        channel = self.hub.channel(name)
        stored: Any = await self.relay.redis.get(snapshot_key(self.relay.prefix, name))
        if stored is not None:
            try:  # continue the numbers edges and their browsers have
                channel.start_at(int(parse(stored)["seq"]))
            except (BadUpdate, ValueError, TypeError, KeyError):
                log.error("snapshot of %s in Redis not used", name)
        self.following.add(number)
        channel.listeners.append(self.relay.listen)
        if self._render(number):
            self.relay.push_snapshot(name)

    def _leave(self, number: str) -> None:
        self.following.discard(number)
        channel = self.hub.channel(CAR_CHANNEL + number)
        if self.relay.listen in channel.listeners:
            channel.listeners.remove(self.relay.listen)
