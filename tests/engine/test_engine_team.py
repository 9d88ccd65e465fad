"""A team's pit wall, worked by hand: stint left against the limit, drivers against the
rules (longest stint, rest, who may get in), the pit window and the open incidents.

Rules: stints at most 1 h, 30 min rest, one mandatory stop in a window from 0:30 to
1:30 of a 2-hour race. Green at 0 s.
  7 (Ann, Bob): laps every 100 s from 1 s; pit-in 3000 s, Bob confirmed 3050 s, pit-out
    3200 s, laps again from 3250 s. Ann drove 0-3000 s (50 min): rests until 4800 s.
    At 4000 s Bob has driven 800 s: 2800 s left, the limit at 3200 + 3600 = 6800 s; the
    window (1800-5400 s) is open for 1400 s more, the stop at 3000 s counts.
  8 (Cy, Di): never stops: at 4000 s Cy has driven 4000 s, 400 s over the limit.
"""

from __future__ import annotations

from engine_helpers import (
    H,
    M,
    S,
    change,
    every_lap,
    green,
    in_time_order,
    make_engine,
    pit_in,
    pit_out,
    run,
    team,
)

from server.engine import RaceEngine, Refusal, RuleSet, StintClock
from server.engine.events import IncidentReported
from server.engine.team import WindowState

RULES = RuleSet(max_stint_us=H, min_rest_us=30 * M, window_opens_us=30 * M, window_closes_us=90 * M)


def weekend_race(until_s: float) -> RaceEngine:
    engine = make_engine(
        [team("7", "Ann", "Bob"), team("8", "Cy", "Di")], rules=RULES, length_us=2 * H
    )
    seven = in_time_order(
        every_lap("7", 1, 2999),
        [pit_in("7", 3000), change("7", "Bob", 3050), pit_out("7", 3200)],
        every_lap("7", 3250, 3999),
    )
    events = in_time_order([green(0)], seven, every_lap("8", 2, 3999))
    run(engine, [e for e in events if e.at_us <= until_s * S])
    engine.tick(round(until_s * S))
    return engine


def test_before_the_stop_the_stint_counts_down_to_the_limit_and_the_window_to_its_opening() -> None:
    engine = weekend_race(1000)
    outlook = engine.team_outlook("7", 1000 * S)
    assert outlook.stint.driver == "Ann"
    assert outlook.stint.clock is StintClock.RUNNING
    assert outlook.stint.drive_us == 1000 * S
    assert outlook.stint.left_us == 2600 * S
    assert outlook.stint.limit_at_us == 3600 * S
    assert outlook.window.state is WindowState.BEFORE
    assert (outlook.window.left_us, outlook.window.required, outlook.window.served) == (
        800 * S,
        1,
        0,
    )


def test_during_the_stop_the_stint_clock_stands_and_nothing_counts_down() -> None:
    engine = weekend_race(3100)
    outlook = engine.team_outlook("7", 3100 * S)
    assert outlook.stint.clock is StintClock.IN_PIT
    assert outlook.stint.limit_at_us is None
    ann = next(d for d in outlook.drivers if d.name == "Ann")
    assert (ann.drive_us, ann.stints, ann.longest_stint_us) == (3000 * S, 1, 3000 * S)


def test_after_the_stop_the_new_driver_counts_down_and_the_old_one_rests() -> None:
    engine = weekend_race(4000)
    outlook = engine.team_outlook("7", 4000 * S)
    assert outlook.stint.driver == "Bob"
    assert outlook.stint.drive_us == 800 * S
    assert outlook.stint.left_us == 2800 * S
    assert outlook.stint.limit_at_us == 6800 * S
    ann, bob = outlook.drivers
    assert (ann.name, ann.in_car, ann.drive_us, ann.over_stint_limit) == (
        "Ann",
        False,
        3000 * S,
        False,
    )
    assert ann.refusal is Refusal.REST_NOT_OVER and ann.rest_until_us == 4800 * S
    assert (bob.name, bob.in_car, bob.drive_us, bob.refusal) == ("Bob", True, 800 * S, None)
    assert outlook.window.state is WindowState.OPEN
    assert (outlook.window.left_us, outlook.window.served) == (1400 * S, 1)
    assert [(s.index, s.changed, s.counts) for s in outlook.stops] == [(1, True, True)]
    assert (outlook.max_stint_us, outlook.min_rest_us) == (H, 30 * M)
    # once her rest is over, the engine would take Ann back in
    later = engine.team_outlook("7", 4800 * S)
    assert later.drivers[0].refusal is None and later.drivers[0].rest_until_us is None


def test_a_driver_past_the_limit_is_over_by_the_time_driven_beyond_it() -> None:
    engine = weekend_race(4000)
    outlook = engine.team_outlook("8", 4000 * S)
    assert outlook.stint.left_us == -400 * S
    assert outlook.stint.limit_at_us is None
    cy = outlook.drivers[0]
    assert (cy.name, cy.in_car, cy.longest_stint_us, cy.over_stint_limit) == (
        "Cy",
        True,
        4000 * S,
        True,
    )
    assert outlook.window.served == 0


def test_after_the_window_closes_it_is_closed_and_an_open_incident_is_listed() -> None:
    engine = weekend_race(4000)
    report = IncidentReported(4000 * S, "01:06:00", "Turn 3", ("8",), "off track", False, "rc")
    run(engine, [report])
    outlook = engine.team_outlook("8", 5401 * S)
    assert outlook.window.state is WindowState.CLOSED and outlook.window.left_us is None
    assert [i.place for i in outlook.open_incidents] == ["Turn 3"]
    assert engine.team_outlook("7", 4000 * S).open_incidents == ()


def test_an_unknown_car_is_a_key_error() -> None:
    engine = weekend_race(100)
    try:
        engine.team_outlook("99", 100 * S)
    except KeyError:
        return
    raise AssertionError("car 99 is not entered")
