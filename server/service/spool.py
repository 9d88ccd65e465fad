"""A local append-only spool for input events while the database is unreachable.

Strategy: timing never stops. When a journal append fails, the batch is written here (JSON
lines, flushed and fsynced before anything is applied, so it is as durable as the journal would
have been) and the race goes on. While the spool holds anything, every new batch goes to the
spool too, so events keep their order. The file is only ever appended to: a second small file,
``<name>.ack``, holds the byte offset up to which the events are in the database (written to a
temporary file, fsynced and renamed, so it is either the old or the new offset). Draining reads
from that offset, and the two files are removed together once everything is acknowledged, so a
drained batch never rewrites the file. A line that does not parse (a torn write at a crash) is
kept aside in ``<name>.bad`` and skipped, never lost and never blocking the drain; a torn last
line is closed with a newline when the spool is opened, so the next append starts clean.

The methods do blocking file work: the race service calls them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from server.engine.events import InputEvent, from_record, to_record

log = logging.getLogger("racecontrol.spool")


@dataclass(frozen=True, slots=True)
class Spooled:
    session_id: int
    recorded_at_us: int
    event: InputEvent
    end_offset: int  # the byte offset just after this event's line


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.ack_path = path.with_name(path.name + ".ack")
        self.bad_path = path.with_name(path.name + ".bad")
        self._size = 0
        self._acked = 0
        self._set_aside_upto = 0  # bad lines before this offset are in .bad already
        self._open()

    def _open(self) -> None:
        """Learn the size and acknowledged offset; close a torn last line."""
        try:
            self._size = self.path.stat().st_size
        except FileNotFoundError:
            self._size = 0
        try:
            self._acked = min(int(self.ack_path.read_text().strip() or 0), self._size)
        except (FileNotFoundError, ValueError):
            self._acked = 0
        if self._size:
            with self.path.open("rb+") as spool:
                spool.seek(-1, os.SEEK_END)
                if spool.read(1) != b"\n":  # a crash in the middle of a write
                    spool.write(b"\n")
                    spool.flush()
                    os.fsync(spool.fileno())
                    self._size += 1

    def __bool__(self) -> bool:
        """True while events wait for the database."""
        return self._size > self._acked

    def append(self, session_id: int, events: Sequence[InputEvent], recorded_at_us: int) -> None:
        lines = "".join(
            json.dumps(
                {"session_id": session_id, "recorded_at_us": recorded_at_us, "event": to_record(e)}
            )
            + "\n"
            for e in events
        ).encode()
        with self.path.open("ab") as spool:
            spool.write(lines)
            spool.flush()
            os.fsync(spool.fileno())
        self._size += len(lines)

    def pending(self) -> list[Spooled]:
        """The events not yet acknowledged, in spool order; unreadable lines go to ``.bad``."""
        if not self:
            return []
        out: list[Spooled] = []
        bad: list[bytes] = []
        offset = self._acked
        with self.path.open("rb") as spool:
            spool.seek(self._acked)
            for line in spool:
                start, offset = offset, offset + len(line)
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                    out.append(
                        Spooled(
                            int(data["session_id"]),
                            int(data["recorded_at_us"]),
                            from_record(data["event"]),
                            offset,
                        )
                    )
                except (ValueError, KeyError, TypeError):
                    if start >= self._set_aside_upto:
                        bad.append(line)
        if bad:
            self._set_aside(bad)
        self._set_aside_upto = max(self._set_aside_upto, offset)
        if not out:  # nothing but unreadable or blank lines: set aside, nothing waits
            self.acknowledge(offset)
        return out

    def pending_for(self, session_id: int) -> list[InputEvent]:
        return [s.event for s in self.pending() if s.session_id == session_id]

    def acknowledge(self, offset: int) -> None:
        """Everything before byte ``offset`` is in the database; when that is all of it, the
        spool starts afresh."""
        if offset >= self._size:
            self.path.unlink(missing_ok=True)
            self.ack_path.unlink(missing_ok=True)
            self._size = self._acked = self._set_aside_upto = 0
            return
        tmp = self.ack_path.with_name(self.ack_path.name + ".tmp")
        with tmp.open("w", encoding="ascii") as file:
            file.write(str(offset))
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, self.ack_path)
        self._acked = offset

    def _set_aside(self, lines: list[bytes]) -> None:
        log.error("%d unreadable spool lines kept in %s", len(lines), self.bad_path)
        with self.bad_path.open("ab") as file:
            file.write(b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines))
            file.flush()
            os.fsync(file.fileno())
