"""The local copy of the timed session's journal that a start without the database rebuilds
it from: a round trip of its configuration, rules and loops; only the copied session's events;
a torn last line ends the copy, never the start."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.app import database_down_at_start
from server.db.connection import create_engine
from server.db.track import LoopConfig
from server.engine.events import Flag, FlagChanged, LoopRole, PassingDetected, SessionKind
from server.engine.model import SessionConfig
from server.engine.rule_spec import resolved_spec, rules_from_spec
from server.service.session_copy import SessionCopy
from server.service.spool import Spool

S = 1_000_000


def test_a_copy_round_trips_and_keeps_only_its_own_session(tmp_path: Path) -> None:
    rules = rules_from_spec(None)
    config = SessionConfig(
        session_id=7, kind=SessionKind.RACE, name="R", length_us=60 * S, rules=rules
    )
    loops = [
        LoopConfig("77", LoopRole.START_FINISH),
        LoopConfig("78", LoopRole.SECTOR, 1, 900.0, "S1"),
    ]
    first = [FlagChanged(at_us=S, flag=Flag.GREEN)]
    copy = SessionCopy(tmp_path / "spool.jsonl.session")
    assert copy.read() is None  # no copy yet: nothing to start from
    copy.write(config, resolved_spec(rules), "Copy Cup", loops, first)
    later = [
        PassingDetected(at_us=2 * S, transponder="1", decoder_id="77", passing_number=1, epoch=2)
    ]
    copy.append(7, later)
    copy.append(8, [FlagChanged(at_us=3 * S, flag=Flag.RED)])  # another session's: not copied
    back = SessionCopy(copy.path).read()
    assert back is not None
    assert back.config == config and back.event_name == "Copy Cup"
    assert back.loops == tuple(loops)
    assert back.events == first + later


def test_a_torn_last_line_ends_the_copy(tmp_path: Path) -> None:
    config = SessionConfig(session_id=1, kind=SessionKind.PRACTICE)
    copy = SessionCopy(tmp_path / "copy")
    copy.write(config, None, "E", [], [FlagChanged(at_us=S, flag=Flag.GREEN)])
    with copy.path.open("a", encoding="utf-8") as torn:
        torn.write('{"type": "FlagChanged", "at_')  # a crash in the middle of a write
    back = copy.read()
    assert back is not None and back.events == [FlagChanged(at_us=S, flag=Flag.GREEN)]
    copy.path.write_text("not json\n", encoding="utf-8")
    assert copy.read() is None  # an unreadable header: no copy to start from


async def test_serve_starts_offline_only_with_a_local_copy(tmp_path: Path) -> None:
    """Nothing listens on port 1: without a spool or copy the error stops the start; with the
    copy beside the spool, the start goes on (the error is handed back to log)."""
    db_engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/racing")
    spool = Spool(tmp_path / "spool.jsonl")
    try:
        with pytest.raises(OSError):
            await database_down_at_start(db_engine, spool)
        copy = SessionCopy(tmp_path / "spool.jsonl.session")
        copy.write(SessionConfig(session_id=1, kind=SessionKind.RACE), None, "E", [], [])
        assert isinstance(await database_down_at_start(db_engine, spool), OSError)
    finally:
        await db_engine.dispose()
