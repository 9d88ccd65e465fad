"""Car states: what a passing does to a car's state, and when a silent car is STOPPED.

Strategy: one table from loop role to the state a passing puts a started car in (pit
loops never count laps); NOT_STARTED changes only at the first start/finish crossing
and FINISHED never changes. STOPPED is an overlay, not a passing state: every tick
recomputes it from the car's last passing and ``now`` (both ways), and the next passing
clears it, so the state shown after a tick never depends on earlier ticks.
"""

from __future__ import annotations

from server.engine.events import LoopRole
from server.engine.laps import CarTiming
from server.engine.model import CarState

_AFTER_LOOP: dict[LoopRole, CarState] = {
    LoopRole.START_FINISH: CarState.RUN,
    LoopRole.PIT_IN: CarState.PIT,
    LoopRole.PIT_OUT: CarState.OUT,
}

# states of a car on track, which may be found stopped
RUNNING = frozenset({CarState.RUN, CarState.OUT})


def state_after_passing(state: CarState, loop: LoopRole) -> CarState:
    if state is CarState.FINISHED:
        return state
    if state is CarState.NOT_STARTED:
        return CarState.RUN if loop is LoopRole.START_FINISH else state
    # a sector loop only proves that the car moves (which clears STOPPED)
    return _AFTER_LOOP.get(loop, state)


def is_stopped(car: CarTiming, now_us: int, leader_best_us: int | None, factor: float) -> bool:
    """Silent for more than ``factor`` x its best lap (or the leader's, with no lap yet)."""
    if car.state not in RUNNING or car.last_seen_us is None:
        return False
    lap_us = car.best_lap_us if car.best_lap_us is not None else leader_best_us
    if lap_us is None:
        return False
    return now_us - car.last_seen_us > lap_us * factor
