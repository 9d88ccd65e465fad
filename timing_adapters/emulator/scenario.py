"""A seeded, deterministic endurance race for the emulator, the demo, the tests and benchmarks.

Strategy: one ``random.Random(seed)`` drives everything, drawn in a fixed order, so a seed is
a race. Each car is simulated on its own as a list of start/finish crossings (offset 0 is the
green flag; the first crossing, a few seconds later in grid order, starts lap 1). A lap is the
class base time + a car pace offset + a per-driver offset + noise, with a slower first lap,
occasional traffic, and pit stops that add the stop and the pit-lane delta to one lap (the pit
lane runs beside the main straight, so the car still crosses the line on the pit lap). After
all cars are simulated past the end, the time-certain finish cuts each car after its first
crossing after the leader's first crossing at or after ``length_s``. Double reads are added
last. Only pure code here: no clock, no I/O.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass

from timing_adapters.emulator.server import ScheduledPassing

_US = 1_000_000


@dataclass(frozen=True, slots=True)
class ClassSpec:
    name: str
    base_lap_s: float
    weight: float = 1.0  # share of the field, relative to the other classes


# A ~3 km club circuit: the fast class laps in about 1:52, the slowest in about 2:10.
DEFAULT_CLASSES = (
    ClassSpec("A", 112.0, 0.8),
    ClassSpec("B", 118.0, 1.0),
    ClassSpec("C", 124.0, 1.2),
    ClassSpec("D", 130.0, 1.0),
)


@dataclass(frozen=True, slots=True)
class ScenarioCar:
    number: str
    class_name: str
    team: str
    drivers: tuple[str, ...]
    transponder: int


@dataclass(frozen=True, slots=True)
class PitStop:
    """A stop inside lap ``lap``; ``driver_out == driver_in`` means no driver change."""

    number: str
    lap: int
    in_offset_us: int
    out_offset_us: int
    driver_out: str
    driver_in: str


@dataclass(frozen=True, slots=True)
class Retirement:
    """The car stops on track at ``offset_us`` after completing ``laps`` laps."""

    number: str
    laps: int
    offset_us: int


@dataclass(slots=True)
class Scenario:
    seed: int
    length_s: int
    cars: list[ScenarioCar]  # entry-list order
    grid: list[str]  # car numbers, pole first: the order of the first crossings
    passings: list[ScheduledPassing]  # sorted by offset, double reads included
    pit_stops: list[PitStop]  # sorted by in_offset_us
    double_reads: list[ScheduledPassing]  # the extra reads (also present in ``passings``)
    retirements: list[Retirement]
    checkered_offset_us: int  # the leader's first crossing at or after length_s

    def entries_csv(self) -> str:
        """Entry list as ``number,class,team,drivers,transponder``; drivers joined by ``;``."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["number", "class", "team", "drivers", "transponder"])
        for car in self.cars:
            row = [car.number, car.class_name, car.team, ";".join(car.drivers), car.transponder]
            writer.writerow(row)
        return out.getvalue()


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))  # keeps the name pools a few lines long


# Clearly fictional names: ordinary first names, motoring-pun surnames, silly team names.
_FIRST = _words(
    "Alex Sam Jordan Casey Robin Morgan Jamie Taylor Riley Quinn Avery Drew Harper Rowan Sky "
    "Frankie Jo Charlie Dana Toni Billie Kit Lee Max Noor Ines Mika Sasha Remy Luca"
)
_LAST = _words(
    "Throttlebury Gearhart Brakewell Apexley Camberwick Oversteer Pitwell Tarmacson Clutchley "
    "Redlineham Kerbside Slipstreamer Toeinfeld Chicaneau Rivetti Boltsworth Hairpinski "
    "Downforth Sparkford Gravelle Lapworth Flatout Understeed Heeltoe Drafton Grippington"
)
_TEAM_A = _words(
    "Rusty Piston|Gravel Trap|Blue Heron|Late Apex|Slow Puncture|Loose Nut|Midnight Oil|"
    "Second Gear|Wobbly Wheel|Cold Tyre|Hot Lap|Borrowed Time|Broken Spanner|Lucky Dent|"
    "Tin Snail|Stubborn Mule|Paper Tiger|Half Shaft|Dry Sump|Copper Kettle",
    "|",
)
_TEAM_B = _words("Racing|Motorsport|Endurance|Garage|Racing Club|Works Team|Autosport", "|")


def generate_race(
    *,
    seed: int = 1,
    cars: int = 36,
    classes: Sequence[ClassSpec] | None = None,
    length_s: int = 7200,
    double_read_rate: float = 0.01,
    pit_stops: bool = True,
) -> Scenario:
    """A realistic endurance race; the same arguments always give the same scenario."""
    specs = tuple(classes) if classes is not None else DEFAULT_CLASSES
    if not specs:
        raise ValueError("at least one class is needed")
    if not 1 <= cars <= 120:
        raise ValueError("cars must be between 1 and 120")
    if not 900 <= length_s <= 4 * 3600:
        raise ValueError("length_s must be between 900 (15 min) and 14400 (4 h)")
    if not 0.0 <= double_read_rate <= 1.0:
        raise ValueError("double_read_rate must be between 0 and 1")
    rng = random.Random(seed)
    entries = _entries(rng, cars, specs)
    base = {s.name: s.base_lap_s for s in specs}
    # Qualifying: the grid follows pace, with some noise so classes mix a little.
    pace = {c.number: _clip(rng.gauss(0.0, 1.2), 3.5) for c in entries}
    grid = sorted(entries, key=lambda c: base[c.class_name] + pace[c.number] + rng.gauss(0, 0.7))
    solo = next((c for c in grid if len(c.drivers) == 1), None)
    retiring = grid[len(grid) * 2 // 3] if len(grid) > 1 else None
    length_us = length_s * _US
    horizon_us = length_us + int(4 * max(base.values()) * _US)

    crossings: dict[str, list[int]] = {}
    stops: list[PitStop] = []
    retirements: list[Retirement] = []
    for slot, car in enumerate(grid):
        if car is retiring:  # it retires late in the race, having served its stop early
            fractions = [rng.uniform(0.25, 0.45)]
        elif car is not solo and rng.random() < 0.25:
            fractions = [rng.uniform(0.25, 0.4), rng.uniform(0.6, 0.75)]
        else:
            fractions = [rng.uniform(0.3, 0.7)]
        targets = [f * length_us for f in fractions] if pit_stops else []
        retire_at = rng.uniform(0.75, 0.9) * length_us if car is retiring else None
        driver_pace = {d: _clip(rng.gauss(0.0, 0.8), 2.0) for d in car.drivers}
        driver, used = car.drivers[0], {car.drivers[0]}
        t = 3 * _US + slot * 350_000  # rolling start: grid order, a few seconds after green
        times = [t]
        lap = 1
        while t <= horizon_us:
            if retire_at is not None and not targets and retire_at <= t < length_us:
                last_lap_us = times[-1] - times[-2]
                offset = t + int(rng.uniform(0.2, 0.8) * last_lap_us)
                retirements.append(Retirement(car.number, lap - 1, offset))
                break
            lap_s = base[car.class_name] + pace[car.number] + driver_pace[driver]
            lap_s += rng.gauss(0.0, 0.5)
            if lap == 1:
                lap_s *= rng.uniform(1.06, 1.12)  # the pack, the first corners
            elif rng.random() < 0.05:
                lap_s += rng.uniform(2.0, 12.0)  # traffic, a moment, a local yellow
            lap_s = max(lap_s, base[car.class_name] * 0.96)
            if targets and t >= targets[0]:
                targets.pop(0)
                candidates = [d for d in car.drivers if d not in used]
                # No rested driver left: a fuel-only stop keeps the same driver in the car.
                driver_in = candidates[0] if candidates else driver
                in_us = t + int(lap_s * 0.93 * _US)
                out_us = in_us + int(rng.uniform(120.0, 300.0) * _US)
                stops.append(PitStop(car.number, lap, in_us, out_us, driver, driver_in))
                driver = driver_in
                used.add(driver)
                lap_s += (out_us - in_us) / _US + rng.uniform(18.0, 24.0)  # stop + pit lane
            t += int(lap_s * _US)
            times.append(t)
            lap += 1
        crossings[car.number] = times

    checkered = _apply_finish(crossings, {r.number for r in retirements}, length_us)
    passings: list[ScheduledPassing] = []
    doubles: list[ScheduledPassing] = []
    for car in grid:
        for t in crossings[car.number]:
            passings.append(ScheduledPassing(t, car.transponder))
            if rng.random() < double_read_rate:
                extra = ScheduledPassing(t + int(rng.uniform(0.1, 3.0) * _US), car.transponder)
                doubles.append(extra)
    passings.extend(doubles)
    passings.sort(key=lambda p: (p.offset_us, p.transponder))
    doubles.sort(key=lambda p: (p.offset_us, p.transponder))
    stops.sort(key=lambda s: s.in_offset_us)
    return Scenario(
        seed=seed,
        length_s=length_s,
        cars=entries,
        grid=[c.number for c in grid],
        passings=passings,
        pit_stops=stops,
        double_reads=doubles,
        retirements=retirements,
        checkered_offset_us=checkered,
    )


def _clip(value: float, limit: float) -> float:
    return max(-limit, min(limit, value))


def _apply_finish(crossings: dict[str, list[int]], retired: set[str], length_us: int) -> int:
    """Cut every running car after its first crossing after the checkered; return that time."""
    running = [n for n in crossings if n not in retired]
    if not running:
        return length_us

    def standing(number: str) -> tuple[int, int]:
        done = [t for t in crossings[number] if t <= length_us]
        return (-len(done), done[-1])  # most laps first, then who got there first

    leader = min(running, key=standing)
    checkered = next(t for t in crossings[leader] if t >= length_us)
    for number in running:
        times = crossings[number]
        last = checkered if number == leader else next(t for t in times if t > checkered)
        crossings[number] = [t for t in times if t <= last]
    return checkered


def _entries(rng: random.Random, cars: int, specs: Sequence[ClassSpec]) -> list[ScenarioCar]:
    counts = _split(cars, [s.weight for s in specs])
    pool = [n for n in range(1, 100 if cars < 90 else 1000) if n != 7]
    numbers = ["07", *(str(n) for n in rng.sample(pool, cars - 1))]
    rng.shuffle(numbers)
    transponders = rng.sample(range(1_000_000, 10_000_000), cars)
    teams = rng.sample([f"{a} {b}" for a in _TEAM_A for b in _TEAM_B], cars)
    names = rng.sample([f"{f} {la}" for f in _FIRST for la in _LAST], len(_FIRST) * len(_LAST))
    solo_index = rng.randrange(cars)
    out: list[ScenarioCar] = []
    i = 0
    for spec, count in zip(specs, counts, strict=True):
        for _ in range(count):
            size = 1 if i == solo_index else rng.choice((2, 2, 3, 3, 3, 4))
            drivers = tuple(names.pop() for _ in range(size))
            out.append(ScenarioCar(numbers[i], spec.name, teams[i], drivers, transponders[i]))
            i += 1
    return out


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """Largest-remainder split of ``total`` by ``weights``; every class gets one if it can."""
    if any(w <= 0 for w in weights):
        raise ValueError("class weights must be positive")
    shares = [total * w / sum(weights) for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda k: counts[k] - shares[k])
    for k in by_remainder[: total - sum(counts)]:
        counts[k] += 1
    for k, c in enumerate(counts):
        if c == 0 and total >= len(counts):
            donor = max(range(len(counts)), key=lambda j: counts[j])
            counts[donor] -= 1
            counts[k] = 1
    return counts
