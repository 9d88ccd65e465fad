"""A small replayed race as a sequence of RMonitor snapshots (one per line crossing).

Deterministic: lap times come from a seeded generator, spread enough for the order to
change during the race. Used by the RMonitor output server tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from timing_adapters.rmonitor.records import Flag
from timing_adapters.rmonitor.snapshot import (
    RMonitorSnapshot,
    SnapshotClass,
    SnapshotCompetitor,
    SnapshotPassing,
    SnapshotPosition,
)

START_TOD_US = 13 * 3600 * 1_000_000  # 13:00:00
CLASSES = (SnapshotClass(1, "GTO"), SnapshotClass(2, "GTU"), SnapshotClass(3, "Spec Miata"))


@dataclass
class _Car:
    competitor: SnapshotCompetitor
    laps: int | None = None
    total_us: int | None = None
    best_lap: int | None = None
    best_us: int | None = None
    lap_times: list[int] = field(default_factory=list)


def competitors(cars: int) -> list[SnapshotCompetitor]:
    names = ["Müller", "Åkesson", "O'Neil", "Smith, Jr.", 'The "Rocket"', "Dupré"]
    return [
        SnapshotCompetitor(
            registration=str(10 + i),
            number=str(10 + i),
            transponder=str(1_000_000 + i),
            first_name=f"Driver{i}",
            last_name=names[i % len(names)],
            nationality="USA",
            class_number=CLASSES[i % len(CLASSES)].number,
            additional_data=f"Team {i}",
        )
        for i in range(cars)
    ]


def replay_race(cars: int = 10, laps: int = 20, seed: int = 7) -> list[RMonitorSnapshot]:
    rng = random.Random(seed)
    state = {c.registration: _Car(c) for c in competitors(cars)}
    crossings: list[tuple[int, str, int]] = []  # (race time, registration, lap lap_time)
    for i, reg in enumerate(state):
        base = 88_000 + 700 * (i % len(CLASSES)) + rng.randrange(0, 1_000)
        t = 200 * i  # staggered first crossing (ms)
        crossings.append((t * 1000, reg, 0))
        for _ in range(laps):
            lap_ms = base + rng.randrange(-4_000, 4_000)
            t += lap_ms
            crossings.append((t * 1000, reg, lap_ms * 1000))
    crossings.sort()
    snapshots = []
    for race_us, reg, lap_us in crossings:
        car = state[reg]
        car.laps = 0 if car.laps is None else car.laps + 1
        car.total_us = race_us
        if lap_us:
            car.lap_times.append(lap_us)
            if car.best_us is None or lap_us < car.best_us:
                car.best_us, car.best_lap = lap_us, car.laps
        snapshots.append(_snapshot(state, race_us, SnapshotPassing(reg, lap_us, race_us)))
    return snapshots


def _snapshot(state: dict[str, _Car], race_us: int, passing: SnapshotPassing) -> RMonitorSnapshot:
    def key(car: _Car) -> tuple[int, int]:
        return (-(car.laps if car.laps is not None else -1), car.total_us or 0)

    order = sorted(state.values(), key=key)
    positions = tuple(
        SnapshotPosition(
            position=i + 1,
            registration=car.competitor.registration,
            laps=car.laps,
            total_time_us=car.total_us,
            best_lap=car.best_lap,
            best_lap_time_us=car.best_us,
        )
        for i, car in enumerate(order)
    )
    return RMonitorSnapshot(
        session_name="Race 1 - Enduro",
        run_number=7,
        track_name="Thunderhill Raceway",
        track_length="3.000",
        flag=Flag.GREEN,
        time_to_go_us=max(0, 3600 * 1_000_000 - race_us),
        time_of_day_us=START_TOD_US + race_us,
        race_time_us=race_us,
        clock_running=True,
        date="14 Jun 25",
        classes=CLASSES,
        competitors=tuple(car.competitor for car in state.values()),
        positions=positions,
        passings=(passing,),
    )
