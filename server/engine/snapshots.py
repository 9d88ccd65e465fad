"""Classifications taken while the race goes on: the SprintDuro's sprint, and hourly.

Strategy: both are computed from crossing times only, by ranking copies of the cars cut
down to the crossings that count, with the same ordering and gap code as the live
standings, so they are deterministic and follow corrections. The sprint is taken like
a checkered flag (the engine records when the leader first crossed at or after the
sprint's end): every car is classified at its first crossing at or after that moment,
or at its last one before it if it does not cross within the finish timeout (judged by
its next crossing, or by ``now``); until every car that started is classified the result
is partial. An hourly snapshot is the order as of each car's last crossing at or before
the hour mark (race time, so pauses shift the marks); none is taken at or after the end.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from server.engine.events import SessionKind
from server.engine.laps import CarTiming
from server.engine.model import CarState, StandingRow
from server.engine.positions import order, rows


class ClassificationSnapshot(NamedTuple):
    label: str  # "1h", "2h", ...
    at_us: int  # the hour mark
    rows: list[StandingRow]


@dataclass(frozen=True, slots=True)
class SprintClassification:
    checkered_at_us: int
    complete: bool  # every car that started is classified
    rows: tuple[StandingRow, ...]


def cut(car: CarTiming, upto: int, classified_at_us: int | None = None) -> CarTiming:
    """A copy of ``car`` with only its first ``upto`` crossings."""
    copy = CarTiming(car.entry)
    copy.crossings = car.crossings[:upto]
    copy.lap_records = car.lap_records[: max(upto - 1, 0)]
    for lap in copy.lap_records:
        if copy.best_lap_us is None or lap.lap_time_us < copy.best_lap_us:
            copy.best_lap_us, copy.best_lap_number, copy.best_at_us = (
                lap.lap_time_us,
                lap.lap,
                lap.at_us,
            )
    copy.last_seen_us = copy.last_crossing_us
    copy.state = CarState.RUN if copy.crossings else CarState.NOT_STARTED
    if classified_at_us is not None:
        copy.finished_at_us = classified_at_us
        copy.state = CarState.FINISHED
    return copy


def _ranked(cars: list[CarTiming]) -> list[StandingRow]:
    return rows(order(cars, SessionKind.RACE), SessionKind.RACE)


def sprint(
    cars: Iterable[CarTiming], checkered_at_us: int, timeout_us: int, now_us: int | None
) -> SprintClassification:
    copies: list[CarTiming] = []
    complete = True
    deadline = checkered_at_us + timeout_us
    for car in cars:
        crossings = car.crossings
        after = bisect_left(crossings, checkered_at_us)
        if not crossings:
            copies.append(cut(car, 0))
        elif after < len(crossings) and crossings[after] <= deadline:
            copies.append(cut(car, after + 1, crossings[after]))
        elif after < len(crossings) or (now_us is not None and now_us >= deadline):
            # silent past the timeout: classified at its last crossing before the flag
            copies.append(cut(car, after, crossings[after - 1] if after else None))
        elif car.ended_at_us is not None:  # retired or finished: it will not cross again
            copies.append(cut(car, after, crossings[-1]))
        else:
            complete = False
            copies.append(cut(car, after))
    return SprintClassification(checkered_at_us, complete, tuple(_ranked(copies)))


def hourly(cars: Iterable[CarTiming], marks: list[tuple[str, int]]) -> list[ClassificationSnapshot]:
    snapshots: list[ClassificationSnapshot] = []
    cars = list(cars)
    for label, at_us in marks:
        copies = [cut(car, bisect_right(car.crossings, at_us)) for car in cars]
        snapshots.append(ClassificationSnapshot(label, at_us, _ranked(copies)))
    return snapshots
