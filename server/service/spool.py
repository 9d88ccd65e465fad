"""A local append-only spool for input events while the database is unreachable.

Strategy: timing never stops. When a journal append fails, the batch is written here
(JSON lines, flushed and fsynced before anything is applied, so it is as durable as the
journal would have been) and the race goes on. While the spool holds anything, every
new batch goes to the spool too, so events keep their order; the race service drains
it into the database, oldest first, once the database answers again, and only then
empties the file. A line that does not parse (a torn write at a crash) is logged and
kept aside in ``<name>.bad`` instead of being lost or blocking the drain.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from server.engine.events import InputEvent, from_record, to_record

log = logging.getLogger("racecontrol.spool")


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __bool__(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def append(self, session_id: int, events: Sequence[InputEvent], recorded_at_us: int) -> None:
        lines = "".join(
            json.dumps(
                {"session_id": session_id, "recorded_at_us": recorded_at_us, "event": to_record(e)}
            )
            + "\n"
            for e in events
        )
        with self.path.open("a", encoding="utf-8") as spool:
            spool.write(lines)
            spool.flush()
            os.fsync(spool.fileno())

    def pending(self) -> list[tuple[int, int, InputEvent]]:
        """(session id, recorded at, event) in spool order."""
        if not self:
            return []
        return self._read()[0]

    def _read(self) -> tuple[list[tuple[int, int, InputEvent]], list[str]]:
        out: list[tuple[int, int, InputEvent]] = []
        bad: list[str] = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
                entry = (
                    int(data["session_id"]),
                    int(data["recorded_at_us"]),
                    from_record(data["event"]),
                )
            except (ValueError, KeyError, TypeError):
                bad.append(line)
            else:
                out.append(entry)
        return out, bad

    def pending_for(self, session_id: int) -> list[InputEvent]:
        return [event for sid, _at, event in self.pending() if sid == session_id]

    def drop_first(self, count: int) -> None:
        """Forget the ``count`` oldest events (now in the database); atomic on disk."""
        if not self:
            return
        entries, bad = self._read()
        if bad:
            log.error("%d unreadable spool lines kept in %s.bad", len(bad), self.path)
            aside = self.path.with_suffix(self.path.suffix + ".bad")
            with aside.open("a", encoding="utf-8") as file:
                file.write("\n".join(bad) + "\n")
        rest = entries[count:]
        if not rest:
            self.path.unlink(missing_ok=True)
            return
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        with tmp.open("w", encoding="utf-8") as file:
            for session_id, recorded_at_us, event in rest:
                record = {
                    "session_id": session_id,
                    "recorded_at_us": recorded_at_us,
                    "event": to_record(event),
                }
                file.write(json.dumps(record) + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, self.path)
