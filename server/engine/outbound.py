"""Outbound events: the facts the engine reports from ``apply()`` and ``tick()``.

Strategy: frozen dataclasses compared by value, each stamped with the time the fact
happened (a crossing, a flag, the scheduled end), never the time it was noticed, so a
replay reports the same facts. ``OutEvent`` is their union; the hub matches on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from server.engine.alerts import Alert
from server.engine.events import Flag
from server.engine.model import CarState, RaceControlMessage
from server.engine.refusals import Refusal


class RejectReason(StrEnum):
    DOUBLE_READ = "double_read"  # closer than min_lap_us to the car's previous crossing
    OUT_OF_ORDER = "out_of_order"  # earlier than the car's last accepted passing
    UNKNOWN_TRANSPONDER = "unknown_transponder"  # no entry claims it
    NOT_STARTED = "not_started"  # before the session went green
    FINISHED = "finished"  # the car (or the session) is already classified
    RETIRED = "retired"  # race control retired the car
    SUSPECT_TIME = "suspect_time"  # timed far from when it arrived: a decoder clock is wrong


@dataclass(frozen=True, slots=True)
class LapCompleted:
    number: str
    lap: int
    lap_time_us: int
    at_us: int
    is_best: bool  # a new personal best
    flag: Flag = Flag.GREEN  # most severe flag during the lap (YELLOW = full-course yellow)


@dataclass(frozen=True, slots=True)
class PassingRejected:
    transponder: str
    at_us: int
    reason: RejectReason
    number: str | None = None


@dataclass(frozen=True, slots=True)
class UnknownTransponderSeen:
    transponder: str
    at_us: int
    count: int  # passings of this transponder so far


@dataclass(frozen=True, slots=True)
class StandingsChanged:
    """Order, laps or car states changed: call ``standings()`` for the new rows."""

    at_us: int


@dataclass(frozen=True, slots=True)
class FlagShown:
    flag: Flag
    at_us: int


@dataclass(frozen=True, slots=True)
class FlagRejected:
    flag: Flag
    at_us: int
    reason: Refusal  # ALREADY_SHOWN, INVALID_TRANSITION, NOT_IN_RULES or OUT_OF_ORDER
    current: Flag


@dataclass(frozen=True, slots=True)
class ClockExpired:
    at_us: int  # the scheduled end (green + length)


@dataclass(frozen=True, slots=True)
class CheckeredFlagTaken:
    number: str  # the leader that took it at the first crossing after the clock expired
    at_us: int


@dataclass(frozen=True, slots=True)
class CarFinished:
    number: str
    position: int
    laps: int
    at_us: int  # the crossing it was classified at


@dataclass(frozen=True, slots=True)
class SessionFinished:
    at_us: int


@dataclass(frozen=True, slots=True)
class CarStateChanged:
    number: str
    state: CarState
    at_us: int


@dataclass(frozen=True, slots=True)
class LocalFlagShown:
    station: str
    flag: Flag  # LOCAL_YELLOW, or GREEN when it is cleared
    at_us: int


@dataclass(frozen=True, slots=True)
class ClockPaused:
    at_us: int


@dataclass(frozen=True, slots=True)
class ClockResumed:
    at_us: int
    ends_at_us: int | None  # the new scheduled end


@dataclass(frozen=True, slots=True)
class CommandRefused:
    """An input event the engine would not apply (nothing changed); ``reason`` says why."""

    command: str  # the input event's type name
    at_us: int
    reason: Refusal
    number: str | None = None


@dataclass(frozen=True, slots=True)
class DriverChangeRefused:
    number: str
    driver_in: str
    at_us: int
    reason: Refusal  # NOT_ON_ROSTER, LICENCE_FLAGGED, REST_NOT_OVER, UNKNOWN_CAR, ...


@dataclass(frozen=True, slots=True)
class DriverChangeRecorded:
    number: str
    driver_out: str | None
    driver_in: str
    at_us: int
    pending: bool  # confirmed on track: applies at the next pit-in
    rest_overridden: bool = False


@dataclass(frozen=True, slots=True)
class SoloExitRecorded:
    number: str
    at_us: int
    pending: bool


@dataclass(frozen=True, slots=True)
class PitStopCompleted:
    number: str
    stop: int  # 1-based
    pit_in_us: int | None
    pit_out_us: int
    duration_us: int | None


@dataclass(frozen=True, slots=True)
class CarRetirementRecorded:
    number: str
    at_us: int


@dataclass(frozen=True, slots=True)
class AlertRaised:
    alert: Alert


@dataclass(frozen=True, slots=True)
class AlertsChanged:
    """The alert list changed (new, acknowledged or withdrawn): call ``alerts()``."""

    at_us: int


@dataclass(frozen=True, slots=True)
class MessagePosted:
    message: RaceControlMessage


@dataclass(frozen=True, slots=True)
class MessageChanged:
    """A race-control message was edited, retracted or reached its expiry."""

    posted_at_us: int
    at_us: int
    shown: bool  # False: no page shows it any more


@dataclass(frozen=True, slots=True)
class SprintCheckeredTaken:
    number: str  # the leader at its first crossing at or after the sprint's end
    at_us: int


@dataclass(frozen=True, slots=True)
class SnapshotTaken:
    """An hourly classification is available from ``snapshots()``."""

    label: str
    at_us: int


@dataclass(frozen=True, slots=True)
class CorrectionApplied:
    """A timing correction was applied and everything recomputed from the log."""

    command: str
    number: str | None
    at_us: int


@dataclass(frozen=True, slots=True)
class IncidentRecorded:
    """An incident was reported; ``incident_id`` is how decisions name it."""

    incident_id: str
    at_us: int
    cars: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DecisionRecorded:
    """The stewards decided (or amended) incident ``incident_id`` for ``cars``."""

    incident_id: str
    decision: str
    value: int | None
    cars: tuple[str, ...]
    at_us: int
    amended: bool = False


@dataclass(frozen=True, slots=True)
class LapVoidRecorded:
    number: str
    lap: int
    at_us: int
    best_lap_us: int | None  # the car's best lap after the void


OutEvent = (
    LapCompleted
    | PassingRejected
    | UnknownTransponderSeen
    | StandingsChanged
    | FlagShown
    | FlagRejected
    | ClockExpired
    | CheckeredFlagTaken
    | CarFinished
    | SessionFinished
    | CarStateChanged
    | LocalFlagShown
    | ClockPaused
    | ClockResumed
    | CommandRefused
    | DriverChangeRefused
    | DriverChangeRecorded
    | SoloExitRecorded
    | PitStopCompleted
    | CarRetirementRecorded
    | AlertRaised
    | AlertsChanged
    | MessagePosted
    | MessageChanged
    | SprintCheckeredTaken
    | SnapshotTaken
    | CorrectionApplied
    | IncidentRecorded
    | DecisionRecorded
    | LapVoidRecorded
)
