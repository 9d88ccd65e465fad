"""Input events (facts and commands that change race state) and outbound events.

Strategy: input events are what the journal stores; the engine's state is a pure
function of the sequence of input events, so every field needed to re-apply an event
is inside it, with its time. Times are integer microseconds in the session time base
(the decoder's clock as it comes; flags are stamped by the server clock, which is kept
in the same base). ``to_record`` / ``from_record`` give the journal a JSON-safe dict.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any


class Flag(StrEnum):
    NONE = "none"  # session not started
    GREEN = "green"
    YELLOW = "yellow"  # full-course yellow
    RED = "red"
    CHECKERED = "checkered"


class LoopRole(StrEnum):
    START_FINISH = "start_finish"
    PIT_IN = "pit_in"
    PIT_OUT = "pit_out"
    SECTOR = "sector"


class SessionKind(StrEnum):
    PRACTICE = "practice"
    QUALIFYING = "qualifying"
    RACE = "race"
    SPRINTDURO = "sprintduro"


# --- input events (journaled) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PassingDetected:
    """A transponder crossed a timing loop (after ingest resolved the decoder's loop)."""

    at_us: int
    transponder: str
    decoder_id: str
    passing_number: int | None = None
    loop: LoopRole = LoopRole.START_FINISH


@dataclass(frozen=True, slots=True)
class FlagChanged:
    """Race control showed a flag; GREEN the first time starts the session clock."""

    at_us: int
    flag: Flag


InputEvent = PassingDetected | FlagChanged

_INPUT_TYPES: dict[str, type[InputEvent]] = {
    cls.__name__: cls for cls in (PassingDetected, FlagChanged)
}


def to_record(event: InputEvent) -> dict[str, Any]:
    """A JSON-safe dict with a ``type`` key, for the journal."""
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
    known = {f.name for f in fields(cls)}
    unexpected = set(payload) - known
    if unexpected:
        raise ValueError(f"{name}: unexpected fields {sorted(unexpected)}")
    if cls is PassingDetected:
        payload["loop"] = LoopRole(payload.get("loop", LoopRole.START_FINISH))
    elif cls is FlagChanged:
        payload["flag"] = Flag(payload["flag"])
    return cls(**payload)
