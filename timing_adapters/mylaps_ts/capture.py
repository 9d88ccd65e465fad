"""Read the server-side log of racemap's MyLaps forwarder: a real T&S exchange, replayable.

Strategy: the forwarder (racemap/mylaps-to-racemap-forwarder) cuts what T&S sends at each
``$`` and logs every piece on a line ``<ISO time> <direction>: <piece>``; a piece keeps the
CR LF (and NUL bytes) that followed the previous ``$``, so one entry can span lines.
Entries start at a line that begins with a timestamp and a direction marker and run to the
newline before the next such line. Older lines say ``message:`` (all from T&S), newer ones
``» from client:`` / ``« to   client:`` (the latter with their ``$``, which is removed here).
``client_stream`` puts the ``$`` back: the bytes T&S sent, in order, as one stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_ENTRY = re.compile(
    rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) "
    rb"(message: |\xc2\xbb from client: |\xc2\xab to   client: )",
    re.MULTILINE,
)
_TO_CLIENT = b"\xc2\xab"


@dataclass(frozen=True, slots=True)
class LogEntry:
    timestamp: str  # as logged, UTC
    from_client: bool  # True: sent by T&S; False: sent by the forwarder
    data: bytes  # one message without its "$", with whatever preceded it on the wire


def read_forwarder_log(log: bytes) -> list[LogEntry]:
    """Every entry of the log, in order; ValueError if ``log`` does not start with one."""
    starts = list(_ENTRY.finditer(log))
    if not starts or starts[0].start() != 0:
        raise ValueError("not a forwarder log: the first line has no timestamp and direction")
    entries: list[LogEntry] = []
    for match, following in zip(starts, [*starts[1:], None], strict=True):
        end = len(log) if following is None else following.start()
        data = log[match.end() : end]
        data = data.removesuffix(b"\n")  # the newline the logger adds
        from_client = not match.group(2).startswith(_TO_CLIENT)
        if not from_client:
            data = data.removesuffix(b"$")
        entries.append(LogEntry(match.group(1).decode(), from_client, data))
    return entries


def client_stream(entries: Iterable[LogEntry]) -> bytes:
    """The bytes T&S sent, with the ``$`` the forwarder cut off restored."""
    return b"".join(entry.data + b"$" for entry in entries if entry.from_client)
