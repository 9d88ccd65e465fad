"""The export rows' total time includes the stewards' time penalties, as the order and
the gaps do (the race-weekend test found it left out)."""

from __future__ import annotations

from server.engine import Entry, Flag, FlagChanged, PassingDetected, RaceEngine, SessionConfig
from server.engine.events import Decision, IncidentDecided, IncidentReported, SessionKind
from server.service.results import result_rows

S = 1_000_000


def test_total_time_includes_a_time_penalty() -> None:
    entries = [Entry(n, "A", f"Team {n}", transponders=(f"T{n}",)) for n in ("1", "2")]
    engine = RaceEngine(SessionConfig(session_id=1, kind=SessionKind.RACE), entries)
    engine.apply(FlagChanged(0, Flag.GREEN))
    # 1 leads 2 by one second on the road: laps ending at 101 s and 102 s
    for number, at_s in (("1", 1), ("2", 2), ("1", 101), ("2", 102)):
        engine.apply(PassingDetected(at_s * S, f"T{number}", "D1"))
    engine.apply(IncidentReported(110 * S, "00:01:50", "T1", ("1",), "x", True, "rc"))
    engine.apply(
        IncidentDecided("1-1", Decision.TIME_PENALTY, 111 * S, "contact", "chief", value=30)
    )
    rows = result_rows(engine.standings(), entries, 0)
    assert [(r.number, r.total_time_us, r.gap_us) for r in rows] == [
        ("2", 102 * S, 0),
        ("1", 131 * S, 29 * S),  # 101 s on the road + 30 s: 29 s behind, as the gap says
    ]
