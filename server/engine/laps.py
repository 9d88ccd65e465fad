"""Per-car lap bookkeeping: crossings, laps, best lap, and the car's timing state.

Strategy: a car's first start/finish crossing starts its timing (lap 0); every later
accepted crossing completes a lap whose time is the difference of two crossing times of
the same decoder clock. ``crossings[i]`` is the time lap ``i`` ended, which is all the
gap computation needs. Validation (out of order, double read) happens before anything
is stored, so a refused passing never touches the state. Everything is O(1) per passing.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

from server.engine.events import Flag
from server.engine.model import CarState, Entry, LapRecord
from server.engine.outbound import LapCompleted, RejectReason


class CarTiming:
    """Mutable timing state of one car in one session (owned by the engine)."""

    __slots__ = (
        "best_at_us",
        "best_lap_number",
        "best_lap_us",
        "best_sectors_us",
        "crossings",
        "entry",
        "finished_at_us",
        "lap_records",
        "last_seen_us",
        "pit_open",
        "pitted",
        "provisional_finish",
        "retired_at_us",
        "sector_marks",
        "state",
        "stopped",
    )

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        self.crossings: list[int] = []
        self.lap_records: list[LapRecord] = []
        self.best_lap_us: int | None = None
        self.best_lap_number: int | None = None
        self.best_at_us: int | None = None  # crossing that set the best lap (tie-break)
        self.last_seen_us: int | None = None  # latest accepted passing on any loop
        self.pitted = False  # a pit loop was passed since the last crossing
        self.state = CarState.NOT_STARTED  # as the passings left it (never STOPPED)
        self.stopped = False  # found silent by the last tick (shown as STOPPED)
        self.finished_at_us: int | None = None
        # classified by the finish timeout (a tick): a crossing that arrives late but
        # happened within the timeout still classifies the car, as it would on replay
        self.provisional_finish = False
        self.retired_at_us: int | None = None  # race control retired the car
        self.pit_open = False  # in a pit stop that has not ended (kept by the pits)
        # sector loops crossed since the last start/finish crossing: (sector, at_us)
        self.sector_marks: list[tuple[int, int]] = []
        self.best_sectors_us: list[int | None] = []  # personal best of each sector

    @property
    def ended_at_us(self) -> int | None:
        """When the car stopped racing: retired, or classified."""
        return self.retired_at_us if self.retired_at_us is not None else self.finished_at_us

    @property
    def reported_state(self) -> CarState:
        if self.retired_at_us is not None:
            return CarState.RETIRED
        if self.provisional_finish and self.pit_open:  # left in the pits when it ended
            return CarState.RETIRED
        return CarState.STOPPED if self.stopped else self.state

    @property
    def number(self) -> str:
        return self.entry.number

    @property
    def lap_count(self) -> int:
        return max(len(self.crossings) - 1, 0)

    @property
    def started(self) -> bool:
        return bool(self.crossings)

    @property
    def finished(self) -> bool:
        return self.finished_at_us is not None

    @property
    def first_crossing_us(self) -> int | None:
        return self.crossings[0] if self.crossings else None

    @property
    def last_crossing_us(self) -> int | None:
        return self.crossings[-1] if self.crossings else None

    @property
    def last_lap_us(self) -> int | None:
        return self.lap_records[-1].lap_time_us if self.lap_records else None

    def refusal(self, at_us: int, min_lap_us: int) -> RejectReason | None:
        """Why a start/finish crossing at ``at_us`` cannot count, or None."""
        last = self.last_crossing_us
        if last is None:
            return None
        if at_us < last:
            return RejectReason.OUT_OF_ORDER
        if at_us - last < min_lap_us:
            return RejectReason.DOUBLE_READ
        return None

    def see(self, at_us: int) -> None:
        if self.last_seen_us is None or at_us > self.last_seen_us:
            self.last_seen_us = at_us

    def cross(self, at_us: int, flag: Flag) -> LapRecord | None:
        """Store an accepted crossing; the completed lap, or None when timing starts."""
        previous = self.last_crossing_us
        self.crossings.append(at_us)
        self.see(at_us)
        pitted, self.pitted = self.pitted, False
        marks, self.sector_marks = self.sector_marks, []
        if previous is None:
            return None
        sectors = sector_times(previous, marks, at_us)
        lap = LapRecord(
            lap=len(self.crossings) - 1,
            lap_time_us=at_us - previous,
            at_us=at_us,
            flag=flag,
            pitted=pitted,
            sectors_us=sectors,
        )
        for index, time_us in enumerate(sectors):
            if index == len(self.best_sectors_us):
                self.best_sectors_us.append(None)
            best = self.best_sectors_us[index]
            if best is None or time_us < best:
                self.best_sectors_us[index] = time_us
        self.lap_records.append(lap)
        if self.best_lap_us is None or lap.lap_time_us < self.best_lap_us:
            self.best_lap_us = lap.lap_time_us
            self.best_lap_number = lap.lap
            self.best_at_us = at_us
        return lap

    def void(self, lap_number: int, reason: str = "") -> None:
        """Void lap ``lap_number`` (validated by the caller): it stays a lap, but its time
        and its sectors are no longer bests; the bests are chosen again among the others
        (ties to the earliest)."""
        record = self.lap_records[lap_number - 1]
        self.lap_records[lap_number - 1] = replace(record, voided=True, void_reason=reason)
        self.best_lap_us = self.best_lap_number = self.best_at_us = None
        self.best_sectors_us = [None] * len(self.best_sectors_us)
        for lap in self.lap_records:
            if lap.voided:
                continue
            if self.best_lap_us is None or lap.lap_time_us < self.best_lap_us:
                self.best_lap_us, self.best_lap_number = lap.lap_time_us, lap.lap
                self.best_at_us = lap.at_us
            for index, time_us in enumerate(lap.sectors_us[: len(self.best_sectors_us)]):
                best = self.best_sectors_us[index]
                if best is None or time_us < best:
                    self.best_sectors_us[index] = time_us

    def lap_completed(self, lap: LapRecord) -> LapCompleted:
        return LapCompleted(
            number=self.number,
            lap=lap.lap,
            lap_time_us=lap.lap_time_us,
            at_us=lap.at_us,
            is_best=self.best_lap_number == lap.lap,
            flag=lap.flag,
        )


def sector_times(start_us: int, marks: list[tuple[int, int]], end_us: int) -> tuple[int, ...]:
    """Sector times of a lap from its sector-loop crossings, or () when the lap did not
    pass every sector loop in order (a missed loop, a pit lane that bypasses one)."""
    ordered = sorted(m for m in marks if start_us < m[1] < end_us)
    if not ordered or [sector for sector, _at in ordered] != list(range(1, len(ordered) + 1)):
        return ()
    times = [start_us, *(at for _sector, at in ordered), end_us]
    return tuple(b - a for a, b in pairwise(times))
