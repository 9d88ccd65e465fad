"""The mandatory stop, the pit window, minimum stop time, solo drivers, penalties."""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import (
    H,
    M,
    S,
    cross,
    every_lap,
    flag,
    green,
    make_engine,
    of_type,
    pit_in,
    pit_out,
    row,
    run,
    solo_exit,
    team,
)

from server.engine import (
    AlertRaised,
    Entry,
    Flag,
    PenaltyKind,
    ProposedPenalty,
    RaceEngine,
    RuleSet,
    SessionKind,
    preset,
)

WINDOW = {"window_opens_us": H, "window_closes_us": 2 * H}


def race(
    *entries: Entry, length_us: int = 3 * H, rules: RuleSet | None = None, **values: Any
) -> RaceEngine:
    cars = list(entries) or [team("7", "A", "B")]
    return make_engine(cars, rules=rules or RuleSet(**values), length_us=length_us)


def stop_at(engine: RaceEngine, pit_in_s: float, pit_out_s: float, number: str = "7") -> None:
    """Laps up to the stop (from the car's last crossing), then the stop."""
    last = engine.car_detail(number).stints
    start = 1 if not last else (row(engine, number).last_crossing_us or 0) / S + 100
    run(engine, [*every_lap(number, start, pit_in_s - 1), pit_in(number, pit_in_s)])
    run(engine, [pit_out(number, pit_out_s)])


def started(engine: RaceEngine, *numbers: str) -> RaceEngine:
    run(engine, [green(0)])
    for number in numbers or ("7",):
        run(engine, [cross(number, 1)])
    return engine


@pytest.mark.parametrize(
    ("pit_in_s", "counts"),
    [(3599, False), (3600, True), (7200, True), (7201, False)],
)
def test_the_window_is_inclusive_at_both_edges(pit_in_s: int, counts: bool) -> None:
    engine = started(race(**WINDOW))
    stop_at(engine, pit_in_s, pit_in_s + 60)
    (stop,) = engine.car_detail("7").stops
    assert (stop.counts, stop.in_window) == (counts, counts)
    assert stop.note == (None if counts else "outside_window")
    r = row(engine, "7")
    assert (r.mandatory_served, r.in_window) == (counts, counts)


def test_two_stops_in_the_window_both_count() -> None:
    engine = started(race(**WINDOW))
    stop_at(engine, 4000, 4100)
    stop_at(engine, 5000, 5100)
    detail = engine.car_detail("7")
    assert [s.counts for s in detail.stops] == [True, True]
    assert (detail.mandatory_required, detail.mandatory_served) == (1, 2)
    assert row(engine, "7").mandatory_served


def test_the_window_is_the_whole_race_by_default() -> None:
    engine = started(race())
    assert (engine.status().pit_window_opens_us, engine.status().pit_window_closes_us) == (
        0,
        3 * H,
    )
    stop_at(engine, 300, 360)
    assert row(engine, "7").mandatory_served


def test_a_stop_under_the_minimum_time_does_not_count_and_is_flagged() -> None:
    engine = started(race(min_stop_us=5 * M))
    stop_at(engine, 1000, 1000 + 299)
    (stop,) = engine.car_detail("7").stops
    assert (stop.counts, stop.note) == (False, "too_short")
    (alert,) = [a for a in engine.alerts() if a.kind == "min_stop_not_met"]
    assert (alert.id, alert.at_us, alert.number) == ("min_stop_not_met:7:1", 1299 * S, "7")
    stop_at(engine, 2000, 2000 + 300)  # exactly the minimum counts
    assert engine.car_detail("7").stops[1].counts


def test_wcma_proposes_a_stop_and_go_for_leaving_early() -> None:
    engine = started(race(rules=preset("wcma")))
    stop_at(engine, 1000, 1200)
    assert row(engine, "7").penalties_proposed == (
        ProposedPenalty(
            "7", PenaltyKind.STOP_AND_GO, 300, "stop 1 under the minimum stop time", 1200 * S
        ),
    )


def test_a_stop_begun_under_the_safety_car_has_its_own_minimum() -> None:
    engine = started(race(rules=preset("brscc")))
    run(engine, [*every_lap("7", 101, 900), flag(Flag.SAFETY_CAR, 950)])
    run(engine, [pit_in("7", 1000), pit_out("7", 1000 + 5 * 60)])
    assert engine.car_detail("7").stops[0].note == "too_short"
    run(engine, [flag(Flag.GREEN, 1400), *every_lap("7", 1400, 1900), pit_in("7", 2000)])
    run(engine, [pit_out("7", 2000 + 5 * 60)])  # no minimum under green
    assert engine.car_detail("7").stops[1].counts


def solo_race(length_us: int = 3 * H) -> RaceEngine:
    return started(race(team("7", "A"), length_us=length_us))


def test_a_solo_stop_counts_only_with_the_exit_confirmed() -> None:
    engine = solo_race()
    stop_at(engine, 1000, 1100)
    (stop,) = engine.car_detail("7").stops
    assert (stop.counts, stop.note) == (False, "no_solo_exit")
    (alert,) = [a for a in engine.alerts() if a.kind == "solo_no_exit"]
    assert (alert.id, alert.at_us) == ("solo_no_exit:7:1", 1100 * S)
    run(engine, [*every_lap("7", 1200, 1900), pit_in("7", 2000), solo_exit("7", 2030)])
    run(engine, [pit_out("7", 2100)])
    detail = engine.car_detail("7", now_us=2500 * S)
    assert detail.stops[1].counts and detail.stops[1].solo_exit
    assert [(s.driver, s.start_us, s.end_us) for s in detail.stints] == [
        ("A", 0, 2000 * S),  # the exit ends the stint (the rest rule waived for solos)
        ("A", 2100 * S, None),
    ]


def test_a_solo_exit_confirmed_on_track_applies_at_the_next_stop() -> None:
    engine = solo_race()
    run(engine, [*every_lap("7", 101, 900), solo_exit("7", 950)])
    run(engine, [pit_in("7", 1000), pit_out("7", 1100)])
    assert engine.car_detail("7").stops[0].counts


def test_solo_over_the_race_length_limit_never_counts() -> None:
    engine = solo_race(length_us=4 * H)
    run(engine, [*every_lap("7", 101, 900), pit_in("7", 1000), solo_exit("7", 1030)])
    run(engine, [pit_out("7", 1100)])
    detail = engine.car_detail("7", now_us=2000 * S)
    assert (detail.stops[0].counts, detail.stops[0].note) == (False, "solo_not_allowed")
    assert len(detail.stints) == 1  # the driver never left the car as far as the rules go
    assert not [a for a in engine.alerts() if a.kind == "solo_no_exit"]


def window_alerts(engine: RaceEngine, now_s: float) -> list[tuple[str, tuple[str, ...]]]:
    raised = of_type(engine.tick(round(now_s * S)), AlertRaised)
    return [(a.alert.id, a.alert.cars) for a in raised if a.alert.kind.startswith("window")]


def test_window_alerts_open_then_list_the_cars_that_have_not_stopped() -> None:
    engine = started(
        race(team("7", "A", "D"), team("8", "B", "E"), team("9", "C", "F"), **WINDOW), "7", "8", "9"
    )
    assert window_alerts(engine, 3599) == []
    assert window_alerts(engine, 3600) == [("window_open", ())]
    stop_at(engine, 4000, 4100, "7")
    assert window_alerts(engine, 2 * 3600 - 601) == []
    assert window_alerts(engine, 2 * 3600 - 600) == [("window_closing", ("8", "9"))]
    stop_at(engine, 6900, 7000, "8")  # after the warning, before the close
    assert window_alerts(engine, 7200) == [("window_closed", ("9",))]
    closing = next(a for a in engine.alerts() if a.id == "window_closing")
    assert closing.text == "Pit window closes in 10 min; not stopped: 8, 9"
    assert closing.at_us == 2 * H - 10 * M


def test_no_window_alerts_without_a_mandatory_stop() -> None:
    engine = started(race(mandatory_stops=0, **WINDOW))
    assert window_alerts(engine, 3 * 3600) == []
    assert engine.status().pit_window_opens_us is None
    practice = make_engine([team("7", "A")], kind=SessionKind.PRACTICE, length_us=H)
    run(practice, [green(0), cross("7", 1)])
    assert not row(practice, "7").mandatory_served
    assert window_alerts(practice, 3600) == []


def test_a_car_classified_without_its_stop_gets_the_penalty_proposed() -> None:
    engine = started(race(team("1", "A", "C"), team("7", "B", "D"), length_us=H), "1", "7")
    run(engine, [*every_lap("1", 101, 1000), pit_in("1", 1050), pit_out("1", 1110)])
    run(engine, [*every_lap("1", 1200, 3700), *every_lap("7", 101, 3602)])
    assert engine.status().checkered_at_us == 3600 * S
    assert row(engine, "1").penalties_proposed == ()
    penalty = ProposedPenalty("7", PenaltyKind.LAPS, 1, "missed mandatory stop", 3601 * S)
    assert row(engine, "7").penalties_proposed == (penalty,)
    assert engine.proposed_penalties() == [penalty]
    (alert,) = [a for a in engine.alerts() if a.kind == "missed_stop"]
    assert (alert.id, alert.severity, alert.at_us) == ("missed_stop:7", "critical", 3601 * S)
    assert alert.text == (
        "Car 7 classified with 0 of 1 mandatory stops: 1 lap penalty proposed to the stewards"
    )


@pytest.mark.parametrize(("hours", "stops"), [(1.5, 0), (3, 1), (4.5, 2)])
def test_aer_requires_race_minutes_over_90_minus_one_stops(hours: float, stops: int) -> None:
    engine = race(rules=preset("aer"), length_us=round(hours * H))
    assert engine.car_detail("7").mandatory_required == stops
