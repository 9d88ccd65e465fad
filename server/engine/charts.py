"""Charts: each car's laps as points of a lap chart, a lap-time chart and a gap chart.

Strategy: a point is one lap of one car, fixed at the crossing that completed it. Its
position is the order in which the cars completed that lap (the classic lap chart: a
car that completes lap L is behind every car that completed lap L before it, and ahead
of every car that has not), overall and in its class; its gap is the time since the
first car (overall, in its class) completed that lap: the race history chart's "gap to
the leader at the line", on track, before the stewards' penalties. So a point never
changes once made, unless the past itself changes (a correction rebuilds the state, a
lap is voided: ``RaceEngine.chart_version`` changes). The full history is one sort per
lap number (O(P log n) for P points); the points of a few new crossings look only at the
cars that completed the same lap numbers (O(n) each), so a live update never rebuilds
the history. Ties (two crossings at the same microsecond) go to the lower car number,
as in the standings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from server.engine.events import Flag
from server.engine.flags import CAUTIONS, FlagTimeline
from server.engine.laps import CarTiming
from server.engine.positions import number_key

# the flags a timeline shades: every caution and the red flag
SHADED = frozenset({*CAUTIONS, Flag.RED})


@dataclass(frozen=True, slots=True)
class LapPoint:
    """Lap ``lap`` of car ``number``, as the line saw it."""

    number: str
    lap: int
    at_us: int  # the crossing that completed the lap
    lap_time_us: int | None  # None: a lap driven before we saw the car (a feed joined late)
    position: int  # among the cars that completed this lap, by when they did
    class_position: int
    gap_us: int  # behind the first car to complete this lap (0: that car)
    class_gap_us: int
    flag: Flag  # the most severe flag shown during the lap
    pitted: bool
    voided: bool


@dataclass(frozen=True, slots=True)
class FlagPeriod:
    flag: Flag
    start_us: int
    end_us: int | None  # None: still shown


def _key(at_us: int, car: CarTiming) -> tuple[int, tuple[int, int, str]]:
    return at_us, number_key(car.number)


def _point(car: CarTiming, lap: int, ranks: tuple[int, int, int, int]) -> LapPoint:
    at_us = car.crossings[lap]
    # carried laps (joined mid-race) have no record: lap_records covers the last laps
    offset = len(car.crossings) - 1 - len(car.lap_records)
    record = car.lap_records[lap - 1 - offset] if lap > offset else None
    position, class_position, first_us, class_first_us = ranks
    return LapPoint(
        number=car.number,
        lap=lap,
        at_us=at_us,
        lap_time_us=None if record is None else record.lap_time_us,
        position=position,
        class_position=class_position,
        gap_us=at_us - first_us,
        class_gap_us=at_us - class_first_us,
        flag=Flag.GREEN if record is None else record.flag,
        pitted=False if record is None else record.pitted,
        voided=False if record is None else record.voided,
    )


def lap_points(cars: Iterable[CarTiming]) -> list[LapPoint]:
    """Every lap of every car, by lap number, then by when it was completed."""
    by_lap: dict[int, list[CarTiming]] = {}
    for car in cars:
        for lap in range(1, len(car.crossings)):
            by_lap.setdefault(lap, []).append(car)
    points: list[LapPoint] = []
    for lap in sorted(by_lap):

        def at_line(car: CarTiming, lap: int = lap) -> tuple[int, tuple[int, int, str]]:
            return _key(car.crossings[lap], car)

        ordered = sorted(by_lap[lap], key=at_line)
        first_us = ordered[0].crossings[lap]
        class_count: dict[str, int] = {}
        class_first: dict[str, int] = {}
        for position, car in enumerate(ordered, start=1):
            cls = car.entry.class_name
            class_count[cls] = class_count.get(cls, 0) + 1
            class_first.setdefault(cls, car.crossings[lap])
            ranks = (position, class_count[cls], first_us, class_first[cls])
            points.append(_point(car, lap, ranks))
    return points


def new_points(cars: Sequence[CarTiming], since: Mapping[str, int]) -> list[LapPoint]:
    """The points of the laps each car completed after its lap ``since[number]`` (0 when
    not given), each ranked among every car's crossing of the same lap."""
    points: list[LapPoint] = []
    for car in cars:
        for lap in range(since.get(car.number, 0) + 1, len(car.crossings)):
            mine = _key(car.crossings[lap], car)
            cls = car.entry.class_name
            position = class_position = 1
            first_us = class_first_us = car.crossings[lap]
            for other in cars:
                if other is car or len(other.crossings) <= lap:
                    continue
                at_us = other.crossings[lap]
                if _key(at_us, other) >= mine:
                    continue
                position += 1
                first_us = min(first_us, at_us)
                if other.entry.class_name == cls:
                    class_position += 1
                    class_first_us = min(class_first_us, at_us)
            points.append(_point(car, lap, (position, class_position, first_us, class_first_us)))
    return sorted(points, key=lambda p: (p.lap, p.at_us, number_key(p.number)))


def flag_periods(flags: FlagTimeline) -> list[FlagPeriod]:
    """The spans of each caution and red flag, in time order (the last may be open)."""
    periods = [
        FlagPeriod(flag, start, end)
        for flag in sorted(SHADED)
        for start, end in flags.periods(frozenset({flag}))
    ]
    return sorted(periods, key=lambda p: p.start_us)
