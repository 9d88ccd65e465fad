"""Full garbage collections made short: what survived one is frozen, and swept rarely.

Strategy: a full (generation 2) collection walks every container object the process holds,
and the event loop stands still meanwhile: with 2,000 spectators connected it took 200-250 ms
on the race service, every ~10 s, and stalled every socket's update (it set the p99 of the
fan-out, bench/README.md). What survives a full collection is long-lived (the engine's state,
the spectators' connections), so ``GcKeeper`` freezes it (``gc.freeze``): the next full
collection walks only what came after. Objects frozen are still freed by their reference
count; only a reference cycle among them that becomes garbage later (a spectator gone) waits
for the sweep, which every ``sweep_s`` unfreezes everything, collects it whole and freezes
again: one such pause per sweep (15 minutes) instead of one every few seconds.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger("racecontrol.gc")

SWEEP_S = 900.0


class GcKeeper:
    """Freezes the survivors of each full collection (from ``gc.callbacks``, right after it,
    when nothing young is among them) and sweeps every ``sweep_s`` (``run``)."""

    def __init__(self, sweep_s: float = SWEEP_S) -> None:
        self.sweep_s = sweep_s
        self.freezes = 0  # full collections whose survivors were frozen
        self.sweeps = 0
        self.last_sweep_ms = 0.0  # how long the last sweep held the loop

    def _after_collection(self, phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            gc.freeze()
            self.freezes += 1

    def sweep(self) -> None:
        """Collect everything, the frozen objects included, and freeze the survivors."""
        started = time.perf_counter()
        gc.unfreeze()
        gc.collect()  # its survivors are frozen by the callback, if installed
        gc.freeze()
        self.sweeps += 1
        self.last_sweep_ms = (time.perf_counter() - started) * 1000
        frozen = gc.get_freeze_count()
        log.info("garbage sweep: %.0f ms, %d objects frozen", self.last_sweep_ms, frozen)

    async def run(self) -> None:
        """Freeze after each full collection and sweep every ``sweep_s``, until cancelled."""
        gc.callbacks.append(self._after_collection)
        try:
            while True:
                await asyncio.sleep(self.sweep_s)
                self.sweep()
        finally:
            gc.callbacks.remove(self._after_collection)
