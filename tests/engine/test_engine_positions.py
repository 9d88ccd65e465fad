"""Ordering, class positions, gaps and intervals (race: time or laps; practice: best lap)."""

from __future__ import annotations

import pytest
from engine_helpers import S, cross, entry, green, laps, make_engine, numbers, row, run

from server.engine import SessionKind


def test_race_orders_by_laps_then_crossing_time_then_no_crossing_by_number() -> None:
    engine = make_engine(["12", "3", "7", "20", "5"])
    run(engine, [green(0), cross("7", 1), cross("3", 2), cross("12", 3)])
    run(engine, [cross("12", 90), cross("7", 91), cross("3", 180)])
    # 12 and 7 have 1 lap (12 crossed first); 3 has none completed; 5 and 20 never crossed
    assert numbers(engine) == ["12", "7", "3", "5", "20"]
    run(engine, [cross("3", 181)])  # 3 completes a lap 90 s after its start
    assert numbers(engine) == ["12", "7", "3", "5", "20"]
    run(engine, [cross("7", 182)])
    assert numbers(engine)[:3] == ["7", "12", "3"]
    assert [r.position for r in engine.standings()] == [1, 2, 3, 4, 5]


def test_gaps_and_intervals_in_time_and_laps() -> None:
    engine = make_engine(["1", "2", "3"])
    run(engine, [green(0), cross("1", 1), cross("2", 2), cross("3", 3)])
    run(engine, [cross("1", 91), cross("2", 93.5), cross("3", 100)])
    run(engine, [cross("1", 181), cross("2", 184)])
    leader, second, third = engine.standings()
    assert (leader.number, leader.gap_us, leader.gap_laps) == ("1", 0, 0)
    assert (leader.interval_us, leader.interval_laps) == (None, 0)
    assert (second.gap_us, second.gap_laps, second.interval_us) == (3 * S, 0, 3 * S)
    assert (third.gap_us, third.gap_laps) == (None, 1)
    assert (third.interval_us, third.interval_laps) == (None, 1)
    # back on the same lap count as the leader: time again, at that lap count
    run(engine, [cross("3", 190)])
    third = row(engine, "3")
    assert (third.gap_us, third.gap_laps, third.interval_us) == (9 * S, 0, 6 * S)


def test_class_positions_and_class_gaps() -> None:
    cars = [entry("1", "A"), entry("2", "B"), entry("3", "A"), entry("4", "B"), entry("5", "B")]
    engine = make_engine(cars)
    run(engine, [green(0)])
    for number, start in (("1", 1), ("2", 2), ("3", 3), ("4", 4), ("5", 5)):
        run(engine, [cross(number, start)])
    run(engine, [cross("1", 91), cross("2", 92), cross("3", 94), cross("4", 99)])
    run(engine, [cross("1", 181), cross("2", 183)])
    by_number = {r.number: r for r in engine.standings()}
    assert [r.number for r in engine.standings()] == ["1", "2", "3", "4", "5"]
    assert {n: r.class_position for n, r in by_number.items()} == {
        "1": 1,
        "2": 1,
        "3": 2,
        "4": 2,
        "5": 3,
    }
    b2, b4, b5 = by_number["2"], by_number["4"], by_number["5"]
    assert (b2.class_gap_us, b2.class_interval_us, b2.class_interval_laps) == (0, None, 0)
    assert (b4.class_gap_us, b4.class_gap_laps) == (None, 1)
    assert (b5.class_gap_laps, b5.class_interval_laps) == (2, 1)
    a3 = by_number["3"]
    assert (a3.class_gap_laps, a3.interval_us, a3.interval_laps) == (1, None, 1)


@pytest.mark.parametrize("kind", [SessionKind.PRACTICE, SessionKind.QUALIFYING])
def test_practice_orders_by_best_lap_ties_to_first_setter(kind: SessionKind) -> None:
    engine = make_engine(["1", "2", "3", "4", "5"], kind=kind)
    run(engine, [green(0)])
    run(engine, laps("2", 10, 95, 2))  # best 95 s, set at 200
    run(engine, laps("1", 20, 90, 1))  # best 90 s, set at 110
    run(engine, [cross("3", 30), cross("3", 120)])  # best 90 s too, set later (120)
    run(engine, [cross("4", 40)])  # timing started, no timed lap
    assert numbers(engine) == ["1", "3", "2", "4", "5"]
    first, second, third, fourth, fifth = engine.standings()
    assert (first.gap_us, first.interval_us) == (0, None)
    assert (second.gap_us, second.interval_us) == (0, 0)
    assert (third.gap_us, third.gap_laps, third.interval_us, third.interval_laps) == (
        5 * S,
        0,
        5 * S,
        0,
    )
    assert (fourth.gap_us, fourth.gap_laps, fifth.gap_us) == (None, 0, None)


def test_practice_cars_without_timed_lap_by_first_crossing_then_unseen_by_number() -> None:
    engine = make_engine(["9", "10", "8", "11"], kind=SessionKind.PRACTICE)
    run(engine, [green(0), cross("10", 50), cross("9", 60)])
    assert numbers(engine) == ["10", "9", "8", "11"]


def test_standings_are_cached_until_something_changes() -> None:
    engine = make_engine()
    run(engine, [green(0), cross("1", 1)])
    first = engine.standings()
    engine.tick(2 * S)  # nothing changes
    again = engine.standings()
    assert all(a is b for a, b in zip(first, again, strict=True))  # the same row objects
    run(engine, [cross("1", 100)])
    assert row(engine, "1") is not first[0]


def test_unseen_cars_sort_numeric_numbers_by_value_then_others() -> None:
    engine = make_engine(["B2", "10", "07", "9", "7", "A1"])
    assert numbers(engine) == ["07", "7", "9", "10", "A1", "B2"]
