"""Typed RMonitor records: what the decoder yields and what the encoder accepts.

Strategy: one frozen dataclass per record type, attributes in wire order, so the layout
table in ``layouts.py`` can map fields to attributes by name. Times are integer
microseconds (the wire carries milliseconds, or whole seconds in ``$F``); dates stay the
strings the scoring system wrote, because their formats differ between records and
vendors ("12 jan 01", "01/27/2009"). Every record keeps the fields it did not expect in
``extra``: the IMSA extension says newer fields may be appended to any record and must be
ignored, so they survive a decode -> encode round trip instead of failing the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Flag(StrEnum):
    """Flag states of ``$F``; on the wire each is padded with spaces to six characters."""

    NONE = ""  # six spaces: before the start, between sessions, sometimes after the finish
    GREEN = "Green"
    YELLOW = "Yellow"
    RED = "Red"
    FINISH = "Finish"


class BadLineReason(StrEnum):
    """Why a line was rejected (the ``reason`` of a ``BadLine``)."""

    NO_START = "no start of record"  # does not begin with "$": the tail of a cut line
    BAD_COMMAND = "bad command"
    BAD_QUOTING = "bad quoting"  # unterminated quote, or text glued after a closing quote
    SPLICED = "spliced"  # a "$" outside quotes: two records run together
    MISSING_FIELDS = "missing fields"  # too few fields for the record: a truncated line
    BAD_FIELD = "bad field"  # a number or time that does not parse
    OVERSIZE = "oversize"


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """``$F``: sent every second: laps to go, time to go, time of day, race time, flag."""

    laps_to_go: int  # 9999 when the session is not limited by laps
    time_to_go_us: int
    time_of_day_us: int
    race_time_us: int
    flag: str  # a ``Flag`` member when known, else the word as sent (stripped)
    extra: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Competitor:
    """``$A``: one competitor, with the transponder (which is not always numeric)."""

    registration: str  # the key every other record uses for this competitor
    number: str
    transponder: str
    first_name: str
    last_name: str
    nationality: str
    class_number: int | None
    extra: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CompetitorExt:
    """``$COMP``: like ``$A`` without the transponder, with an "additional data" field."""

    registration: str
    number: str
    class_number: int | None
    first_name: str
    last_name: str
    nationality: str  # IMSA puts the car status here in races: "", "Retired", "Excluded"
    additional_data: str
    extra: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Run:
    """``$B``: the session ("run"); feeds close a session with number 95."""

    number: int
    description: str
    extra: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ClassInfo:
    """``$C``: a class number and its name."""

    number: int
    description: str
    extra: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Setting:
    """``$E``: a named setting, e.g. TRACKNAME or TRACKLENGTH (miles, as text)."""

    name: str
    value: str
    extra: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RacePosition:
    """``$G``: race position, laps completed and total time of one competitor."""

    position: int
    registration: str
    laps: int | None  # empty before the competitor's first lap
    total_time_us: int | None
    extra: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PracticePosition:
    """``$H``: practice/qualifying position, best lap number and best lap time."""

    position: int
    registration: str
    best_lap: int | None  # 0 (and time 00:59:59.999 or 00:00:00.000) = no lap yet
    best_lap_time_us: int | None
    extra: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Init:
    """``$I``: clear everything shown (a new session or a full refresh follows)."""

    time_of_day_us: int
    date: str
    extra: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Passing:
    """``$J``: a crossing of the main timeline: last lap time and total (race) time."""

    registration: str
    lap_time_us: int  # 0 for the first crossing (no lap completed yet)
    total_time_us: int
    extra: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LineCrossing:
    """``$L`` (IMSA enhanced): a crossing of any timeline, stamped with the time of day."""

    number: str  # the car number, not the registration
    timeline_number: str  # e.g. "T1", "P1": what IMSA's ``$T`` sections refer to
    timeline_name: str  # e.g. "SF", "SFP", "POP"
    date: str  # "MM/DD/YYYY" in the samples
    time_of_day_us: int
    driver_id: int | None = None  # optional: absent from IMSA's sample data
    class_name: str | None = None
    extra: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UnknownRecord:
    """A well-formed line whose command we do not interpret (e.g. Race Monitor's ``$RM..``)."""

    command: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that was rejected; counted, and the stream goes on with the next line."""

    reason: str
    line: bytes


Record = (
    Heartbeat
    | Competitor
    | CompetitorExt
    | Run
    | ClassInfo
    | Setting
    | RacePosition
    | PracticePosition
    | Init
    | Passing
    | LineCrossing
    | UnknownRecord
)
DecodeResult = Record | BadLine
