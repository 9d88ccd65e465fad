"""What a followed RMonitor feed has told us so far: a typed, pure picture of it.

Strategy: ``RMonitorFeedState.apply(record)`` folds records into dictionaries keyed the way
the protocol keys them (competitors and positions by registration number, classes by
number) and does nothing else: no I/O, no clock. Each ``$G``/``$H`` row replaces that
competitor's previous row, because feeds send rows only for the competitors whose line
changed. ``$I`` clears everything; a ``$B`` with a new run number clears the results (run
95 only closes the current session, whose results stay). ``standings()`` turns the rows
into the comparable table the lead's checks use, with the feed's "no best lap yet"
sentinels (lap 0, 00:59:59.999 or 00:00:00.000) read as None.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .records import (
    ClassInfo,
    Competitor,
    CompetitorExt,
    Heartbeat,
    Init,
    LineCrossing,
    Passing,
    PracticePosition,
    RacePosition,
    Record,
    Run,
    Setting,
)

RUN_CLOSED = 95
"""``$B`` run number with which feeds close a session (same description as the session)."""

NO_BEST_LAP_TIMES_US = frozenset({0, 3_599_999_000})  # 00:00:00.000 and 00:59:59.999


@dataclass(frozen=True, slots=True)
class FeedCompetitor:
    """``$A`` and ``$COMP`` merged: ``$COMP`` lacks the transponder, ``$A`` the extra data."""

    registration: str
    number: str
    transponder: str | None
    first_name: str
    last_name: str
    nationality: str
    class_number: int | None
    additional_data: str = ""


@dataclass(frozen=True, slots=True)
class FeedStanding:
    """One line of the feed's standings, as comparable values."""

    position: int
    registration: str
    number: str | None
    class_number: int | None
    laps: int | None
    total_time_us: int | None
    best_lap: int | None
    best_lap_time_us: int | None
    last_lap_time_us: int | None


@dataclass(slots=True)
class RMonitorFeedState:
    run: Run | None = None
    heartbeat: Heartbeat | None = None
    settings: dict[str, str] = field(default_factory=dict)
    classes: dict[int, str] = field(default_factory=dict)
    competitors: dict[str, FeedCompetitor] = field(default_factory=dict)
    race: dict[str, RacePosition] = field(default_factory=dict)
    practice: dict[str, PracticePosition] = field(default_factory=dict)
    last_passing: dict[str, Passing] = field(default_factory=dict)
    last_crossing: dict[tuple[str, str], LineCrossing] = field(default_factory=dict)
    live_run: int | None = None  # the last run number other than RUN_CLOSED

    @property
    def track_name(self) -> str | None:
        return self.settings.get("TRACKNAME")

    @property
    def track_length(self) -> str | None:
        return self.settings.get("TRACKLENGTH")

    def copy(self) -> RMonitorFeedState:
        """An independent copy (the records inside are immutable and shared)."""
        return _copied(self)

    def registration_of(self, number: str) -> str:
        """The registration of the competitor with car ``number`` (``$L`` gives numbers)."""
        if number in self.competitors:
            return number
        for competitor in self.competitors.values():
            if competitor.number == number:
                return competitor.registration
        return number

    def apply(self, record: Record) -> None:
        match record:
            case Heartbeat():
                self.heartbeat = record
            case Competitor():
                old = self.competitors.get(record.registration)
                self.competitors[record.registration] = FeedCompetitor(
                    record.registration,
                    record.number,
                    record.transponder,
                    record.first_name,
                    record.last_name,
                    record.nationality,
                    record.class_number,
                    old.additional_data if old is not None else "",
                )
            case CompetitorExt():
                old = self.competitors.get(record.registration)
                self.competitors[record.registration] = FeedCompetitor(
                    record.registration,
                    record.number,
                    old.transponder if old is not None else None,
                    record.first_name,
                    record.last_name,
                    record.nationality,
                    record.class_number,
                    record.additional_data,
                )
            case Run():
                if record.number != RUN_CLOSED:
                    if self.live_run is not None and record.number != self.live_run:
                        self.clear_results()
                    self.live_run = record.number
                self.run = record
            case ClassInfo():
                self.classes[record.number] = record.description
            case Setting():
                self.settings[record.name] = record.value
            case RacePosition():
                self.race[record.registration] = record
            case PracticePosition():
                self.practice[record.registration] = record
            case Passing():
                self.last_passing[record.registration] = record
            case LineCrossing():
                key = (self.registration_of(record.number), record.timeline_number)
                self.last_crossing[key] = record
            case Init():
                heartbeat = self.heartbeat
                _reset(self)
                self.heartbeat = heartbeat  # the clock goes on; only the picture is cleared
            case _:
                pass  # UnknownRecord: kept by the codec, meaningless here

    def clear_results(self) -> None:
        self.race.clear()
        self.practice.clear()
        self.last_passing.clear()
        self.last_crossing.clear()

    def standings(self) -> list[FeedStanding]:
        """Competitors with a ``$G`` row in position order, then those with only ``$H``."""
        order = sorted(self.race.values(), key=lambda r: (r.position, r.registration))
        regs = [r.registration for r in order]
        regs += [
            p.registration
            for p in sorted(self.practice.values(), key=lambda p: (p.position, p.registration))
            if p.registration not in self.race
        ]
        return [self._standing(reg) for reg in regs]

    def _standing(self, registration: str) -> FeedStanding:
        race = self.race.get(registration)
        practice = self.practice.get(registration)
        competitor = self.competitors.get(registration)
        passing = self.last_passing.get(registration)
        best_lap = practice.best_lap if practice is not None else None
        best_time = practice.best_lap_time_us if practice is not None else None
        if not best_lap or best_time is None or best_time in NO_BEST_LAP_TIMES_US:
            best_lap = best_time = None
        position = race.position if race is not None else practice.position if practice else 0
        return FeedStanding(
            position=position,
            registration=registration,
            number=competitor.number if competitor is not None else None,
            class_number=competitor.class_number if competitor is not None else None,
            laps=race.laps if race is not None else None,
            total_time_us=race.total_time_us if race is not None else None,
            best_lap=best_lap,
            best_lap_time_us=best_time,
            last_lap_time_us=passing.lap_time_us if passing and passing.lap_time_us else None,
        )


def _reset(state: RMonitorFeedState) -> None:
    fresh = RMonitorFeedState()
    for name in RMonitorFeedState.__slots__:
        setattr(state, name, getattr(fresh, name))


def _copied(state: RMonitorFeedState) -> RMonitorFeedState:
    out = RMonitorFeedState()
    for name in RMonitorFeedState.__slots__:
        value = getattr(state, name)
        setattr(out, name, dict(value) if isinstance(value, dict) else value)
    return out
