"""Positions: the order of the cars, class positions, gaps and intervals.

Strategy: ordering is a sort on a key per car, so it is computed lazily (O(n log n))
only when someone asks after a change, never per passing. Races rank by laps, then by
the time the car completed them; practice and qualifying by best lap, a tie going to
whoever set it first. A retired car ranks behind every car still in the race (it will
never cross again, so it can neither lead nor take the flag) and among the retired
cars by its last crossing. Every key ends in the car number, so the order is total and
the same on every replay. Gaps are a function of two cars: same lap -> time, else laps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from server.engine.events import SessionKind
from server.engine.laps import CarTiming
from server.engine.model import StandingRow

BY_BEST_LAP = frozenset({SessionKind.PRACTICE, SessionKind.QUALIFYING})

_Key = tuple[int, int, int, tuple[int, int, str]]


def number_key(number: str) -> tuple[int, int, str]:
    """Numeric numbers by value ("07" and "7" then as text), then the others as text."""
    if number.isdigit():
        return (0, int(number), number)
    return (1, 0, number)


def race_key(car: CarTiming) -> _Key:
    last = car.last_crossing_us
    if last is None:
        return (2, 0, 0, number_key(car.number))
    group = 0 if car.retired_at_us is None else 1  # retired: behind the cars still racing
    return (group, -car.lap_count, last, number_key(car.number))


def best_lap_key(car: CarTiming) -> _Key:
    first = car.first_crossing_us
    if car.best_lap_us is not None and car.best_at_us is not None:
        return (0, car.best_lap_us, car.best_at_us, number_key(car.number))
    if first is not None:
        return (1, -car.lap_count, first, number_key(car.number))
    return (2, 0, 0, number_key(car.number))


def order(cars: Iterable[CarTiming], kind: SessionKind) -> list[CarTiming]:
    return sorted(cars, key=best_lap_key if kind in BY_BEST_LAP else race_key)


Totals = Callable[[CarTiming], tuple[int, int]]


def raw_totals(car: CarTiming) -> tuple[int, int]:
    return car.lap_count, car.last_crossing_us or 0


def _behind(
    car: CarTiming, ref: CarTiming | None, by_best: bool, totals: Totals = raw_totals
) -> tuple[int | None, int]:
    """(time, laps) from ``ref`` (ahead) to ``car``; (None, 0) when there is nothing to say.
    ``totals``: a car's laps and total time as classified (the stewards' penalties)."""
    if ref is None or car.last_crossing_us is None or ref.last_crossing_us is None:
        return None, 0
    if by_best:
        if car.best_lap_us is None or ref.best_lap_us is None:
            return None, 0
        return car.best_lap_us - ref.best_lap_us, 0
    (laps, time_us), (ref_laps, ref_time_us) = totals(car), totals(ref)
    if laps == ref_laps:
        # both crossings end the same lap count: the time between them
        return time_us - ref_time_us, 0
    return None, max(ref_laps - laps, 0)


def rows(
    ordered: Sequence[CarTiming],
    kind: SessionKind,
    extras: Callable[[CarTiming], Mapping[str, Any]] | None = None,
    totals: Totals = raw_totals,
    more: Callable[[CarTiming], Mapping[str, Any]] | None = None,
) -> list[StandingRow]:
    """The standing rows; ``extras`` and ``more`` give each car's further fields (drivers,
    stops; penalties), ``totals`` its laps and total time as classified."""
    by_best = kind in BY_BEST_LAP
    leader = ordered[0] if ordered else None
    class_leader: dict[str, CarTiming] = {}
    class_ahead: dict[str, CarTiming] = {}
    class_count: dict[str, int] = {}
    ahead: CarTiming | None = None
    result: list[StandingRow] = []
    for position, car in enumerate(ordered, start=1):
        cls = car.entry.class_name
        class_count[cls] = class_count.get(cls, 0) + 1
        gap = _behind(car, leader, by_best, totals)
        interval = _behind(car, ahead, by_best, totals)
        class_gap = _behind(car, class_leader.setdefault(cls, car), by_best, totals)
        class_interval = _behind(car, class_ahead.get(cls), by_best, totals)
        result.append(
            StandingRow(
                position=position,
                number=car.number,
                class_name=cls,
                class_position=class_count[cls],
                team=car.entry.team,
                laps=totals(car)[0],
                last_lap_us=car.last_lap_us,
                best_lap_us=car.best_lap_us,
                best_lap_number=car.best_lap_number,
                gap_us=gap[0],
                gap_laps=gap[1],
                interval_us=interval[0],
                interval_laps=interval[1],
                class_gap_us=class_gap[0],
                class_gap_laps=class_gap[1],
                class_interval_us=class_interval[0],
                class_interval_laps=class_interval[1],
                state=car.reported_state,
                last_crossing_us=car.last_crossing_us,
                last_sectors_us=car.lap_records[-1].sectors_us if car.lap_records else (),
                best_sectors_us=tuple(car.best_sectors_us),
                **(extras(car) if extras is not None else {}),
                **(more(car) if more is not None else {}),
            )
        )
        ahead = car
        class_ahead[cls] = car
    return result
