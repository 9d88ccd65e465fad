"""Sans-IO RMonitor codec: a byte stream in, records out; records in, CR LF lines out.

Strategy: ``RMonitorDecoder`` owns a receive buffer that always starts at the beginning of
a line. A line ends at LF (a CR before it is dropped; a bare LF is accepted too), so a
chunk boundary anywhere changes nothing. Each line is decoded on its own: cp1252 text
(undecodable bytes become U+FFFD rather than failing the line), CSV fields, then the layout
of its command, with registrations and car numbers of at most 32 characters (they become
transponder ids). A line that is cut short, or two records run together without CR LF,
fails one of the checks and becomes a counted ``BadLine``; the next line is decoded as if
nothing happened. A line longer than ``max_line`` is reported once and its remainder is
skipped up to the next LF, so the buffer stays bounded whatever arrives. Nothing but
``BadLine`` comes out of bad input; misusing the encoder (a time the wire cannot carry,
text outside cp1252 with ``errors="strict"``) raises ValueError. Text is sanitised on the
way out, not refused: a name typed by race control may hold a line break or a control
character, which would split or corrupt the line for every scoreboard, so each control
character (C0, DEL, C1, and the Unicode line and paragraph separators) becomes a space;
quotes are doubled inside quoted fields (``fields.quote``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .fields import QuotingError, join_fields, split_fields
from .layouts import BY_TYPE, LAYOUTS, FieldError, format_value, parse_value
from .records import BadLine, BadLineReason, DecodeResult, Record, UnknownRecord

MAX_LINE = 4096
"""Longest line accepted, in bytes without CR LF. The spec sets no limit and says lines may
exceed 256 characters; IMSA's ``$T`` track description is the longest seen (~400)."""

ENCODING = "cp1252"
MAX_ID = 32
"""Longest registration or car number accepted: they become transponder ids downstream."""
_IDS = ("registration", "number")
_COMMAND = re.compile(r"\$[A-Za-z][A-Za-z0-9]*")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def sanitise(text: str) -> str:
    """``text`` safe inside one RMonitor line: every control character becomes a space."""
    return _CONTROL.sub(" ", text)


def decode_line(line: bytes, *, max_line: int = MAX_LINE) -> DecodeResult:
    """Decode exactly one line (CR LF already removed); never raises."""
    if len(line) > max_line:
        return BadLine(BadLineReason.OVERSIZE, line[:max_line])
    text = line.decode(ENCODING, errors="replace")
    if not text.startswith("$"):
        return BadLine(BadLineReason.NO_START, line)
    try:
        fields = split_fields(text)
    except QuotingError:
        return BadLine(BadLineReason.BAD_QUOTING, line)
    (command, command_quoted), data = fields[0], fields[1:]
    if command_quoted or _COMMAND.fullmatch(command) is None:
        return BadLine(BadLineReason.BAD_COMMAND, line)
    # A record start outside quotes: a line cut short and the next one glued to it.
    if any("$" in value for value, quoted in data if not quoted):
        return BadLine(BadLineReason.SPLICED, line)
    layout = LAYOUTS.get(command)
    if layout is None:
        return UnknownRecord(command, tuple(value for value, _ in data))
    if len(data) < layout.required:
        return BadLine(BadLineReason.MISSING_FIELDS, line)
    values: dict[str, object] = {}
    try:
        for (name, kind), (value, quoted) in zip(layout.fields, data, strict=False):
            values[name] = parse_value(kind, value, quoted)
    except FieldError:
        return BadLine(BadLineReason.BAD_FIELD, line)
    if any(isinstance(values.get(name), str) and len(str(values[name])) > MAX_ID for name in _IDS):
        return BadLine(BadLineReason.BAD_FIELD, line)
    extra = tuple(value for value, _ in data[len(layout.fields) :])
    return layout.factory(**values, extra=extra)


class RMonitorDecoder:
    """Incremental decoder: ``feed`` bytes as they arrive, then drain ``events``."""

    def __init__(self, *, max_line: int = MAX_LINE) -> None:
        if max_line < 16:
            raise ValueError("max_line too small for any RMonitor record")
        self.max_line = max_line
        self._buffer = bytearray()
        self._scanned = 0  # buffer[:_scanned] is known to hold no LF
        self._skipping = False  # inside an oversize line already reported
        self.records = 0  # good lines, known or unknown
        self.unknown = 0  # of which UnknownRecord
        self.bad_lines = 0
        self.skipped_bytes = 0  # the ignored remainders of oversize lines

    @property
    def buffered(self) -> int:
        """Bytes held for a line that is not complete yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def events(self) -> Iterator[DecodeResult]:
        """Yield every complete line in the buffer, decoded or rejected, in stream order."""
        while (result := self._next()) is not None:
            yield result

    def receive(self, data: bytes) -> list[DecodeResult]:
        self.feed(data)
        return list(self.events())

    def _take(self, count: int) -> bytes:
        taken = bytes(self._buffer[:count])
        del self._buffer[:count]
        self._scanned = 0
        return taken

    def _next(self) -> DecodeResult | None:
        while True:
            newline = self._buffer.find(b"\n", self._scanned)
            if newline < 0:
                if self._skipping:
                    self.skipped_bytes += len(self._take(len(self._buffer)))
                elif len(self._buffer) > self.max_line + 1:  # +1: a CR may still follow
                    self._skipping = True
                    return self._count(BadLine(BadLineReason.OVERSIZE, self._take(self.max_line)))
                self._scanned = len(self._buffer)
                return None
            line = self._take(newline + 1)[:-1]
            if self._skipping:
                self._skipping = False
                self.skipped_bytes += len(line) + 1
                continue
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line.strip():
                continue  # blank lines carry nothing; some relays send them
            return self._count(decode_line(line, max_line=self.max_line))

    def _count(self, result: DecodeResult) -> DecodeResult:
        if isinstance(result, BadLine):
            self.bad_lines += 1
        else:
            self.records += 1
            self.unknown += isinstance(result, UnknownRecord)
        return result


def encode(record: Record, *, errors: str = "strict") -> bytes:
    """The wire line for ``record``, CR LF included, in cp1252.

    ``errors="replace"`` writes ``?`` for characters cp1252 lacks (a server must not fail
    on a name typed in another script); the default raises instead.
    """
    if isinstance(record, UnknownRecord):
        if _COMMAND.fullmatch(record.command) is None:
            raise ValueError(f"bad command {record.command!r}")
        command, fields = record.command, [(sanitise(value), True) for value in record.fields]
    else:
        layout = BY_TYPE[type(record)]
        command = layout.command
        values = [getattr(record, name) for name, _ in layout.fields]
        # Optional trailing fields that are absent are left out, as in IMSA's samples.
        while len(values) > layout.required and values[-1] is None and not record.extra:
            values.pop()
        fields = [
            format_value(kind, sanitise(value) if isinstance(value, str) else value)
            for (_, kind), value in zip(layout.fields, values, strict=False)
        ]
        fields += [(sanitise(value), True) for value in record.extra]
    text = join_fields([(command, False), *fields])
    return (text + "\r\n").encode(ENCODING, errors=errors)
