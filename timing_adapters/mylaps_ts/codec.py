"""Sans-IO codec of the MyLaps T&S exchange protocol: bytes -> messages -> bytes.

Strategy: a message ends at ``$`` and nowhere else; its fields are separated by ``@``.
T&S follows each ``$`` with CR LF, sometimes with pairs of NUL bytes after them (seen in
the racemap/sporttijden log), so CR, LF and NUL before a message are separators, dropped
and not counted. ``MessageFramer`` owns the receive buffer: a message longer than
``max_message_size`` is reported once as oversize and the rest of it is skipped up to the
next ``$`` (counted as junk), so the buffer stays bounded whatever arrives. Bodies are
UTF-8 (Latin-1 when they are not valid UTF-8: decoding never fails). ``parse_message``
never raises: what is not a message is a ``BadMessage``. ``encode`` writes
``Source@Function@fields...@$`` and raises ValueError for a field that would break the
framing (``@``, ``$``, control characters).
"""

from __future__ import annotations

import re

from .chips import BadRecord, ChipRecord, encode_chip_record, parse_chip_record
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
from .passings import PassingRecord, encode_passing_record, parse_passing_record

END = b"$"
SEPARATOR = "@"
MAX_MESSAGE_SIZE = 32_768
"""Largest message accepted; the biggest in the log is 1,224 bytes (30 V1 records)."""

_EXCERPT = 64  # bytes of an oversize message kept in its BadMessage
_FILLER = b"\r\n\x00"
_FUNCTION = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNSAFE = re.compile(r"[@$\x00-\x1f\x7f]")
_LOCATION_KEY = "ln="


class MessageFramer:
    """Incremental framer: ``receive`` bytes as they arrive, get whole messages back."""

    def __init__(self, *, max_message_size: int = MAX_MESSAGE_SIZE) -> None:
        if max_message_size < _EXCERPT:
            raise ValueError(f"max_message_size must be at least {_EXCERPT}")
        self.max_message_size = max_message_size
        self._buffer = bytearray()
        # A read position instead of deleting every message from the front: one chunk
        # holding thousands of messages must not cost a copy of the rest for each.
        self._pos = 0
        self._scanned = 0  # buffer[_pos:_scanned] is known to hold no END
        self._skipping = False  # inside an oversize message: drop up to the next END
        self.messages = 0
        self.bad_messages = 0
        self.junk_bytes = 0

    @property
    def buffered(self) -> int:
        """Bytes held for a message that is not complete yet."""
        return len(self._buffer) - self._pos

    def receive(self, data: bytes) -> list[Received]:
        self._buffer += data
        out: list[Received] = []
        while (item := self._next()) is not None:
            out.append(item)
        del self._buffer[: self._pos]
        self._scanned -= self._pos
        self._pos = 0
        return out

    def _consume(self, count: int) -> None:
        self._pos += count
        self._scanned = self._pos

    def _next(self) -> Received | None:
        buf = self._buffer
        if not self._skipping:
            while self._pos < len(buf) and buf[self._pos] in _FILLER:
                self._consume(1)
        end = buf.find(END, max(self._pos, self._scanned))
        if end < 0:
            waiting = len(buf) - self._pos
            if self._skipping:
                self.junk_bytes += waiting
                self._consume(waiting)
            elif waiting > self.max_message_size:
                return self._oversize(waiting)
            else:
                self._scanned = len(buf)
            return None
        size = end - self._pos
        if self._skipping:
            self.junk_bytes += size + 1
            self._consume(size + 1)
            self._skipping = False
            return self._next()
        if size > self.max_message_size:
            return self._oversize(size)
        body = bytes(buf[self._pos : end])
        self._consume(size + 1)
        result = parse_message(body)
        if isinstance(result, BadMessage):
            self.bad_messages += 1
        else:
            self.messages += 1
        return result

    def _oversize(self, size: int) -> BadMessage:
        # Same result whether the END arrived in this chunk or arrives later.
        start = self._pos
        bad = BadMessage(BadMessageReason.OVERSIZE, bytes(self._buffer[start : start + _EXCERPT]))
        self.bad_messages += 1
        self.junk_bytes += size
        self._consume(size)
        self._skipping = True
        return bad


def _number(text: str) -> int | None:
    digits = text.strip(" ")
    if not digits or len(digits) > 18 or not digits.isascii() or not digits.isdigit():
        return None
    return int(digits)


def parse_message(body: bytes) -> Received:
    """One message without its ``$``; never raises."""
    raw = body.strip(_FILLER)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if _CONTROL.search(text):
        return BadMessage(BadMessageReason.CONTROL_CHARACTERS, body)
    parts = text.split(SEPARATOR)
    if parts[-1] == "":
        parts.pop()  # the usual trailing "@" (AckGetInfo in the log comes without it)
    if len(parts) < 2:
        return BadMessage(BadMessageReason.NO_FUNCTION, body)
    source, function, fields = parts[0], parts[1], tuple(parts[2:])
    if not _FUNCTION.fullmatch(function):
        return BadMessage(BadMessageReason.BAD_FUNCTION, body)
    message = _typed(source, function, fields)
    return BadMessage(BadMessageReason.BAD_NUMBER, body) if message is None else message


def _typed(source: str, function: str, fields: tuple[str, ...]) -> Message | None:
    """The typed message, or None when its message number is missing or malformed."""
    match function:
        case "Ping":
            return Ping(source)
        case "AckPing":
            return AckPing(source)
        case "Pong":
            return Pong(source, fields)
        case "AckPong":
            return AckPong(source, fields)
        case "AckGetInfo":
            return AckGetInfo(source, fields)
        case "AckAuth":
            return AckAuth(source, fields)
        case "GetLocations":
            return GetLocations(source, tuple(f.removeprefix(_LOCATION_KEY) for f in fields))
        case "GetInfo":
            return GetInfo(source, fields[0] if fields else None)
        case "AckStore" | "AckPassing" | "AckMarker":
            return _ack(source, function, fields)
        case "Store" | "Passing" | "Marker":
            return _batch(source, function, fields)
    return UnknownMessage(source, function, fields)


def _ack(source: str, function: str, fields: tuple[str, ...]) -> Message | None:
    number = _number(fields[0]) if fields else None
    if number is None:
        return None
    if function == "AckStore":
        return AckStore(source, number)
    return AckPassing(source, number) if function == "AckPassing" else AckMarker(source, number)


def _batch(source: str, function: str, fields: tuple[str, ...]) -> Message | None:
    """Store, Passing or Marker: entries, then the message number as the last field."""
    number = _number(fields[-1]) if fields else None
    if number is None:
        return None
    entries = fields[:-1]
    if function == "Marker":
        return Marker(source, entries, number)
    if function == "Store":
        chips = [parse_chip_record(e) for e in entries]
        good = tuple(r for r in chips if isinstance(r, ChipRecord))
        return Store(source, good, number, tuple(r for r in chips if isinstance(r, BadRecord)))
    passings = [parse_passing_record(e) for e in entries]
    ok = tuple(p for p in passings if isinstance(p, PassingRecord))
    return Passing(source, ok, number, tuple(p for p in passings if isinstance(p, BadRecord)))


def _fields(message: Message) -> tuple[str, list[str]]:
    """The function name and the fields after it."""
    match message:
        case Ping() | AckPing():
            return type(message).__name__, []
        case Pong(fields=f) | AckPong(fields=f) | AckGetInfo(fields=f) | AckAuth(fields=f):
            return type(message).__name__, list(f)
        case GetLocations(locations=names):
            return "GetLocations", [_LOCATION_KEY + name for name in names]
        case GetInfo(location=location):
            return "GetInfo", [] if location is None else [location]
        case (
            AckStore(message_number=n) | AckPassing(message_number=n) | AckMarker(message_number=n)
        ):
            return type(message).__name__, [_checked_number(n)]
        case Store(records=records, message_number=n):
            return "Store", [*(encode_chip_record(r) for r in records), _checked_number(n)]
        case Passing(passings=passings, message_number=n):
            texts = (encode_passing_record(p) for p in passings)
            return "Passing", [*texts, _checked_number(n)]
        case Marker(entries=entries, message_number=n):
            return "Marker", [*entries, _checked_number(n)]
        case UnknownMessage(function=function, fields=f):
            if not _FUNCTION.fullmatch(function):
                raise ValueError(f"function name {function!r} is not a word")
            return function, list(f)
    raise TypeError(f"not a MyLaps T&S message: {message!r}")


def _checked_number(number: int) -> str:
    if not 0 <= number < 10**18:
        raise ValueError(f"message number {number} out of range")
    return str(number)


def encode(message: Message) -> bytes:
    """``Source@Function@field@...@$`` as UTF-8."""
    function, fields = _fields(message)
    for text in (message.source, *fields):
        if _UNSAFE.search(text):
            raise ValueError(f"{text!r} cannot be sent: it holds '@', '$' or a control char")
    return (SEPARATOR.join((message.source, function, *fields)) + SEPARATOR).encode() + END
