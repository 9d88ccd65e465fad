"""Input events (facts and commands that change race state) and outbound events.

Strategy: input events are what the journal stores; the engine's state is a pure
function of the sequence of input events, so every field needed to re-apply an event
is inside it, with its time. Times are integer microseconds in the session time base
(the decoder's clock as it comes; flags are stamped by the server clock, which is kept
in the same base). ``to_record`` / ``from_record`` give the journal a JSON-safe dict;
fields added later have defaults, so older journals still read. Race control's inputs
carry who made them (``actor``) and corrections why (``reason``): the journal itself is
the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any


class Flag(StrEnum):
    NONE = "none"  # session not started
    GREEN = "green"
    YELLOW = "yellow"  # full-course yellow
    CODE_60 = "code_60"  # full-course caution at 60 km/h (series that use it)
    SAFETY_CAR = "safety_car"
    RED = "red"
    CHECKERED = "checkered"
    LOCAL_YELLOW = "local_yellow"  # at one corner station; the session flag stays


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class LoopRole(StrEnum):
    START_FINISH = "start_finish"
    PIT_IN = "pit_in"
    PIT_OUT = "pit_out"
    SECTOR = "sector"


class Decision(StrEnum):
    """What the chief steward decides on an incident."""

    NO_ACTION = "no_action"
    WARNING = "warning"
    DRIVE_THROUGH = "drive_through"
    STOP_AND_GO = "stop_and_go"
    TIME_PENALTY = "time_penalty"  # value: seconds added to the total time
    LAP_PENALTY = "lap_penalty"  # value: laps removed
    POSITION_PENALTY = "position_penalty"  # value: places dropped after ordering
    EXCLUSION = "exclusion"  # from the session: EXCL, at the bottom
    DISQUALIFICATION = "disqualification"  # DSQ, at the bottom


class SessionKind(StrEnum):
    PRACTICE = "practice"
    QUALIFYING = "qualifying"
    RACE = "race"
    SPRINTDURO = "sprintduro"


@dataclass(frozen=True, slots=True)
class Entry:
    """A car entered in the event. Numbers are strings: "07" and "7" are different cars."""

    number: str
    class_name: str
    team: str
    drivers: tuple[str, ...] = ()
    transponders: tuple[str, ...] = ()
    # drivers whose licence or medical is missing or expired on the event date: race
    # control sees the flag, and a driver change putting one of them in is refused
    flagged_drivers: tuple[str, ...] = ()


# --- input events (journaled) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PassingDetected:
    """A transponder crossed a timing loop (after ingest resolved the decoder's loop)."""

    at_us: int
    transponder: str
    decoder_id: str
    passing_number: int | None = None
    loop: LoopRole = LoopRole.START_FINISH
    # the decoder's own time; ``at_us`` is it mapped to the session clock (kept so the
    # mapping survives a restart and every crossing can be explained)
    decoder_time_us: int | None = None
    sector: int | None = None  # which sector loop, for LoopRole.SECTOR
    # when it reached us, on the session clock: a passing timed far from it is suspect
    received_at_us: int | None = None
    # the decoder's numbering epoch (one more each time it restarted its passing numbers):
    # journaled, so a restarted server tells a repeat from a renumbered passing
    epoch: int = 0
    # the lap this crossing completed as another scoring system counted it (an RMonitor
    # feed joined mid-race: its ``$G`` laps); only a car's first crossing uses it, so the
    # laps driven before we joined count, without a lap time
    lap: int | None = None


@dataclass(frozen=True, slots=True)
class FlagChanged:
    """Race control showed a flag; GREEN the first time starts the session clock.

    With a ``station``, the flag is shown at that corner station only: LOCAL_YELLOW
    there, and GREEN to clear it; the session flag does not change.
    """

    at_us: int
    flag: Flag
    station: str | None = None


@dataclass(frozen=True, slots=True)
class PitInMarked:
    """A pit marshal saw the car enter the pit lane (tracks without pit loops)."""

    number: str
    at_us: int
    actor: str


@dataclass(frozen=True, slots=True)
class PitOutMarked:
    """A pit marshal saw the car leave the pit lane (tracks without pit loops)."""

    number: str
    at_us: int
    actor: str


@dataclass(frozen=True, slots=True)
class DriverChangeConfirmed:
    """The pit marshal confirmed ``driver_in`` got in; ``override`` waives the rest rule."""

    number: str
    driver_in: str
    at_us: int
    actor: str
    override: bool = False


@dataclass(frozen=True, slots=True)
class SoloExitConfirmed:
    """The pit marshal saw the solo driver fully out of the car, both feet down."""

    number: str
    at_us: int
    actor: str


@dataclass(frozen=True, slots=True)
class CarRetired:
    """Race control declared the car retired (DNF)."""

    number: str
    at_us: int
    reason: str
    actor: str


@dataclass(frozen=True, slots=True)
class RaceControlMessagePosted:
    """A message to every page; it is known by ``at_us`` (when it was posted) and leaves
    the pages at ``expires_at_us`` (None: it stays until retracted)."""

    at_us: int
    text: str
    number: str | None = None  # the car it is about, if any
    actor: str = ""
    expires_at_us: int | None = None


@dataclass(frozen=True, slots=True)
class RaceControlMessageEdited:
    """Race control rewrote the message posted at ``posted_at_us`` (text and expiry)."""

    posted_at_us: int
    at_us: int
    text: str
    actor: str
    expires_at_us: int | None = None


@dataclass(frozen=True, slots=True)
class RaceControlMessageRetracted:
    """Race control withdrew the message posted at ``posted_at_us``: no page shows it."""

    posted_at_us: int
    at_us: int
    actor: str


@dataclass(frozen=True, slots=True)
class AlertAcknowledged:
    alert_id: str
    at_us: int
    actor: str


@dataclass(frozen=True, slots=True)
class ExternalAlertRaised:
    """An alert from outside the engine (decoder lost or silent), journaled like the rest."""

    kind: str
    text: str
    at_us: int
    number: str | None = None
    severity: Severity = Severity.WARNING


@dataclass(frozen=True, slots=True)
class SessionClockPaused:
    """Race control stopped the race clock (only under red, if the rule set allows)."""

    at_us: int
    actor: str


@dataclass(frozen=True, slots=True)
class SessionClockResumed:
    at_us: int
    actor: str


# --- timing corrections (journaled; the engine rebuilds its state from its own log) ----


@dataclass(frozen=True, slots=True)
class PassingAdded:
    """A passing the decoder missed; ``at_us`` is when the car crossed."""

    number: str
    at_us: int
    reason: str
    actor: str
    loop: LoopRole = LoopRole.START_FINISH


@dataclass(frozen=True, slots=True)
class PassingDeleted:
    """The car's passing at ``crossing_at_us`` was false (double read, pit-lane crossing).

    ``at_us`` is when the correction was made; ``loop`` None deletes any loop's passing.
    """

    number: str
    crossing_at_us: int
    at_us: int
    reason: str
    actor: str
    loop: LoopRole | None = None


@dataclass(frozen=True, slots=True)
class TransponderAssigned:
    """``transponder`` belongs to car ``number``: for the whole session when ``from_us`` is
    None (its earlier passings count retroactively), else for passings from ``from_us``
    on (a transponder swap)."""

    transponder: str
    number: str
    at_us: int
    reason: str
    actor: str
    from_us: int | None = None


# --- the stewards (journaled; see stewards.py) ------------------------------------


@dataclass(frozen=True, slots=True)
class IncidentReported:
    """Race control, a corner station or a steward reported an incident: when it happened
    (``occurred``, "HH:MM:SS" session or race time as reported), where, the cars by number,
    what happened, and whether cars touched (``contact``: sends them to the back of the
    next grid when it happens in practice or qualifying)."""

    at_us: int
    occurred: str
    place: str
    cars: tuple[str, ...]
    description: str
    contact: bool
    actor: str = ""


@dataclass(frozen=True, slots=True)
class IncidentDecided:
    """The chief steward's decision on incident ``incident_id`` (its ``value``: seconds,
    laps or places); ``cars`` it applies to (() : every car of the incident). ``amend``
    replaces an earlier decision (the reason says why); a second decision without it is
    refused."""

    incident_id: str
    decision: Decision
    at_us: int
    reason: str
    actor: str = ""
    value: int | None = None
    cars: tuple[str, ...] = ()
    amend: bool = False


@dataclass(frozen=True, slots=True)
class LapVoided:
    """Race control voided lap ``lap`` of car ``number`` (track limits): the lap still
    counts, but never as the car's best lap."""

    number: str
    lap: int
    at_us: int
    reason: str
    actor: str = ""


@dataclass(frozen=True, slots=True)
class CorrectionReverted:
    """Race control undid a correction: the latest one of kind ``kind`` (the correction's
    class name) for car ``number`` made at ``correction_at_us`` (for a ``PassingAdded``,
    the crossing it added) no longer counts; the state is rebuilt without it."""

    kind: str
    number: str
    correction_at_us: int
    at_us: int
    actor: str


@dataclass(frozen=True, slots=True)
class FlagReverted:
    """Race control undid the session flag shown at ``flag_at_us`` (the latest one,
    within ``FLAG_UNDO_US`` of it): the state is rebuilt as if it had never been shown."""

    flag_at_us: int
    at_us: int
    actor: str


FLAG_UNDO_US = 10_000_000  # a flag can be undone within 10 s of showing it


# --- the entry list (journaled: a replay never reads the entry tables) ---------------


@dataclass(frozen=True, slots=True)
class EntryListSet:
    """The entry list the session starts with, as it was when the session was created
    (licences judged on the event date). Its transponders count for the whole session;
    it is the first event of a journal (a replay puts it first in older journals)."""

    at_us: int
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class EntryChanged:
    """Car ``entry.number`` was entered, or its class, team, drivers or transponders
    changed, from ``at_us`` on: a transponder it gained counts for it, one it lost for
    nobody, from then on (earlier passings keep the car they were scored for)."""

    at_us: int
    entry: Entry
    actor: str = ""


InputEvent = (
    PassingDetected
    | FlagChanged
    | PitInMarked
    | PitOutMarked
    | DriverChangeConfirmed
    | SoloExitConfirmed
    | CarRetired
    | RaceControlMessagePosted
    | RaceControlMessageEdited
    | RaceControlMessageRetracted
    | AlertAcknowledged
    | ExternalAlertRaised
    | SessionClockPaused
    | SessionClockResumed
    | PassingAdded
    | PassingDeleted
    | TransponderAssigned
    | CorrectionReverted
    | FlagReverted
    | EntryListSet
    | EntryChanged
    | IncidentReported
    | IncidentDecided
    | LapVoided
)
EntryEvent = EntryListSet | EntryChanged
Correction = PassingAdded | PassingDeleted | TransponderAssigned

_INPUT_TYPES: dict[str, type[InputEvent]] = {
    cls.__name__: cls
    for cls in (
        PassingDetected,
        FlagChanged,
        PitInMarked,
        PitOutMarked,
        DriverChangeConfirmed,
        SoloExitConfirmed,
        CarRetired,
        RaceControlMessagePosted,
        RaceControlMessageEdited,
        RaceControlMessageRetracted,
        AlertAcknowledged,
        ExternalAlertRaised,
        SessionClockPaused,
        SessionClockResumed,
        PassingAdded,
        PassingDeleted,
        TransponderAssigned,
        CorrectionReverted,
        FlagReverted,
        EntryListSet,
        EntryChanged,
        IncidentReported,
        IncidentDecided,
        LapVoided,
    )
}
# enum-valued fields, by name (the same name has the same enum in every event)
_ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "loop": LoopRole,
    "flag": Flag,
    "severity": Severity,
    "decision": Decision,
}


_ENUM_MEMBERS: dict[str, dict[str, StrEnum]] = {
    name: {member.value: member for member in enum} for name, enum in _ENUM_FIELDS.items()
}
# field names by event type; what to_record and from_record look at for every event
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_SCALARS = (int, str, float, bool, type(None))


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def to_record(event: InputEvent) -> dict[str, Any]:
    """A JSON-safe dict with a ``type`` key, for the journal."""
    data = {name: getattr(event, name) for name in _field_names(type(event))}
    # a passing or a flag is flat (``asdict``'s deep copy would cost a burst a third of
    # its time); an entry list or a correction holds dataclasses: ``asdict`` for those
    if not all(isinstance(value, _SCALARS) for value in data.values()):
        data = asdict(event)
    data["type"] = type(event).__name__
    return data


def from_record(data: dict[str, Any]) -> InputEvent:
    """Inverse of :func:`to_record`; raises ``ValueError`` on an unknown type or field."""
    payload = dict(data)
    name = payload.pop("type", None)
    cls = _INPUT_TYPES.get(str(name))
    if cls is None:
        raise ValueError(f"unknown journal event type {name!r}")
    unexpected = set(payload).difference(_field_names(cls))
    if unexpected:
        raise ValueError(f"{name}: unexpected fields {sorted(unexpected)}")
    for field_name, members in _ENUM_MEMBERS.items():
        value = payload.get(field_name)
        if value is not None:
            # a dict lookup: ``Enum(value)`` costs a restart's replay seconds; an unknown
            # value still raises ValueError (from the enum itself)
            member = members.get(value) if isinstance(value, str) else None
            payload[field_name] = member if member is not None else _ENUM_FIELDS[field_name](value)
    if "entries" in payload:
        payload["entries"] = tuple(_entry(item) for item in payload["entries"])
    if "entry" in payload:
        payload["entry"] = _entry(payload["entry"])
    if "cars" in payload:
        payload["cars"] = tuple(str(number) for number in payload["cars"])
    return cls(**payload)


def _entry(data: dict[str, Any]) -> Entry:
    """An ``Entry`` from its record (JSON gives lists where the dataclass has tuples)."""
    values = dict(data)
    for name in ("drivers", "transponders", "flagged_drivers"):
        values[name] = tuple(values.get(name, ()))
    return Entry(**values)


def entry_list_first(events: Sequence[InputEvent]) -> list[InputEvent]:
    """``events`` in the order a replay applies them: the first ``EntryListSet`` before
    everything. A new journal starts with it already; a journal written before entries
    were journaled got it appended once (by the replay), and gets the same order again
    on every later replay."""
    first = next((i for i, e in enumerate(events) if isinstance(e, EntryListSet)), None)
    if first is None or first == 0:
        return list(events)
    return [events[first], *events[:first], *events[first + 1 :]]
