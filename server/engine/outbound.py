"""Outbound events: the facts the engine reports from ``apply()`` and ``tick()``.

Strategy: frozen dataclasses compared by value, each stamped with the time the fact
happened (a crossing, a flag, the scheduled end), never the time it was noticed, so a
replay reports the same facts. ``OutEvent`` is their union; the hub matches on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from server.engine.events import Flag
from server.engine.model import CarState


class RejectReason(StrEnum):
    DOUBLE_READ = "double_read"  # closer than min_lap_us to the car's previous crossing
    OUT_OF_ORDER = "out_of_order"  # earlier than the car's last accepted passing
    UNKNOWN_TRANSPONDER = "unknown_transponder"  # no entry claims it
    NOT_STARTED = "not_started"  # before the session went green
    FINISHED = "finished"  # the car (or the session) is already classified


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
    reason: str  # "already_shown", "invalid_transition" or "out_of_order"
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
)
