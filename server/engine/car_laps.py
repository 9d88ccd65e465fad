"""A car's laps as its page lists them: which lap and which sector times are bests.

Strategy: a pure query over the cars' lap records. A lap (or a sector time) is the car's
personal best when it is the car's fastest valid one (ties: the earliest, as for the
best lap in the standings), and the overall best when it is also the fastest of the
session, every car and class together. A voided lap is never a best, neither its time
nor its sectors. The marks are those of now: when a faster lap comes, the earlier best
loses its mark.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from server.engine.laps import CarTiming
from server.engine.model import LapRecord


class Best(StrEnum):
    NONE = ""
    PERSONAL = "personal"  # the car's fastest
    OVERALL = "overall"  # the session's fastest (and so the car's too)


@dataclass(frozen=True, slots=True)
class SessionBests:
    """The session's fastest valid lap and sector times (None: none yet)."""

    lap_us: int | None
    sectors_us: tuple[int | None, ...]


@dataclass(frozen=True, slots=True)
class MarkedLap:
    record: LapRecord
    best: Best  # of the lap time
    sector_bests: tuple[Best, ...]  # one per sector time of the lap


def session_bests(cars: Iterable[CarTiming]) -> SessionBests:
    lap: int | None = None
    sectors: list[int | None] = []
    for car in cars:
        if car.best_lap_us is not None and (lap is None or car.best_lap_us < lap):
            lap = car.best_lap_us
        for index, time_us in enumerate(car.best_sectors_us):
            if index == len(sectors):
                sectors.append(None)
            best = sectors[index]
            if time_us is not None and (best is None or time_us < best):
                sectors[index] = time_us
    return SessionBests(lap, tuple(sectors))


def _mark(time_us: int, first_of_car: bool, overall_us: int | None) -> Best:
    if not first_of_car:
        return Best.NONE
    return Best.OVERALL if overall_us is not None and time_us <= overall_us else Best.PERSONAL


def marked_laps(car: CarTiming, bests: SessionBests) -> tuple[MarkedLap, ...]:
    """The car's laps, oldest first, each with its marks."""
    marked_sectors: set[int] = set()  # sectors whose personal best is already marked
    out: list[MarkedLap] = []
    for record in car.lap_records:
        lap_best = Best.NONE
        sector_bests: list[Best] = []
        if not record.voided:
            is_best = record.lap == car.best_lap_number
            lap_best = _mark(record.lap_time_us, is_best, bests.lap_us)
            for index, time_us in enumerate(record.sectors_us):
                personal = car.best_sectors_us[index] if index < len(car.best_sectors_us) else None
                first = time_us == personal and index not in marked_sectors
                if first:
                    marked_sectors.add(index)
                overall = bests.sectors_us[index] if index < len(bests.sectors_us) else None
                sector_bests.append(_mark(time_us, first, overall))
        else:
            sector_bests = [Best.NONE] * len(record.sectors_us)
        out.append(MarkedLap(record, lap_best, tuple(sector_bests)))
    return tuple(out)
