"""Plain data the engine is configured with and reports: entries, session config, rows.

These are the engine's contract with the rest of the server (storage loads ``Entry``
and ``SessionConfig``; views render ``StandingRow``). Times are integer microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from server.engine.events import Entry as Entry  # the entry list is journaled
from server.engine.events import Flag, SessionKind
from server.engine.rules import IMG, PenaltyKind, RuleSet


class CarState(StrEnum):
    NOT_STARTED = "not_started"  # no crossing yet in this session
    RUN = "run"
    PIT = "pit"  # crossed a pit-in loop
    OUT = "out"  # out lap: crossed pit-out, not yet the line
    STOPPED = "stopped"  # silent for much longer than a lap while the session runs
    FINISHED = "finished"  # took the checkered flag (or classified at its last crossing)
    RETIRED = "retired"  # race control said so, or left in the pits when the race ended
    NOT_CLASSIFIED = "not_classified"  # reserved for classification rules (not set yet)
    DISQUALIFIED = "disqualified"  # reserved (the stewards' DSQ / EXCL is StandingRow.status)


class StintClock(StrEnum):
    """What the current stint clock does (the browser ticks it only when RUNNING)."""

    NONE = "none"  # no stint: not started, finished or retired
    RUNNING = "running"
    FROZEN = "frozen"  # a caution the rule set freezes stint clocks under
    IN_PIT = "in_pit"


@dataclass(frozen=True, slots=True)
class ProposedPenalty:
    """A penalty the rule set prescribes, proposed to the stewards (never applied here)."""

    number: str
    kind: PenaltyKind
    value: int
    reason: str
    at_us: int


class PenaltyState(StrEnum):
    APPLIED = "applied"  # in the classification now
    PENDING = "pending"  # a drive-through / stop-and-go the car has still to serve
    SERVED = "served"  # served at a pit stop: nothing more to apply
    CONVERTED = "converted"  # not served before the car's race ended: a time penalty


@dataclass(frozen=True, slots=True)
class Penalty:
    """A stewards' decision as it stands on one car (warnings and no action included)."""

    incident_id: str
    number: str
    decision: str  # a ``Decision`` value
    value: int | None  # seconds, laps or places as decided
    state: PenaltyState
    time_us: int = 0  # added to the total time (a time penalty, a converted DT / SG)
    laps: int = 0  # removed
    places: int = 0  # dropped after ordering
    reason: str = ""
    at_us: int = 0  # when decided (or last amended)
    served_at_us: int | None = None  # the pit-in that served a DT / SG

    def describe(self) -> str:
        """In words, for results and exports: "30 s time penalty", "drive-through (served)"."""
        words = self.decision.replace("_", " ")
        words = words.replace("drive through", "drive-through").replace(
            "stop and go", "stop-and-go"
        )
        unit = _UNITS.get(self.decision)
        if unit is not None and self.value is not None:
            words = f"{self.value} {unit} {words}"
        if self.state is PenaltyState.CONVERTED:
            return f"{words} (not served: +{self.time_us // 1_000_000} s)"
        if self.state is PenaltyState.PENDING:
            return f"{words} (to serve)"
        if self.state is PenaltyState.SERVED:
            return f"{words} (served)"
        return words


_UNITS = {"time_penalty": "s", "lap_penalty": "laps", "position_penalty": "places"}


class Status(StrEnum):
    """A car's status in the classification."""

    RUNNING = "running"
    DNS = "DNS"
    DNF = "DNF"
    DSQ = "DSQ"
    EXCL = "EXCL"


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
    # a passing timed this much ahead of its arrival (or before the start, arriving this
    # long after it) is held as suspect and alerted, never scored
    suspect_margin_us: int = 600_000_000
    rules: RuleSet = IMG


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
    # endurance: the driver in the car and the current stint. The stint clock showed
    # ``stint_drive_us`` at ``stint_clock_since_us``; while RUNNING the browser adds the
    # time since then (from server timestamps), otherwise the value stands.
    driver: str | None = None
    stint_started_us: int | None = None
    stint_clock: StintClock = StintClock.NONE
    stint_drive_us: int = 0
    stint_clock_since_us: int | None = None
    pit_stops: int = 0
    mandatory_served: bool = False
    in_window: bool = False  # the car's latest stop began inside the pit window
    penalties_proposed: tuple[ProposedPenalty, ...] = ()
    pit_in_us: int | None = None  # in the pit lane since (None: not in it, or not seen)
    last_pit_lane_us: int | None = None  # pit-in to pit-out of the latest timed stop
    # sector loops: the last lap's sector times and the car's best of each sector
    last_sectors_us: tuple[int, ...] = ()
    best_sectors_us: tuple[int | None, ...] = ()
    # the stewards' decisions on this car (applied, pending, served, converted) and the
    # status they leave it in: the classification already includes them
    penalties: tuple[Penalty, ...] = ()
    status: Status = Status.RUNNING

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
    # race clock stopped by race control: ``ends_at_us`` counts the closed pauses only, so
    # while paused the time left is ``ends_at_us - clock_paused_since_us``
    clock_paused_since_us: int | None = None
    clock_paused_us: int = 0  # total of the closed pauses
    local_yellows: tuple[str, ...] = ()  # stations showing a local yellow
    pit_window_opens_us: int | None = None  # races with mandatory stops
    pit_window_closes_us: int | None = None
    sprint_checkered_at_us: int | None = None  # SprintDuro: the sprint's flag


@dataclass(frozen=True, slots=True)
class LapRecord:
    """One completed lap of one car (lap 0, the car's first crossing, is not a lap)."""

    lap: int
    lap_time_us: int
    at_us: int  # the start/finish crossing that completed it
    # most severe flag shown while the lap was driven: RED, YELLOW (full-course) or GREEN
    flag: Flag
    pitted: bool = False  # a pit loop was passed during the lap
    # time of each sector (sector loop 1, 2, ... then the line); () without sector loops
    sectors_us: tuple[int, ...] = ()
    voided: bool = False  # race control voided its time (track limits): never a best lap
    void_reason: str = ""  # why race control voided it (as given)


@dataclass(frozen=True, slots=True)
class UnknownTransponder:
    """Passings of a transponder no entry claims, kept so race control can assign it."""

    count: int
    first_seen_us: int
    last_seen_us: int


@dataclass(frozen=True, slots=True)
class RaceControlMessage:
    at_us: int  # when it was posted: the message's key
    text: str
    number: str | None = None
    actor: str = ""
    expires_at_us: int | None = None  # None: until retracted
    edited_at_us: int | None = None

    def shown_at(self, now_us: int | None) -> bool:
        """Whether a page shows it at ``now_us`` (None: the engine has not ticked yet)."""
        return self.expires_at_us is None or now_us is None or now_us < self.expires_at_us


@dataclass(frozen=True, slots=True)
class DriverTime:
    """One driver of a car: total drive time, stints, and when they may drive again."""

    name: str
    drive_us: int  # closed stints, plus the current one up to the time asked
    stints: int
    rest_until_us: int | None  # None: has not finished a stint
    in_car: bool
    flagged: bool  # licence or medical missing or expired


@dataclass(frozen=True, slots=True)
class StintInfo:
    index: int
    driver: str | None
    start_us: int
    end_us: int | None  # None: still driving
    drive_us: int  # up to its end, or up to the time asked


@dataclass(frozen=True, slots=True)
class PitStopInfo:
    index: int
    pit_in_us: int | None  # None: the pit-in was not seen
    pit_out_us: int | None  # None: still in the pits (or the pit-out was not seen)
    duration_us: int | None
    driver_out: str | None
    driver_in: str | None  # the driver after the stop (the same when nobody changed)
    changed: bool
    solo_exit: bool
    counts: bool  # valid as a mandatory stop
    in_window: bool
    note: str | None  # why it does not count ("outside_window", "too_short", ...)


@dataclass(frozen=True, slots=True)
class CarDetail:
    """Everything the control page shows about one car's drivers and stops."""

    number: str
    team: str
    class_name: str
    state: CarState
    driver: str | None
    pending_driver: str | None  # a change confirmed on track, applied at the next stop
    drivers: tuple[DriverTime, ...]
    stints: tuple[StintInfo, ...]
    stops: tuple[PitStopInfo, ...]
    mandatory_required: int
    mandatory_served: int  # valid stops so far
    penalties_proposed: tuple[ProposedPenalty, ...]
