"""The server side of one T&S connection, without I/O: a message in, what to do out.

Strategy: ``ExchangeSession.handle`` takes one received message and returns a
``Reaction``: the messages to send back and the detections to emit. The asyncio server
delivers the detections first and only then writes the replies, so an ``AckStore`` or
``AckPassing`` is never sent for a passing we have not handed over: T&S sends an
unacknowledged message again (every 20 s in the log), which makes the acknowledgement
our delivery guarantee. Those resends, and the same passings sent again on a new
connection, are dropped by ``RecentKeys``, a bounded memory of recent records shared by
every session of a server. A record with a bad checksum is counted and skipped, but its
message is still acknowledged: TCP does not corrupt bytes, so the same bad record would
come back with every resend and block everything queued behind it.

The replies follow the log: the first Pong of a connection gets ``AckPong`` (with our
protocol version), ``GetLocations`` and ``GetInfo``; later Pongs a bare ``AckPong``;
Store, Passing and Marker the matching ack echoing the message number. ``ping()`` is the
keep-alive the server sends every 10 s; each location of the client answers ``AckPing``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from timing_adapters.adapter import Detection

from .chips import ChipRecord
from .messages import (
    AckGetInfo,
    AckMarker,
    AckPassing,
    AckPing,
    AckPong,
    AckStore,
    BadMessage,
    GetInfo,
    GetLocations,
    Marker,
    Message,
    Passing,
    Ping,
    Pong,
    Received,
    Store,
)
from .passings import PassingRecord
from .timeofday import US_PER_DAY

DEFAULT_SERVER_NAME = "racecontrol"
PROTOCOL_VERSION = "Version2.1"
"""Sent in the first AckPong; see docs/protocols/mylaps-ts.md for what it may change."""


class RecentKeys:
    """A bounded set that forgets its oldest keys first."""

    def __init__(self, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._keys: OrderedDict[Hashable, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: Hashable) -> bool:
        """Remember ``key``; False if it was already known."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self.capacity:
            self._keys.popitem(last=False)
        return True


@dataclass(frozen=True, slots=True)
class Reaction:
    """What the server does about one received message."""

    replies: tuple[Message, ...] = ()
    detections: tuple[Detection, ...] = ()
    keepalive: bool = False  # the client showed it is alive (Pong, Ping, AckPing)


class ExchangeSession:
    """One client connection's protocol state and counters."""

    def __init__(
        self,
        server_name: str = DEFAULT_SERVER_NAME,
        *,
        version: str | None = PROTOCOL_VERSION,
        recent: RecentKeys | None = None,
    ) -> None:
        self.server_name = server_name
        self.version = version
        self.recent = recent if recent is not None else RecentKeys()
        self.greeted = False
        self.locations: dict[str, tuple[str, ...]] = {}  # name -> last AckGetInfo fields
        self.messages = 0
        self.bad_messages = 0
        self.records = 0  # passing records accepted (V1 and V2), duplicates included
        self.rejected_records = 0
        self.duplicates = 0
        self.detections = 0

    def ping(self) -> Ping:
        return Ping(self.server_name)

    def handle(self, message: Received) -> Reaction:
        if isinstance(message, BadMessage):
            self.bad_messages += 1
            return Reaction()
        self.messages += 1
        name = self.server_name
        match message:
            case Pong():
                self._location(message.source)
                if self.greeted:
                    return Reaction((AckPong(name),), keepalive=True)
                self.greeted = True
                hello = AckPong(name, () if self.version is None else (self.version,))
                return Reaction((hello, GetLocations(name), GetInfo(name)), keepalive=True)
            case Ping():
                self._location(message.source)
                return Reaction((AckPing(name),), keepalive=True)
            case AckPing():
                self._location(message.source)
                return Reaction(keepalive=True)
            case GetLocations(locations=names) if names:
                for location in names:
                    self._location(location)
            case AckGetInfo():
                self.locations[message.source] = message.fields
            case Store():
                found = self._passings(message.source, message.records, len(message.rejected))
                return Reaction((AckStore(name, message.message_number),), found)
            case Passing():
                found = self._passings(message.source, message.passings, len(message.rejected))
                return Reaction((AckPassing(name, message.message_number),), found)
            case Marker():
                self._location(message.source)
                return Reaction((AckMarker(name, message.message_number),))
        return Reaction()

    def _location(self, name: str) -> None:
        self.locations.setdefault(name, ())

    def _passings(
        self, source: str, records: Sequence[ChipRecord | PassingRecord], rejected: int
    ) -> tuple[Detection, ...]:
        self._location(source)
        self.records += len(records)
        self.rejected_records += rejected
        found: list[Detection] = []
        # T&S sends what it has stored (a backlog on connect, resends) in one message: its
        # clock stood at least at the newest passing in it when it sent it, so that is the
        # reference the session clock is learned from, and the older passings are placed at
        # their own time, not all at the message's arrival
        # (records with a date and records without one are on two different clocks)
        newest: dict[bool, int] = {}
        for record in records:
            dated = record.time_us >= US_PER_DAY
            newest[dated] = max(newest.get(dated, record.time_us), record.time_us)
        for record in records:
            # The record itself is the key: a resent passing is equal in every column
            # (sequence number and date included), a new one differs in at least one.
            if not self.recent.add((source, record)):
                self.duplicates += 1
                continue
            found.append(
                Detection(
                    source,
                    record.chip,
                    record.time_us,
                    passing_number=None,
                    loop=source,
                    relative_clock=True,
                    decoder_now_us=newest[record.time_us >= US_PER_DAY],
                )
            )
        self.detections += len(found)
        return tuple(found)
