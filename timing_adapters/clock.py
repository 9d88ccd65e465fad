"""Clocks in integer microseconds, shared by the emulator and the server.

Strategy: nothing that parses or decides reads a clock; the I/O layer does, through
one of these. ``ScaledClock`` runs ``speed`` times faster than the wall, so the demo's
emulator and server agree on a sped-up race time base (and the browser is told the rate).
Code that waits for a moment of race time awaits ``sleep_until`` on its clock, never a
wall-clock delay it computed, so ``ManualClock`` (tests) can move time by hand and wake
exactly the waiters whose moment has come.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    rate: float  # clock seconds per wall second (what the browser ticks at)

    def now_us(self) -> int: ...

    async def sleep_until(self, at_us: int) -> None:
        """Return at ``at_us`` of this clock (at once if it has passed)."""
        ...


class WallClock:
    rate = 1.0

    def now_us(self) -> int:
        return time.time_ns() // 1000

    async def sleep_until(self, at_us: int) -> None:
        delay_us = at_us - self.now_us()
        if delay_us > 0:
            await asyncio.sleep(delay_us / 1e6)


class ScaledClock:
    """Wall time since ``origin_us`` multiplied by ``speed``."""

    def __init__(self, speed: float, origin_us: int | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.rate = float(speed)
        self._origin_us = time.time_ns() // 1000 if origin_us is None else origin_us
        self._mono0 = time.monotonic_ns()

    def now_us(self) -> int:
        elapsed_ns = time.monotonic_ns() - self._mono0
        return self._origin_us + int(elapsed_ns * self.rate) // 1000

    async def sleep_until(self, at_us: int) -> None:
        delay_us = at_us - self.now_us()
        if delay_us > 0:
            await asyncio.sleep(delay_us / self.rate / 1e6)


class ManualClock:
    """Time that moves only when told to (tests): ``advance_to`` wakes every sleeper whose
    moment has come, earliest first (then in the order they went to sleep).

    ``rate`` is nominal: between two messages a browser ticks its clocks at 1x.
    """

    rate = 1.0

    def __init__(self, start_us: int) -> None:
        self._now_us = start_us
        self._order = itertools.count()  # ties wake in the order they went to sleep
        self._sleepers: list[tuple[int, int, asyncio.Future[None]]] = []  # a heap

    def now_us(self) -> int:
        return self._now_us

    @property
    def sleepers(self) -> int:
        """How many tasks wait for a later moment (cancelled waits excluded)."""
        return sum(not future.done() for _at, _n, future in self._sleepers)

    def advance(self, delta_us: int) -> None:
        self.advance_to(self._now_us + delta_us)

    def advance_to(self, at_us: int) -> None:
        if at_us < self._now_us:
            raise ValueError(f"time does not go back: {at_us} < {self._now_us}")
        self._now_us = at_us
        while self._sleepers and self._sleepers[0][0] <= at_us:
            _at, _n, future = heapq.heappop(self._sleepers)
            if not future.done():  # a cancelled sleeper is simply dropped
                future.set_result(None)

    async def sleep_until(self, at_us: int) -> None:
        if at_us <= self._now_us:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (at_us, next(self._order), future))
        await future
