"""MyLaps Timing & Scoring TCP exchange protocol: T&S pushes passings to our listener.

Strategy: no I/O in the codec. ``MessageFramer`` turns bytes into typed messages (or
counted ``BadMessage``s), ``encode`` turns messages into bytes, ``ExchangeSession`` decides
the replies and detections for one connection, and ``server.MyLapsExchangeServer`` is the
thin asyncio listener around them. Notes on the protocol: docs/protocols/mylaps-ts.md.
"""

from .chips import (
    CHIP_RECORD_LENGTH,
    BadRecord,
    ChipRecord,
    RecordError,
    chip_checksum,
    encode_chip_record,
    parse_chip_record,
)
from .codec import MAX_MESSAGE_SIZE, MessageFramer, encode, parse_message
from .messages import (
    AckAuth,
    AckGetInfo,
    AckMarker,
    AckPassing,
    AckPing,
    AckPong,
    AckStore,
    BadMessage,
    BadMessageReason,
    GetInfo,
    GetLocations,
    Marker,
    Message,
    Passing,
    Ping,
    Pong,
    Received,
    Store,
    UnknownMessage,
)
from .passings import PassingRecord, encode_passing_record, make_passing, parse_passing_record
from .protocol import (
    DEFAULT_SERVER_NAME,
    PROTOCOL_VERSION,
    ExchangeSession,
    Reaction,
    RecentKeys,
)

__all__ = [
    "CHIP_RECORD_LENGTH",
    "DEFAULT_SERVER_NAME",
    "MAX_MESSAGE_SIZE",
    "PROTOCOL_VERSION",
    "AckAuth",
    "AckGetInfo",
    "AckMarker",
    "AckPassing",
    "AckPing",
    "AckPong",
    "AckStore",
    "BadMessage",
    "BadMessageReason",
    "BadRecord",
    "ChipRecord",
    "ExchangeSession",
    "GetInfo",
    "GetLocations",
    "Marker",
    "Message",
    "MessageFramer",
    "Passing",
    "PassingRecord",
    "Ping",
    "Pong",
    "Reaction",
    "Received",
    "RecentKeys",
    "RecordError",
    "Store",
    "UnknownMessage",
    "chip_checksum",
    "encode",
    "encode_chip_record",
    "encode_passing_record",
    "make_passing",
    "parse_chip_record",
    "parse_message",
    "parse_passing_record",
]
