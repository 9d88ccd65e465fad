"""Pit stops from loops and pit-marshal marks, missing reads, retirements."""

from __future__ import annotations

from engine_helpers import (
    H,
    S,
    change,
    cross,
    every_lap,
    green,
    make_engine,
    of_type,
    pit_in,
    pit_out,
    row,
    run,
    team,
)

from server.engine import (
    AlertRaised,
    CarFinished,
    CarRetired,
    CarRetirementRecorded,
    CarState,
    CarStateChanged,
    CommandRefused,
    DriverChangeRefused,
    PassingRejected,
    PitInMarked,
    PitOutMarked,
    PitStopCompleted,
    RaceEngine,
    RejectReason,
    StintClock,
)


def engine_with_laps(*numbers: str, until_s: float = 999, **config: int) -> RaceEngine:
    engine = make_engine([team(n, "A", "B") for n in numbers], length_us=H, **config)
    run(engine, [green(0)])
    for number in numbers:
        run(engine, every_lap(number, 1, until_s))
    return engine


def test_stops_are_counted_with_their_duration_and_drivers() -> None:
    engine = engine_with_laps("7")
    out = run(engine, [pit_in("7", 1000), pit_out("7", 1090)])
    assert of_type(out, PitStopCompleted) == [PitStopCompleted("7", 1, 1000 * S, 1090 * S, 90 * S)]
    out = run(engine, [*every_lap("7", 1100, 1900), pit_in("7", 2000), pit_out("7", 2045)])
    assert of_type(out, PitStopCompleted)[0].stop == 2
    stops = engine.car_detail("7").stops
    assert [(s.index, s.pit_in_us, s.pit_out_us, s.duration_us) for s in stops] == [
        (1, 1000 * S, 1090 * S, 90 * S),
        (2, 2000 * S, 2045 * S, 45 * S),
    ]
    assert [(s.driver_out, s.driver_in, s.changed) for s in stops] == [("A", "A", False)] * 2
    assert row(engine, "7").pit_stops == 2


def test_pit_marshal_marks_make_the_same_stops_and_states() -> None:
    engine = engine_with_laps("7")
    out = engine.apply(PitInMarked("7", 1000 * S, actor="marshal"))
    assert CarStateChanged("7", CarState.PIT, 1000 * S) in out
    out = engine.apply(PitOutMarked("7", 1090 * S, actor="marshal"))
    assert PitStopCompleted("7", 1, 1000 * S, 1090 * S, 90 * S) in out
    assert row(engine, "7").state is CarState.OUT


def test_marks_that_cannot_apply_are_refused() -> None:
    engine = make_engine([team("7", "A")], length_us=H)
    assert engine.apply(PitInMarked("7", 5 * S, "m")) == [
        CommandRefused("PitInMarked", 5 * S, "not_started", "7")
    ]
    run(engine, [green(0), *every_lap("7", 1, 500)])
    assert engine.apply(PitInMarked("9", 550 * S, "m")) == [
        CommandRefused("PitInMarked", 550 * S, "unknown_car", "9")
    ]
    assert engine.apply(PitOutMarked("7", 350 * S, "m")) == [  # before its crossing at 401 s
        CommandRefused("PitOutMarked", 350 * S, "out_of_order", "7")
    ]


def test_a_loop_and_a_marshal_seeing_the_same_stop_make_one_stop() -> None:
    engine = engine_with_laps("7")
    run(engine, [pit_in("7", 1000), PitInMarked("7", 1002 * S, "m")])
    run(engine, [pit_out("7", 1090), PitOutMarked("7", 1091 * S, "m")])
    assert row(engine, "7").pit_stops == 1
    assert engine.car_detail("7").stops[0].duration_us == 90 * S


def test_a_missed_pit_in_read_still_makes_a_stop_without_duration() -> None:
    engine = engine_with_laps("7")
    out = run(engine, [pit_out("7", 1090)])
    assert of_type(out, PitStopCompleted) == [PitStopCompleted("7", 1, None, 1090 * S, None)]
    (stop,) = engine.car_detail("7").stops
    assert (stop.pit_in_us, stop.pit_out_us, stop.counts) == (None, 1090 * S, True)


def test_a_pit_lane_crossing_of_the_line_does_not_end_the_stop() -> None:
    engine = engine_with_laps("7")
    run(engine, [pit_in("7", 1000), cross("7", 1030), pit_out("7", 1090)])
    (stop,) = engine.car_detail("7").stops
    assert (stop.duration_us, stop.pit_out_us) == (90 * S, 1090 * S)
    assert row(engine, "7").stint_clock_since_us == 1090 * S


def test_a_missed_pit_out_read_ends_the_stop_for_the_clock_at_the_next_crossing() -> None:
    engine = engine_with_laps("7")
    run(engine, [pit_in("7", 1000)])
    assert row(engine, "7").stint_clock is StintClock.IN_PIT
    run(engine, [cross("7", 1150)])
    r = row(engine, "7")
    assert (r.stint_clock, r.stint_clock_since_us, r.stint_drive_us) == (
        StintClock.RUNNING,
        1150 * S,
        1000 * S,
    )
    run(engine, [*every_lap("7", 1250, 1800), pit_in("7", 2000)])
    assert row(engine, "7").pit_stops == 2
    assert engine.car_detail("7").stops[0].duration_us is None


def test_pit_passings_before_the_first_crossing_are_not_stops() -> None:
    engine = make_engine([team("7", "A")], length_us=H)
    run(engine, [green(0), pit_out("7", 5), *every_lap("7", 60, 300)])
    assert row(engine, "7").pit_stops == 0


def test_a_car_left_in_the_pits_at_the_end_is_retired() -> None:
    engine = engine_with_laps("1", "7", until_s=3500, finish_timeout_us=300 * S)
    run(engine, [pit_in("7", 3550)])  # and never comes out
    run(engine, [cross("1", 3601)])  # the leader takes the checkered
    out = engine.tick(3601 * S + 300 * S)
    assert of_type(out, CarFinished) == [CarFinished("7", 2, 34, 3401 * S)]
    assert CarStateChanged("7", CarState.RETIRED, 3401 * S) in out
    kinds = {a.alert.kind for a in of_type(out, AlertRaised)}
    assert "missed_stop" not in kinds  # a DNF: no penalty to propose
    assert row(engine, "7").state is CarState.RETIRED
    assert engine.status().finished


def test_race_control_retires_a_car() -> None:
    engine = engine_with_laps("1", "7", until_s=2000)
    run(engine, [pit_in("7", 2050)])
    out = engine.apply(CarRetired("7", 2100 * S, reason="gearbox", actor="rc"))
    assert of_type(out, CarRetirementRecorded) == [CarRetirementRecorded("7", 2100 * S)]
    assert CarStateChanged("7", CarState.RETIRED, 2100 * S) in out
    assert engine.apply(CarRetired("7", 2200 * S, "again", "rc")) == [
        CommandRefused("CarRetired", 2200 * S, "already_retired", "7")
    ]
    assert engine.apply(cross("7", 2300)) == [
        PassingRejected("T7", 2300 * S, RejectReason.RETIRED, "7")
    ]
    assert row(engine, "7").stint_clock is StintClock.NONE
    assert engine.apply(change("7", "B", 2400)) == [
        DriverChangeRefused("7", "B", 2400 * S, "car_retired")
    ]
    out = run(engine, every_lap("1", 2001, 3700))  # the leader takes the checkered
    assert CarFinished("7", 2, 19, 1901 * S) in out  # classified at once at its last crossing
    assert row(engine, "7").state is CarState.RETIRED
    (stint,) = engine.car_detail("7").stints
    assert (stint.end_us, stint.drive_us) == (2100 * S, 2050 * S)  # the pit lane did not count
