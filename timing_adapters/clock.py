"""Clocks in integer microseconds, shared by the emulator and the server.

Strategy: nothing that parses or decides reads a clock; the I/O layer does, through
one of these. ``ScaledClock`` runs ``speed`` times faster than the wall, so the demo's
emulator and server agree on a sped-up race time base (and the browser is told the rate).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    rate: float

    def now_us(self) -> int: ...


class WallClock:
    rate = 1.0

    def now_us(self) -> int:
        return time.time_ns() // 1000


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
