"""The grid: qualifying order (ties to the first to set the time), cars without a time in
number order, and every car of a practice or qualifying contact at the back, keeping
their qualifying order among themselves; each row says why."""

from __future__ import annotations

from engine_helpers import S, cross, green, make_engine, run

from server.engine import SessionKind
from server.engine.grid import ContactIncident, grid
from server.engine.model import StandingRow


def qualifying() -> list[StandingRow]:
    engine = make_engine(("1", "2", "3", "4", "5", "12"), kind=SessionKind.QUALIFYING)
    run(engine, [green(0)])
    # 2 and 1 both lap in 90 s; 2 sets it first. 3: 95 s, 4: 92 s, 5 and 12: no lap
    for number, start in (("2", 10), ("1", 12), ("3", 14), ("4", 16), ("12", 17)):
        run(engine, [cross(number, start)])
    run(engine, [cross("2", 100), cross("1", 102), cross("4", 108), cross("3", 109)])
    return engine.standings()


def test_qualifying_order_with_a_tie_to_the_first() -> None:
    # 5 and 12 were entered but set no time; 20 is entered in the race only
    rows = grid(qualifying(), [("5", "A", "Team 5"), ("20", "B", "Team 20")], [])
    assert [r.number for r in rows] == ["2", "1", "4", "3", "5", "12", "20"]
    assert [r.reason for r in rows[:2]] == ["qualifying P1", "qualifying P2"]
    assert rows[0].best_lap_us == rows[1].best_lap_us == 90 * S
    assert rows[4].reason == "no qualifying time: at the back in number order"
    assert rows[6].reason == "did not take part in qualifying: at the back in number order"


def test_contact_sends_every_car_involved_back_in_qualifying_order() -> None:
    contacts = [
        ContactIncident("Practice", "00:12:30", "Turn 3", ("3", "2")),
        ContactIncident("Qualifying", "00:04:00", "", ("12",)),
    ]
    rows = grid(qualifying(), [], contacts)
    assert [r.number for r in rows] == ["1", "4", "5", "2", "3", "12"]
    assert [r.sent_back for r in rows] == [False, False, False, True, True, True]
    assert rows[0].reason == "qualifying P2"  # keeps its qualifying place in the reason
    assert rows[3].reason == "sent to the back: contact with 3 in Practice (00:12:30 Turn 3)"
    assert rows[5].reason == "sent to the back: contact with another car in Qualifying (00:04:00)"
    assert [r.position for r in rows] == [1, 2, 3, 4, 5, 6]
