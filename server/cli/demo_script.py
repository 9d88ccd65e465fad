"""The demo's script: what the loops see and what race control and the pit marshal do.

Strategy: ``build_plan`` is pure: from a generated scenario it derives every pit-loop
passing (each stop's pit-in and pit-out offsets), the pit marshal's confirmations (the
scenario's ``driver_in`` between pit-in and pit-out, or the solo driver's exit), a car
that skips its mandatory stop (its pit-loop passings and confirmations are left out, so
the engine sees no stop), a full-course yellow, race-control messages, retirements, and
the session's rule set (a stint limit that the long stints run into, so the 15- and
5-minute warnings fire). Two tasks then play it against a shared clock: ``play_passings``
pushes each passing into its loop's emulator stamped with the exact scripted decoder time,
and ``run_script`` submits each race-control input when the clock reaches it, stamped with
its scripted time, so a test can predict every stop duration and flagged lap exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from server.db.track import LoopConfig
from server.engine.events import (
    CarRetired,
    DriverChangeConfirmed,
    Flag,
    FlagChanged,
    InputEvent,
    LoopRole,
    RaceControlMessagePosted,
    SoloExitConfirmed,
)
from timing_adapters.clock import Clock
from timing_adapters.emulator.scenario import Scenario
from timing_adapters.emulator.server import P3Emulator

S = 1_000_000
MINUTE = 60 * S
START_FINISH, PIT_IN, PIT_OUT = 1001, 1004, 1005  # P3 decoder ids of the three loops
TRACK = (
    LoopConfig(str(START_FINISH), LoopRole.START_FINISH, name="start/finish"),
    LoopConfig(str(PIT_IN), LoopRole.PIT_IN, name="pit in"),
    LoopConfig(str(PIT_OUT), LoopRole.PIT_OUT, name="pit out"),
)
MARSHAL = "pit marshal (demo)"
RACE_CONTROL = "race control (demo)"


@dataclass(frozen=True, slots=True)
class Scripted:
    """A race-control or pit-marshal input, ``offset_us`` after the green flag."""

    offset_us: int
    make: Callable[[int], InputEvent]  # the event, given its session time


@dataclass(frozen=True, slots=True)
class DemoPlan:
    passings: tuple[tuple[int, int, int], ...]  # (offset, decoder id, transponder), sorted
    script: tuple[Scripted, ...]  # sorted by offset
    rules: dict[str, Any]  # the session's rule set (server/engine/rule_spec.py)
    missed_stop: str | None  # the car that never makes its mandatory stop
    solo: str | None  # the car whose single driver exits at the stop
    yellow: tuple[int, int]  # full-course yellow: (from, to) offsets
    stops: tuple[tuple[str, int, int], ...] = field(default=())  # (car, in, out) played


def stint_limit_us(length_s: int) -> int:
    """The demo's max stint: 5/8 of the race in whole minutes (75 min in 2 hours), so the
    longer stints (and the car that never stops) run into the 15 and 5 minute warnings."""
    return length_s * S * 5 // 8 // MINUTE * MINUTE


def build_plan(scenario: Scenario) -> DemoPlan:
    length_us = scenario.length_s * S
    by_number = {car.number: car for car in scenario.cars}
    solo = next((c.number for c in scenario.cars if len(c.drivers) == 1), None)
    retired = {r.number for r in scenario.retirements}
    stops_of: dict[str, int] = {}
    for stop in scenario.pit_stops:
        stops_of[stop.number] = stops_of.get(stop.number, 0) + 1
    # a mid-field car with one ordinary stop forgets it
    candidates = [
        n for n in scenario.grid if stops_of.get(n) == 1 and n != solo and n not in retired
    ]
    missed = candidates[len(candidates) // 2] if candidates else None

    passings = [(p.offset_us, START_FINISH, p.transponder) for p in scenario.passings]
    script: list[Scripted] = []
    played: list[tuple[str, int, int]] = []
    for stop in scenario.pit_stops:
        if stop.number == missed:
            continue
        transponder = by_number[stop.number].transponder
        passings += [(stop.in_offset_us, PIT_IN, transponder)]
        passings += [(stop.out_offset_us, PIT_OUT, transponder)]
        played.append((stop.number, stop.in_offset_us, stop.out_offset_us))
        middle = (stop.in_offset_us + stop.out_offset_us) // 2
        script.append(Scripted(middle, _marshal(stop.number, stop.driver_in, stop.number == solo)))
    for retirement in scenario.retirements:
        text = "stopped on track"
        script.append(
            Scripted(retirement.offset_us + 2 * MINUTE, _retired(retirement.number, text))
        )

    yellow_from = length_us * 3 // 8
    yellow = (yellow_from, yellow_from + min(4 * MINUTE, length_us // 10))
    script += [
        Scripted(2 * MINUTE, _message("Track limits at turn 4 are monitored: three strikes")),
        Scripted(yellow[0], _flag(Flag.YELLOW)),
        Scripted(yellow[0], _message("Full-course yellow: debris at turn 3")),
        Scripted(yellow[1], _flag(Flag.GREEN)),
    ]
    rules = {"preset": "img", "max_stint_us": stint_limit_us(scenario.length_s)}
    return DemoPlan(
        passings=tuple(sorted(passings)),
        script=tuple(sorted(script, key=lambda s: s.offset_us)),
        rules=rules,
        missed_stop=missed,
        solo=solo,
        yellow=yellow,
        stops=tuple(sorted(played, key=lambda s: s[1])),
    )


def _marshal(number: str, driver_in: str, solo: bool) -> Callable[[int], InputEvent]:
    def make(at_us: int) -> InputEvent:
        if solo:
            return SoloExitConfirmed(number, at_us, MARSHAL)
        return DriverChangeConfirmed(number, driver_in, at_us, MARSHAL)

    return make


def _retired(number: str, reason: str) -> Callable[[int], InputEvent]:
    return lambda at_us: CarRetired(number, at_us, reason, RACE_CONTROL)


def _message(text: str) -> Callable[[int], InputEvent]:
    return lambda at_us: RaceControlMessagePosted(at_us, text, actor=RACE_CONTROL)


def _flag(flag: Flag) -> Callable[[int], InputEvent]:
    return lambda at_us: FlagChanged(at_us, flag)


async def play_passings(
    plan: DemoPlan, emulators: Mapping[int, P3Emulator], clock: Clock, green_us: int
) -> None:
    """Push every passing to its loop's decoder, stamped with its exact scripted time."""
    for offset, decoder, transponder in plan.passings:
        await clock.sleep_until(green_us + offset)
        emulators[decoder].push_passing(transponder, green_us + offset)


async def run_script(
    script: Sequence[Scripted],
    submit: Callable[[InputEvent], Awaitable[object]],
    clock: Clock,
    green_us: int,
) -> None:
    """Race control and the pit marshal: each input at its time, stamped with that time."""
    for scripted in script:
        at_us = green_us + scripted.offset_us
        await clock.sleep_until(at_us)
        await submit(scripted.make(at_us))


async def run_race(
    plan: DemoPlan,
    emulators: Mapping[int, P3Emulator],
    clock: Clock,
    submit: Callable[[InputEvent], Awaitable[object]],
) -> None:
    """Green flag now, then the loops and the script side by side until both are done."""
    green_us = clock.now_us()
    await submit(FlagChanged(green_us, Flag.GREEN))
    async with asyncio.TaskGroup() as group:
        group.create_task(play_passings(plan, emulators, clock, green_us))
        group.create_task(run_script(plan.script, submit, clock, green_us))
