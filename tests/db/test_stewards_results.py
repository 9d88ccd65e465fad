"""Stored standings keep the stewards' penalties and status (a past session's results)."""

from __future__ import annotations

import json

from server.db.results import standings_json, standings_of
from server.engine import Entry, Flag, FlagChanged, PassingDetected, RaceEngine, SessionConfig
from server.engine.events import Decision, IncidentDecided, IncidentReported, SessionKind
from server.engine.model import PenaltyState, Status

S = 1_000_000


def test_penalties_and_status_survive_the_round_trip() -> None:
    entries = [Entry(n, "A", f"Team {n}", transponders=(f"T{n}",)) for n in ("1", "2")]
    engine = RaceEngine(SessionConfig(session_id=1, kind=SessionKind.RACE), entries)
    engine.apply(FlagChanged(0, Flag.GREEN))
    for number, at_s in (("1", 1), ("2", 2), ("1", 101), ("2", 102)):
        engine.apply(PassingDetected(at_s * S, f"T{number}", "D1"))
    engine.apply(IncidentReported(110 * S, "00:01:50", "T1", ("1",), "x", True, "rc"))
    engine.apply(IncidentDecided("1-1", Decision.DRIVE_THROUGH, 111 * S, "r", "chief"))
    engine.apply(IncidentReported(112 * S, "00:01:52", "T2", ("2",), "y", False, "rc"))
    engine.apply(IncidentDecided("1-2", Decision.EXCLUSION, 113 * S, "r", "chief"))
    rows = engine.standings()
    stored = json.loads(json.dumps(standings_json(rows)))
    assert standings_of(stored) == rows
    assert rows[0].penalties[0].state is PenaltyState.PENDING
    assert rows[1].status is Status.EXCL
