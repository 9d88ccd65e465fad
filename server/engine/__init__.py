"""The pure race-state engine: input events in, outbound events and standings out.

Strategy: re-export the public names so callers import from ``server.engine`` only;
the modules behind them hold one concern each (laps, positions, flags, finish, states).
"""

from server.engine.events import (
    Flag,
    FlagChanged,
    InputEvent,
    LoopRole,
    PassingDetected,
    SessionKind,
    from_record,
    to_record,
)
from server.engine.model import (
    CarState,
    Entry,
    LapRecord,
    SessionConfig,
    SessionStatus,
    StandingRow,
    UnknownTransponder,
)
from server.engine.outbound import (
    CarFinished,
    CarStateChanged,
    CheckeredFlagTaken,
    ClockExpired,
    FlagRejected,
    FlagShown,
    LapCompleted,
    OutEvent,
    PassingRejected,
    RejectReason,
    SessionFinished,
    StandingsChanged,
    UnknownTransponderSeen,
)
from server.engine.race import RaceEngine

__all__ = [
    "CarFinished",
    "CarState",
    "CarStateChanged",
    "CheckeredFlagTaken",
    "ClockExpired",
    "Entry",
    "Flag",
    "FlagChanged",
    "FlagRejected",
    "FlagShown",
    "InputEvent",
    "LapCompleted",
    "LapRecord",
    "LoopRole",
    "OutEvent",
    "PassingDetected",
    "PassingRejected",
    "RaceEngine",
    "RejectReason",
    "SessionConfig",
    "SessionFinished",
    "SessionKind",
    "SessionStatus",
    "StandingRow",
    "StandingsChanged",
    "UnknownTransponder",
    "UnknownTransponderSeen",
    "from_record",
    "to_record",
]
