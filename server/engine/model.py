"""Plain data the engine is configured with and reports: entries, session config, rows.

These are the engine's contract with the rest of the server (storage loads ``Entry``
and ``SessionConfig``; views render ``StandingRow``). Times are integer microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from server.engine.events import Flag, SessionKind


class CarState(StrEnum):
    NOT_STARTED = "not_started"  # no crossing yet in this session
    RUN = "run"
    PIT = "pit"  # crossed a pit-in loop
    OUT = "out"  # out lap: crossed pit-out, not yet the line
    STOPPED = "stopped"  # silent for much longer than a lap while the session runs
    FINISHED = "finished"  # took the checkered flag (or classified at its last crossing)


@dataclass(frozen=True, slots=True)
class Entry:
    """A car entered in the event. Numbers are strings: "07" and "7" are different cars."""

    number: str
    class_name: str
    team: str
    drivers: tuple[str, ...] = ()
    transponders: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SessionConfig:
    session_id: int
    kind: SessionKind
    name: str = ""
    length_us: int | None = None  # scheduled length; time-certain finish for races
    min_lap_us: int = 20_000_000  # shorter "laps" are double reads
    # after the checkered flag, a car that does not cross within this time is classified
    # at its last crossing
    finish_timeout_us: int = 600_000_000
    # a running car silent for this many of its best laps (or typical laps) is STOPPED
    stopped_after_laps: float = 3.0


@dataclass(frozen=True, slots=True)
class StandingRow:
    position: int
    number: str
    class_name: str
    class_position: int
    team: str
    laps: int
    last_lap_us: int | None
    best_lap_us: int | None
    best_lap_number: int | None
    # gap to the leader / interval to the car ahead: in time when on the same lap,
    # otherwise ``*_laps`` > 0 says how many laps behind (and ``*_us`` is None).
    gap_us: int | None
    gap_laps: int
    interval_us: int | None
    interval_laps: int
    class_gap_us: int | None
    class_gap_laps: int
    class_interval_us: int | None
    class_interval_laps: int
    state: CarState
    last_crossing_us: int | None

    @property
    def in_pit(self) -> bool:
        return self.state is CarState.PIT


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """The header of every page: flag and clock (the browser ticks it from these)."""

    session_id: int
    kind: SessionKind
    name: str
    flag: Flag
    green_at_us: int | None
    ends_at_us: int | None  # scheduled end of a time-certain session
    checkered_at_us: int | None
    finished: bool


@dataclass(frozen=True, slots=True)
class LapRecord:
    """One completed lap of one car (lap 0, the car's first crossing, is not a lap)."""

    lap: int
    lap_time_us: int
    at_us: int  # the start/finish crossing that completed it
    # most severe flag shown while the lap was driven: RED, YELLOW (full-course) or GREEN
    flag: Flag
    pitted: bool = False  # a pit loop was passed during the lap


@dataclass(frozen=True, slots=True)
class UnknownTransponder:
    """Passings of a transponder no entry claims, kept so race control can assign it."""

    count: int
    first_seen_us: int
    last_seen_us: int
