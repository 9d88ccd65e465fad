"""Typed messages of the MyLaps Timing & Scoring TCP exchange protocol.

Strategy: on the wire every message is ``Source@Function@field@...@$``. ``source`` is who
speaks: a T&S location name ("Start", "5Km"), the T&S application ("Toolkit") or the
server's name. One frozen dataclass per function we understand, ``UnknownMessage`` for
the others (kept, never fatal) and ``BadMessage`` for bytes that are not a message at all.
Which side sends what, as the racemap/sporttijden log shows it::

    T&S -> server             server -> T&S
    Pong (hello, keep-alive)  AckPong [Version2.1], then GetLocations and GetInfo
    AckPing (one a location)  Ping (every 10 s)
    GetLocations (answer)     AckStore / AckPassing / AckMarker (echo the message number)
    AckGetInfo, AckAuth
    Store (V1) / Passing (V2) / Marker
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .chips import BadRecord, ChipRecord
from .passings import PassingRecord


class BadMessageReason(StrEnum):
    """Why bytes between two ``$`` were not a message (the ``reason`` of a BadMessage)."""

    OVERSIZE = "oversize"
    NO_FUNCTION = "no function"
    BAD_FUNCTION = "bad function name"
    CONTROL_CHARACTERS = "control characters"
    BAD_NUMBER = "bad message number"


@dataclass(frozen=True, slots=True)
class BadMessage:
    """Not a message: counted, logged, skipped; the stream resyncs at the next ``$``."""

    reason: BadMessageReason
    data: bytes  # the message (or its first bytes when oversize), for the log


@dataclass(frozen=True, slots=True)
class Ping:
    """Keep-alive request; the server sends it, every location of the client answers."""

    source: str


@dataclass(frozen=True, slots=True)
class AckPing:
    source: str


@dataclass(frozen=True, slots=True)
class Pong:
    """T&S says hello (first message of a connection) and keeps the link alive."""

    source: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AckPong:
    """Answer to Pong; ``fields`` may carry the protocol version (e.g. "Version2.1")."""

    source: str
    fields: tuple[str, ...] = ()

    @property
    def version(self) -> str | None:
        return next((f for f in self.fields if f.startswith("Version")), None)


@dataclass(frozen=True, slots=True)
class GetLocations:
    """Request (no locations, from the server) or answer (``ln=`` entries, from T&S)."""

    source: str
    locations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GetInfo:
    """Request for the devices of a location (or of every location when None)."""

    source: str
    location: str | None = None


@dataclass(frozen=True, slots=True)
class AckGetInfo:
    """Device information of one location; V1: device name, "Unknown", computer name."""

    source: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AckAuth:
    """Credentials sent by T&S; never shown in a repr or a log."""

    source: str
    fields: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class Store:
    """V1 passings of one location; answered by ``AckStore`` with the same number."""

    source: str
    records: tuple[ChipRecord, ...]
    message_number: int
    rejected: tuple[BadRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class AckStore:
    source: str
    message_number: int


@dataclass(frozen=True, slots=True)
class Passing:
    """V2 passings of one location; answered by ``AckPassing`` with the same number."""

    source: str
    passings: tuple[PassingRecord, ...]
    message_number: int
    rejected: tuple[BadRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class AckPassing:
    source: str
    message_number: int


@dataclass(frozen=True, slots=True)
class Marker:
    """Time markers (gun shots); entries are kept as text: ``time|type|name`` in V1."""

    source: str
    entries: tuple[str, ...]
    message_number: int


@dataclass(frozen=True, slots=True)
class AckMarker:
    source: str
    message_number: int


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A well-formed message whose function we do not interpret."""

    source: str
    function: str
    fields: tuple[str, ...] = ()


Message = (
    Ping
    | AckPing
    | Pong
    | AckPong
    | GetLocations
    | GetInfo
    | AckGetInfo
    | AckAuth
    | Store
    | AckStore
    | Passing
    | AckPassing
    | Marker
    | AckMarker
    | UnknownMessage
)
Received = Message | BadMessage
