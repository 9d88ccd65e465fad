"""Car states: pit loops, STOPPED detection by tick and recovery on the next passing."""

from __future__ import annotations

from engine_helpers import S, cross, green, laps, make_engine, of_type, row, run

from server.engine import CarState, CarStateChanged, LapCompleted, LoopRole, StandingsChanged


def test_pit_loops_change_state_but_never_count_laps() -> None:
    engine = make_engine(["1"])
    run(engine, [green(0), cross("1", 1), cross("1", 100)])
    out = engine.apply(cross("1", 150, LoopRole.PIT_IN))
    assert out == [CarStateChanged("1", CarState.PIT, 150 * S), StandingsChanged(150 * S)]
    assert row(engine, "1").in_pit
    out = engine.apply(cross("1", 300, LoopRole.PIT_OUT))
    assert of_type(out, CarStateChanged) == [CarStateChanged("1", CarState.OUT, 300 * S)]
    assert row(engine, "1").laps == 1
    out = engine.apply(cross("1", 380))
    assert of_type(out, CarStateChanged) == [CarStateChanged("1", CarState.RUN, 380 * S)]
    assert [lap.pitted for lap in engine.laps_of("1")] == [False, True]


def test_pit_passing_before_the_first_crossing_keeps_not_started() -> None:
    engine = make_engine(["1"])
    run(engine, [green(0), cross("1", 5, LoopRole.PIT_OUT)])
    assert row(engine, "1").state is CarState.NOT_STARTED
    run(engine, [cross("1", 60)])
    assert row(engine, "1").state is CarState.RUN


def test_a_late_crossing_does_not_undo_a_later_pit_state() -> None:
    engine = make_engine(["1"])
    run(engine, [green(0), cross("1", 1), cross("1", 105, LoopRole.PIT_IN)])
    out = engine.apply(cross("1", 100))  # happened before the pit-in, journaled after it
    assert of_type(out, LapCompleted)[0].lap == 1
    assert row(engine, "1").state is CarState.PIT


def test_silent_running_car_is_stopped_then_runs_again() -> None:
    engine = make_engine(["1", "2"], stopped_after_laps=3.0)
    run(engine, [green(0), *laps("1", 1, 100, 2), *laps("2", 2, 100, 2)])  # last at 201, 202
    assert engine.tick(201 * S + 300 * S) == []  # exactly 3 laps: not more than
    out = engine.tick(502 * S)
    assert out == [CarStateChanged("1", CarState.STOPPED, 502 * S), StandingsChanged(502 * S)]
    assert engine.tick(503 * S) == [
        CarStateChanged("2", CarState.STOPPED, 503 * S),
        StandingsChanged(503 * S),
    ]
    out = engine.apply(cross("1", 510))
    assert CarStateChanged("1", CarState.RUN, 510 * S) in out
    assert row(engine, "1").state is CarState.RUN


def test_car_without_a_lap_uses_the_leaders_best_and_nothing_without_any_lap() -> None:
    engine = make_engine(["1", "2"])
    run(engine, [green(0), cross("2", 5)])
    # no lap anywhere: nothing to compare with (the stint alerts of 2 h 45 min are due)
    assert of_type(engine.tick(10_000 * S), CarStateChanged) == []
    run(engine, [cross("1", 10_001), cross("1", 10_061)])  # leader's best: 60 s
    out = engine.tick(10_061 * S)
    assert CarStateChanged("2", CarState.STOPPED, 10_061 * S) in out


def test_cars_in_the_pit_or_finished_are_never_stopped() -> None:
    engine = make_engine(["1"])
    run(engine, [green(0), *laps("1", 1, 100, 1), cross("1", 150, LoopRole.PIT_IN)])
    assert engine.tick(5000 * S) == []
    assert row(engine, "1").state is CarState.PIT


def test_sector_loop_only_proves_the_car_moves() -> None:
    engine = make_engine(["1"])
    run(engine, [green(0), *laps("1", 1, 100, 1)])
    engine.tick(1000 * S)
    out = engine.apply(cross("1", 1001, LoopRole.SECTOR))
    assert of_type(out, CarStateChanged) == [CarStateChanged("1", CarState.RUN, 1001 * S)]
    assert row(engine, "1").laps == 1
    assert engine.tick(1100 * S) == []  # silence counts from the sector passing


def test_stopped_is_a_function_of_state_and_now() -> None:
    engine = make_engine(["1"])
    run(engine, [green(0), *laps("1", 1, 100, 1)])  # best 100 s, last seen at 101
    engine.tick(5000 * S)
    assert row(engine, "1").state is CarState.STOPPED
    out = engine.tick(150 * S)  # an earlier clock (e.g. another tick source) says running
    assert out == [CarStateChanged("1", CarState.RUN, 150 * S), StandingsChanged(150 * S)]


def test_pit_passing_older_than_the_last_passing_is_out_of_order() -> None:
    engine = make_engine(["1"])
    run(engine, [green(0), cross("1", 1), cross("1", 100)])
    out = engine.apply(cross("1", 50, LoopRole.PIT_IN))
    assert [type(e).__name__ for e in out] == ["PassingRejected"]
    assert row(engine, "1").state is CarState.RUN
    assert engine.rejected_counts()["out_of_order"] == 1
