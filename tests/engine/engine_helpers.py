"""Shared builders for the engine tests: entries, engines and events in seconds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from server.engine import (
    DriverChangeConfirmed,
    Entry,
    Flag,
    FlagChanged,
    InputEvent,
    LoopRole,
    OutEvent,
    PassingDetected,
    RaceEngine,
    SessionConfig,
    SessionKind,
    SoloExitConfirmed,
    StandingRow,
)

S = 1_000_000  # one second in microseconds
T = TypeVar("T")


def entry(number: str, class_name: str = "A", *transponders: str) -> Entry:
    return Entry(
        number=number,
        class_name=class_name,
        team=f"Team {number}",
        transponders=transponders or (f"T{number}",),
    )


def make_engine(
    cars: Sequence[str | Entry] = ("1", "2", "3"),
    kind: SessionKind = SessionKind.RACE,
    **config: Any,
) -> RaceEngine:
    entries = [car if isinstance(car, Entry) else entry(car) for car in cars]
    return RaceEngine(SessionConfig(session_id=1, kind=kind, **config), entries)


def green(at_s: float = 0) -> FlagChanged:
    return FlagChanged(at_us=round(at_s * S), flag=Flag.GREEN)


def flag(flag: Flag, at_s: float) -> FlagChanged:
    return FlagChanged(at_us=round(at_s * S), flag=flag)


def cross(number: str, at_s: float, loop: LoopRole = LoopRole.START_FINISH) -> PassingDetected:
    return PassingDetected(
        at_us=round(at_s * S), transponder=f"T{number}", decoder_id="D1", loop=loop
    )


def run(engine: RaceEngine, events: Iterable[InputEvent]) -> list[OutEvent]:
    out: list[OutEvent] = []
    for event in events:
        out += engine.apply(event)
    return out


def of_type(events: Iterable[object], cls: type[T]) -> list[T]:
    return [event for event in events if isinstance(event, cls)]


def row(engine: RaceEngine, number: str) -> StandingRow:
    return next(r for r in engine.standings() if r.number == number)


def numbers(engine: RaceEngine) -> list[str]:
    return [r.number for r in engine.standings()]


def laps(number: str, start_s: float, lap_s: float, count: int) -> list[PassingDetected]:
    """``count`` + 1 crossings: timing start at ``start_s``, then ``count`` laps."""
    return [cross(number, start_s + i * lap_s) for i in range(count + 1)]


def race_scenario(seed: int, cars: int = 20, length_s: int = 1800) -> list[InputEvent]:
    """A seeded time-certain race: lap times around 100 s, pit stops, a yellow, double
    reads, an unknown transponder and a car that retires, in time order."""
    import random

    rng = random.Random(seed)
    events: list[tuple[float, int, InputEvent]] = [
        (0, 0, green(0)),
        (700, 0, flag(Flag.YELLOW, 700)),
        (820, 0, flag(Flag.GREEN, 820)),
    ]
    for index in range(cars):
        number = str(index + 1)
        at = 1 + index * 0.7
        retires_at = length_s * rng.uniform(0.3, 0.9) if index == cars - 1 else None
        while at < length_s + 400:
            events.append((at, 1, cross(number, at)))
            if rng.random() < 0.05:
                events.append((at + 0.5, 1, cross(number, at + 0.5)))  # double read
            if retires_at is not None and at > retires_at:
                break
            lap = rng.uniform(95, 110)
            if rng.random() < 0.1:  # a pit stop during this lap
                events.append((at + 40, 1, cross(number, at + 40, LoopRole.PIT_IN)))
                events.append((at + 100, 1, cross(number, at + 100, LoopRole.PIT_OUT)))
                lap += 90
            at += lap
    for at in (50.0, 900.0):
        unknown = PassingDetected(at_us=round(at * S), transponder="X1", decoder_id="D1")
        events.append((at, 1, unknown))
    events.sort(key=lambda item: (item[0], item[1]))
    return [event for _, _, event in events]


# --- endurance builders -------------------------------------------------------------

M = 60 * S  # one minute
H = 60 * M  # one hour


def team(number: str, *drivers: str, flagged: tuple[str, ...] = ()) -> Entry:
    """An entry with its drivers in order (the first one starts)."""
    return Entry(
        number=number,
        class_name="A",
        team=f"Team {number}",
        drivers=drivers,
        transponders=(f"T{number}",),
        flagged_drivers=flagged,
    )


def pit_in(number: str, at_s: float) -> PassingDetected:
    return cross(number, at_s, LoopRole.PIT_IN)


def pit_out(number: str, at_s: float) -> PassingDetected:
    return cross(number, at_s, LoopRole.PIT_OUT)


def change(number: str, driver: str, at_s: float, override: bool = False) -> DriverChangeConfirmed:
    return DriverChangeConfirmed(
        number, driver, round(at_s * S), actor="marshal", override=override
    )


def solo_exit(number: str, at_s: float) -> SoloExitConfirmed:
    return SoloExitConfirmed(number, round(at_s * S), actor="marshal")


def every_lap(
    number: str, start_s: float, end_s: float, lap_s: float = 100
) -> list[PassingDetected]:
    """Start/finish crossings of ``number`` every ``lap_s`` from ``start_s`` up to ``end_s``."""
    count = int((end_s - start_s) // lap_s)
    return [cross(number, start_s + i * lap_s) for i in range(count + 1)]


def in_time_order(*streams: Sequence[InputEvent]) -> list[InputEvent]:
    """Several event lists merged by time (stable: same time keeps argument order)."""
    tagged = [(e.at_us, i, j, e) for i, s in enumerate(streams) for j, e in enumerate(s)]
    return [e for *_, e in sorted(tagged, key=lambda t: t[:3])]
