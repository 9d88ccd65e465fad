"""Car pages on an edge: ``/live/cars/{number}`` and watch messages on ``/ws/live``.

Strategy: while a spectator of this edge watches car N (or its page was just served),
``EdgeCars`` keeps N's watch alive in Redis (``server.service.redis_cars``: the race
service then renders the car's channel and writes it to Redis) and follows the car
channel with a ``RedisMirror`` of its own, into this edge's hub channel ``car:N``. The
spectators' watches (``EdgeCarWatch``) subscribe to it exactly as on the race service
(``server.web.car_watch``: the same marked messages, ``{"car": "N", "none": 1}`` for a
car that is not entered). Nobody watching: the mirror stops and the key expires after
its TTL, so the race service stops rendering the car. The page is the edge's live page
with the panel's blocks taken from the car channel's snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from markupsafe import escape

from server.service.fanout import BadUpdate, parse
from server.service.hub import Channel, Hub, Subscriber
from server.service.redis_cars import WATCH_TTL_S, cars_key, watch_key, watch_set_key
from server.service.redis_relay import RedisMirror, connect, keep_trying
from server.service.supervisor import cancel_all
from server.web.car_page import CAR_BLOCKS, CAR_TEMPLATE, channel_name
from server.web.car_watch import Forward, Watch
from server.web.live_render import block_of
from server.web.rendering import Renderer

log = logging.getLogger("racecontrol.edge")
PAGE_WAIT_S = 3.0  # a car page waits this long (at most) for a current panel
PANEL_TAG = '<dialog id="cp-panel" class="car-panel" aria-labelledby="cp-title">'
LOADING_TAG = '<span class="cp-loading" data-car-loading>'


class CarMirror(RedisMirror):
    """A car channel's mirror that tells when a snapshot came through the stream."""

    def __init__(self, url: str, prefix: str, hub: Hub, number: str) -> None:
        super().__init__(url, prefix, hub, channel_name(number))
        self.streamed = asyncio.Event()  # the race service rendered it for us

    async def _take(self, text: str) -> bool:
        taken = await super()._take(text)
        with contextlib.suppress(BadUpdate):
            if taken and parse(text).get("snap"):
                self.streamed.set()
        return taken


class EdgeCars:
    """The car channels this edge follows (see the module's docstring)."""

    def __init__(self, url: str, prefix: str, hub: Hub, ttl_s: float = WATCH_TTL_S) -> None:
        self.url, self.prefix, self.hub, self.ttl_s = url, prefix, hub, ttl_s
        self.redis = connect(url, f"{prefix}:edge-cars")
        self.cars: frozenset[str] | None = None  # the entered cars (None: not read yet)
        self.mirrors: dict[str, tuple[CarMirror, asyncio.Task[None]]] = {}
        self._hold: dict[str, float] = {}  # a served page keeps its car followed until then
        self._wake = asyncio.Event()

    def follow(self, number: str) -> CarMirror:
        """Follow car ``number`` (its watch is written to Redis at once)."""
        if number not in self.mirrors:
            mirror = CarMirror(self.url, self.prefix, self.hub, number)
            task = asyncio.create_task(mirror.run(), name=f"car {number} mirror")
            self.mirrors[number] = (mirror, task)
            self._wake.set()
        return self.mirrors[number][0]

    def hold(self, number: str) -> None:
        self._hold[number] = asyncio.get_running_loop().time() + self.ttl_s

    async def run(self) -> None:
        """Refresh the watches (every third of the TTL, and at once on a new one)."""
        await keep_trying(self._round_then_wait, self.url, "car watches")

    async def _round_then_wait(self) -> None:
        await self.round()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.ttl_s / 3)
        self._wake.clear()

    async def round(self) -> None:
        now = asyncio.get_running_loop().time()
        for number in list(self.mirrors):
            watched = self.hub.channel(channel_name(number)).subscribers
            if not watched and self._hold.get(number, 0.0) <= now:
                await self._stop(number)
        await self.known()
        if self.mirrors:
            async with self.redis.pipeline(transaction=False) as pipe:
                for number in self.mirrors:
                    pipe.set(watch_key(self.prefix, number), "1", px=int(self.ttl_s * 1000))
                pipe.sadd(watch_set_key(self.prefix), *self.mirrors)
                await pipe.execute()

    async def known(self) -> frozenset[str]:
        """The entered cars' numbers, as the race service last wrote them."""
        stored: Any = await self.redis.get(cars_key(self.prefix))
        self.cars = frozenset(json.loads(stored)) if stored else frozenset()
        return self.cars

    async def _stop(self, number: str) -> None:
        mirror, task = self.mirrors.pop(number)
        self._hold.pop(number, None)
        await cancel_all((task,))
        await mirror.close()

    async def current(self, number: str) -> Channel:
        """Car ``number``'s channel once it holds a current render (bounded wait)."""
        mirror = self.follow(number)
        self.hold(number)
        key = watch_key(self.prefix, number)
        watched: Any = await self.redis.set(key, "1", px=int(self.ttl_s * 1000), get=True)
        await self.redis.sadd(watch_set_key(self.prefix), number)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PAGE_WAIT_S):
                if watched is None:  # nobody watched it: the race service renders it now
                    await mirror.streamed.wait()
                while not mirror.channel.snapshot:  # noqa: ASYNC110 - fed by the mirror
                    await asyncio.sleep(0.05)
        return mirror.channel

    async def close(self) -> None:
        for number in list(self.mirrors):
            await self._stop(number)
        await self.redis.aclose()


class EdgeCarWatch(Watch):
    """A spectator's watch on an edge's ``/ws/live``: the edge's mirror of the car channel."""

    def __init__(self, cars: EdgeCars, public: Channel, target: Subscriber) -> None:
        super().__init__(public, target)
        self.edge_cars = cars

    def _watch(self, number: str) -> None:
        forward = Forward(number, self.target, self.public)
        known = self.edge_cars.cars
        if known is not None and number not in known:
            self._none(forward)
            return
        self._follow(self.edge_cars.follow(number).channel, forward)


def edge_car_page(renderer: Renderer, page: str, context: dict[str, Any], car: Channel) -> str:
    """The edge's live ``page`` with car ``car``'s panel open, its blocks from the car
    channel's snapshot (the panel stays 'Loading…' without one; car.js fills it)."""
    number = car.name.removeprefix("car:")
    blocks = {} if car.view is None or car.view.empty else car.view.page_blocks()
    panel = {**context, "car": None}
    for name in CAR_BLOCKS:
        empty = renderer.fragments(CAR_TEMPLATE, (name,), panel)
        html = blocks.get(block_of(empty).id)
        if html is not None:
            page = page.replace(empty, html, 1)
    opened = PANEL_TAG[:-1] + f' open data-car="{escape(number)}">'
    page = page.replace(PANEL_TAG, opened, 1)
    if blocks:
        page = page.replace(LOADING_TAG, LOADING_TAG[:-1] + " hidden>", 1)
    return page
