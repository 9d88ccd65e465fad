"""A local copy of the timed session's journal, so the server can start while the database
is down and its spool holds what came since.

Strategy: the spool (``spool.py``) only holds what the database did not take; the rest of
the timed session (its configuration, its resolved rules, the track's loops and every event
journaled so far) lives in the database. This file beside the spool holds the same: a
header line written when a session is loaded (temporary file, fsynced, renamed), then one
line per event the database committed, appended after each commit. A session loaded from an
engine checkpoint (``checkpoint``) is copied as that checkpoint, in a file of its own
beside this one (written and fsynced before the header that names it), and the events after
it: writing every event of a long journal again would cost a restart as much as the replay.
The database stays the record: the copy is only read when ``serve`` starts and the database
does not answer, and then only with the spool (the events after the copy's). Its lines are
not fsynced, as the database holds them: after a power loss its tail may miss events the
journal has, and the state shown until the database is back is the copy's; a torn or
unreadable line ends the copy there. When the database answers again, the spool drains into
it and the next load of a session reads the journal again.

The methods do blocking file work: the race service calls them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.db.track import LoopConfig
from server.engine.events import InputEvent, LoopRole, SessionKind, from_record, to_record
from server.engine.model import SessionConfig
from server.engine.rule_spec import rules_from_spec

log = logging.getLogger("racecontrol.spool")


@dataclass(frozen=True, slots=True)
class CopiedSession:
    """What the copy holds: enough to rebuild the timed session without the database."""

    config: SessionConfig
    event_name: str
    loops: tuple[LoopConfig, ...]
    events: list[InputEvent]  # after the checkpoint, if there is one
    checkpoint: bytes | None = None  # the engine checkpoint the events continue


class SessionCopy:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.checkpoint_path = path.with_name(path.name + ".checkpoint")
        self.session_id: int | None = None  # the session being copied, once written

    def write(
        self,
        config: SessionConfig,
        rules_spec: dict[str, Any] | None,
        event_name: str,
        loops: Sequence[LoopConfig],
        events: Sequence[InputEvent],
        checkpoint: bytes | None = None,
    ) -> None:
        """Start the copy of a (newly loaded) session: its header and its journal so far
        (``events``: those after ``checkpoint``, when it was loaded from one)."""
        values = {
            field.name: getattr(config, field.name)
            for field in dataclasses.fields(config)
            if field.name != "rules"
        }
        header = {
            "session_id": config.session_id,
            "event_name": event_name,
            "config": {**values, "kind": config.kind.value},
            "rules": rules_spec,
            "loops": [{**dataclasses.asdict(loop), "role": loop.role.value} for loop in loops],
            "checkpoint": checkpoint is not None,
        }
        if checkpoint is not None:
            _write_synced(self.checkpoint_path, checkpoint)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as copy:
            copy.write(json.dumps(header) + "\n")
            copy.writelines(json.dumps(to_record(event)) + "\n" for event in events)
            copy.flush()
            os.fsync(copy.fileno())
        os.replace(temporary, self.path)
        if checkpoint is None:
            self.checkpoint_path.unlink(missing_ok=True)
        self.session_id = config.session_id

    def append(
        self,
        session_id: int,
        events: Sequence[InputEvent],
        records: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        """Events the database committed; those of another session than the copy's are
        not the timed session's (an old session's late alert, say) and are left out.
        ``records``: the events' ``to_record`` dicts, when the journal made them already."""
        if session_id != self.session_id or not events:
            return
        if records is None:
            records = [to_record(event) for event in events]
        with self.path.open("a", encoding="utf-8") as copy:
            copy.writelines(json.dumps(record) + "\n" for record in records)

    def read(self) -> CopiedSession | None:
        """The copied session, or None without a (readable) copy."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        try:
            header = json.loads(lines[0])
            config = SessionConfig(
                **{**header["config"], "kind": SessionKind(header["config"]["kind"])},
                rules=rules_from_spec(header["rules"]),
            )
            loops = tuple(
                LoopConfig(**{**loop, "role": LoopRole(loop["role"])}) for loop in header["loops"]
            )
            event_name = str(header["event_name"])
            checkpoint = self.checkpoint_path.read_bytes() if header.get("checkpoint") else None
        except (IndexError, KeyError, TypeError, ValueError, OSError) as exc:
            log.error("session copy %s unreadable: %s", self.path, exc)
            return None
        events: list[InputEvent] = []
        for number, line in enumerate(lines[1:], start=2):
            try:
                events.append(from_record(json.loads(line)))
            except (TypeError, ValueError) as exc:  # a torn last line: the copy ends here
                log.warning(
                    "session copy %s: line %d unreadable, ends there: %s", self.path, number, exc
                )
                break
        self.session_id = config.session_id
        return CopiedSession(config, event_name, loops, events, checkpoint)


def _write_synced(path: Path, data: bytes) -> None:
    """``data`` as ``path``, whole or not at all (temporary file, fsynced, renamed)."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
