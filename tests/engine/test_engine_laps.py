"""Lap bookkeeping: timing start, laps, best lap, rejects and unknown transponders."""

from __future__ import annotations

import pytest
from engine_helpers import S, cross, entry, green, make_engine, of_type, row, run

from server.engine import (
    AlertRaised,
    CarState,
    CarStateChanged,
    Flag,
    LapCompleted,
    LapRecord,
    PassingDetected,
    PassingRejected,
    RejectReason,
    StandingsChanged,
    UnknownTransponder,
    UnknownTransponderSeen,
)


def test_first_crossing_starts_timing_and_later_ones_complete_laps() -> None:
    engine = make_engine()
    run(engine, [green(0)])
    out = engine.apply(cross("1", 5))
    assert of_type(out, LapCompleted) == []
    assert CarStateChanged("1", CarState.RUN, 5 * S) in out
    assert out[-1] == StandingsChanged(5 * S)
    assert row(engine, "1").laps == 0

    out = engine.apply(cross("1", 95))
    assert of_type(out, LapCompleted) == [LapCompleted("1", 1, 90 * S, 95 * S, True, Flag.GREEN)]
    out = engine.apply(cross("1", 180))
    assert of_type(out, LapCompleted) == [LapCompleted("1", 2, 85 * S, 180 * S, True, Flag.GREEN)]
    out = engine.apply(cross("1", 270))
    assert of_type(out, LapCompleted)[0].is_best is False
    r = row(engine, "1")
    assert (r.laps, r.last_lap_us, r.best_lap_us, r.best_lap_number) == (3, 90 * S, 85 * S, 2)
    assert r.last_crossing_us == 270 * S
    assert engine.laps_of("1") == [
        LapRecord(1, 90 * S, 95 * S, Flag.GREEN),
        LapRecord(2, 85 * S, 180 * S, Flag.GREEN),
        LapRecord(3, 90 * S, 270 * S, Flag.GREEN),
    ]


def test_double_read_is_rejected_and_counted() -> None:
    engine = make_engine(min_lap_us=20 * S)
    run(engine, [green(0), cross("1", 10), cross("1", 100)])
    before = engine.standings()
    out = engine.apply(cross("1", 119.9))
    assert out == [PassingRejected("T1", 119_900_000, RejectReason.DOUBLE_READ, "1")]
    assert engine.standings() == before
    assert engine.rejected_counts()["double_read"] == 1
    run(engine, [cross("1", 120)])  # exactly min_lap_us later counts
    assert row(engine, "1").laps == 2


def test_out_of_order_never_corrupts_state() -> None:
    engine = make_engine()
    run(engine, [green(0), cross("1", 10), cross("1", 100), cross("1", 190)])
    before = engine.standings()
    out = engine.apply(cross("1", 150))
    assert out == [PassingRejected("T1", 150 * S, RejectReason.OUT_OF_ORDER, "1")]
    assert engine.standings() == before
    assert engine.laps_of("1")[-1].lap_time_us == 90 * S
    assert engine.rejected_counts()["out_of_order"] == 1


def test_passings_before_green_are_not_started() -> None:
    engine = make_engine()
    out = engine.apply(cross("1", 5))
    assert out == [PassingRejected("T1", 5 * S, RejectReason.NOT_STARTED, "1")]
    run(engine, [green(10)])
    # stamped before the green flag, even if journaled after it
    assert of_type(engine.apply(cross("2", 9)), PassingRejected)[0].reason == "not_started"
    assert engine.rejected_counts()["not_started"] == 2
    assert row(engine, "1").state is CarState.NOT_STARTED
    assert engine.status().green_at_us == 10 * S


def test_unknown_transponder_is_counted_and_listed_only() -> None:
    engine = make_engine()
    run(engine, [green(0)])
    before = engine.standings()
    unknown = PassingDetected(at_us=30 * S, transponder="X9", decoder_id="D1")
    out = engine.apply(unknown)
    assert of_type(out, UnknownTransponderSeen) == [UnknownTransponderSeen("X9", 30 * S, 1)]
    assert [a.alert.id for a in of_type(out, AlertRaised)] == ["unknown_transponder:X9"]
    assert of_type(out, StandingsChanged) == []
    later = PassingDetected(at_us=120 * S, transponder="X9", decoder_id="D1")
    assert engine.apply(later) == [UnknownTransponderSeen("X9", 120 * S, 2)]
    assert engine.unknown_transponders() == {"X9": UnknownTransponder(2, 30 * S, 120 * S)}
    assert engine.rejected_counts()["unknown_transponder"] == 2
    assert engine.standings() == before


def test_a_car_may_carry_several_transponders() -> None:
    engine = make_engine([entry("7", "A", "A1", "A2")])
    run(engine, [green(0)])
    engine.apply(PassingDetected(at_us=10 * S, transponder="A1", decoder_id="D1"))
    engine.apply(PassingDetected(at_us=100 * S, transponder="A2", decoder_id="D1"))
    assert row(engine, "7").laps == 1


def test_rejected_counts_list_every_reason() -> None:
    assert make_engine().rejected_counts() == {reason.value: 0 for reason in RejectReason}


def test_configuration_errors_raise() -> None:
    with pytest.raises(ValueError, match="transponder"):
        make_engine([entry("1", "A", "X"), entry("2", "A", "X")])
    with pytest.raises(ValueError, match="twice"):
        make_engine([entry("1"), entry("1")])
    with pytest.raises(KeyError):
        make_engine().laps_of("99")


def test_laps_driven_before_a_feed_was_joined_count_from_the_first_crossing() -> None:
    # an RMonitor feed joined mid-race: car 1's first crossing we see ended its lap 40
    engine = make_engine()
    run(engine, [green(0)])
    joined = PassingDetected(at_us=3_600 * S, transponder="T1", decoder_id="D1", lap=40)
    assert of_type(engine.apply(joined), LapCompleted) == []  # no lap time for the past
    run(engine, [cross("2", 3_601), cross("2", 3_691)])
    assert (row(engine, "1").laps, row(engine, "1").best_lap_us) == (40, None)
    assert [r.number for r in engine.standings()][:2] == ["1", "2"]
    [lap] = of_type(engine.apply(cross("1", 3_690)), LapCompleted)
    assert (lap.lap, lap.lap_time_us) == (41, 90 * S)
    assert (row(engine, "1").laps, row(engine, "1").best_lap_us) == (41, 90 * S)
    # only a car's first crossing carries laps: a later one is a lap as any other
    later = PassingDetected(at_us=3_780 * S, transponder="T1", decoder_id="D1", lap=7)
    [lap] = of_type(engine.apply(later), LapCompleted)
    assert lap.lap == 42 and row(engine, "1").laps == 42
