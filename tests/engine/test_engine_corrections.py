"""Timing corrections: add a missed passing, delete a false one, assign a transponder."""

from __future__ import annotations

from engine_helpers import S, cross, green, make_engine, of_type, row, run

from server.engine import (
    CommandRefused,
    CorrectionApplied,
    LoopRole,
    PassingAdded,
    PassingDeleted,
    PassingDetected,
    RaceEngine,
    StandingsChanged,
    TransponderAssigned,
)


def unknown(at_s: float, transponder: str = "X") -> PassingDetected:
    return PassingDetected(at_us=round(at_s * S), transponder=transponder, decoder_id="D1")


def lap_times(engine: RaceEngine, number: str) -> list[int]:
    return [lap.lap_time_us // S for lap in engine.laps_of(number)]


def test_a_missed_passing_added_later_counts_in_its_place() -> None:
    engine = make_engine(["1", "2"])
    run(engine, [green(0), cross("1", 0), cross("1", 100), cross("1", 300), cross("1", 400)])
    run(engine, [cross("2", 5), cross("2", 105), cross("2", 205), cross("2", 305)])
    assert (lap_times(engine, "1"), [r.number for r in engine.standings()]) == (
        [100, 200, 100],
        ["2", "1"],  # the missed crossing cost car 1 the lead
    )
    out = engine.apply(PassingAdded("1", 200 * S, reason="loop missed it", actor="timing"))
    assert CorrectionApplied("PassingAdded", "1", 200 * S) in out
    assert out[-1] == StandingsChanged(200 * S)
    assert lap_times(engine, "1") == [100, 100, 100, 100]
    assert [r.number for r in engine.standings()] == ["1", "2"]
    run(engine, [cross("1", 500)])  # timing goes on from the corrected state
    assert row(engine, "1").laps == 5


def test_a_false_passing_deleted_is_left_out_and_everything_recomputed() -> None:
    engine = make_engine(["1"])
    run(engine, [green(0), cross("1", 0), cross("1", 100), cross("1", 130), cross("1", 230)])
    assert lap_times(engine, "1") == [100, 30, 100]
    out = engine.apply(PassingDeleted("1", 130 * S, 400 * S, "pit-lane crossing", "timing"))
    assert of_type(out, CorrectionApplied) == [CorrectionApplied("PassingDeleted", "1", 400 * S)]
    assert lap_times(engine, "1") == [100, 130]


def test_deleting_only_one_loop_keeps_the_other_passings_at_that_time() -> None:
    engine = make_engine(["1"])
    run(engine, [green(0), cross("1", 0), cross("1", 100), cross("1", 150, LoopRole.PIT_IN)])
    run(engine, [cross("1", 150, LoopRole.PIT_OUT), cross("1", 250)])
    engine.apply(PassingDeleted("1", 150 * S, 300 * S, "pit-out read twice", "t", LoopRole.PIT_OUT))
    assert row(engine, "1").pit_stops == 1
    assert engine.car_detail("1").stops[0].pit_out_us is None


def test_corrections_that_cannot_apply_are_refused() -> None:
    engine = make_engine(["1"])
    run(engine, [green(0), cross("1", 0), cross("1", 100)])
    assert engine.apply(PassingDeleted("1", 50 * S, 300 * S, "?", "t")) == [
        CommandRefused("PassingDeleted", 300 * S, "no_such_passing", "1")
    ]
    assert engine.apply(PassingAdded("9", 50 * S, "?", "t")) == [
        CommandRefused("PassingAdded", 50 * S, "unknown_car", "9")
    ]
    assert engine.apply(TransponderAssigned("X", "9", 60 * S, "?", "t")) == [
        CommandRefused("TransponderAssigned", 60 * S, "unknown_car", "9")
    ]


def test_an_assigned_transponder_counts_its_earlier_passings_retroactively() -> None:
    engine = make_engine(["1", "5"])
    run(engine, [green(0), cross("1", 0), unknown(3), cross("1", 100), unknown(103)])
    run(engine, [unknown(203)])
    assert row(engine, "5").laps == 0
    assert [a.id for a in engine.alerts()] == ["unknown_transponder:X"]
    out = engine.apply(TransponderAssigned("X", "5", 210 * S, "borrowed transponder", "timing"))
    assert CorrectionApplied("TransponderAssigned", "5", 210 * S) in out
    assert (row(engine, "5").laps, lap_times(engine, "5")) == (2, [100, 100])
    assert engine.unknown_transponders() == {}
    assert engine.alerts() == []  # the sighting is explained
    run(engine, [unknown(303)])
    assert row(engine, "5").laps == 3


def test_a_transponder_swap_applies_from_its_start_time() -> None:
    engine = make_engine(["1", "5"])
    run(engine, [green(0), cross("5", 0), cross("5", 100), unknown(200), unknown(300)])
    engine.apply(
        TransponderAssigned("X", "5", 310 * S, "swapped in the pits", "t", from_us=250 * S)
    )
    assert lap_times(engine, "5") == [100, 200]
    assert list(engine.unknown_transponders()) == ["X"]  # the read before the swap


def test_a_missed_pit_passing_can_be_added() -> None:
    engine = make_engine(["1"])
    run(engine, [green(0), cross("1", 0), cross("1", 100), cross("1", 150, LoopRole.PIT_OUT)])
    engine.apply(PassingAdded("1", 120 * S, "pit-in loop down", "t", LoopRole.PIT_IN))
    (stop,) = engine.car_detail("1").stops
    assert (stop.pit_in_us, stop.pit_out_us, stop.duration_us) == (120 * S, 150 * S, 30 * S)


def test_every_correction_stays_applied_through_later_ones() -> None:
    engine = make_engine(["1", "5"])
    run(engine, [green(0), cross("1", 0), cross("1", 100), cross("1", 300), unknown(50)])
    run(engine, [unknown(150)])
    engine.apply(PassingAdded("1", 200 * S, "missed", "t"))
    engine.apply(TransponderAssigned("X", "5", 310 * S, "found", "t"))
    engine.apply(PassingDeleted("1", 300 * S, 320 * S, "double", "t"))
    assert lap_times(engine, "1") == [100, 100]
    assert lap_times(engine, "5") == [100]
