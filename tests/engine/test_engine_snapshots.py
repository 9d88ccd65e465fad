"""The SprintDuro's sprint classification at 30:00 and hourly classification snapshots."""

from __future__ import annotations

from engine_helpers import (
    H,
    S,
    cross,
    every_lap,
    flag,
    green,
    in_time_order,
    make_engine,
    numbers,
    of_type,
    pit_in,
    pit_out,
    run,
)

from server.engine import (
    CarState,
    Flag,
    RaceEngine,
    SessionClockPaused,
    SessionClockResumed,
    SessionKind,
    SnapshotTaken,
    SprintCheckeredTaken,
)


def sprintduro(**config: int) -> RaceEngine:
    engine = make_engine(["1", "2", "3"], kind=SessionKind.SPRINTDURO, length_us=2 * H, **config)
    run(engine, [green(0)])
    return engine


def sprint_rows(engine: RaceEngine) -> list[tuple[str, int, CarState, int | None]]:
    sprint = engine.sprint_standings()
    assert sprint is not None
    return [(r.number, r.laps, r.state, r.last_crossing_us) for r in sprint.rows]


def test_the_leader_crossing_exactly_at_30_minutes_takes_the_sprint_flag() -> None:
    engine = sprintduro()
    run(engine, in_time_order(every_lap("1", 0, 1799), every_lap("2", 10, 1799)))
    run(engine, every_lap("3", 5, 1799, lap_s=150))
    assert engine.sprint_standings() is None
    out = engine.apply(cross("1", 1800))
    assert of_type(out, SprintCheckeredTaken) == [SprintCheckeredTaken("1", 1800 * S)]
    assert engine.status().sprint_checkered_at_us == 1800 * S
    assert engine.status().flag is Flag.GREEN  # the endurance race carries on
    sprint = engine.sprint_standings()
    assert sprint is not None and not sprint.complete
    run(engine, [cross("3", 1805), cross("2", 1810)])
    sprint = engine.sprint_standings()
    assert sprint is not None and sprint.complete
    assert sprint_rows(engine) == [
        ("1", 18, CarState.FINISHED, 1800 * S),
        ("2", 18, CarState.FINISHED, 1810 * S),
        ("3", 12, CarState.FINISHED, 1805 * S),
    ]
    run(engine, [cross("1", 1900), cross("2", 1910)])  # later laps change nothing there
    assert sprint_rows(engine)[0][1] == 18
    assert engine.standings()[0].laps == 19


def test_a_lapped_car_crossing_first_after_30_minutes_does_not_take_it() -> None:
    engine = sprintduro()
    run(engine, [*every_lap("1", 0, 1700), *every_lap("3", 5, 1799, lap_s=150)])
    assert of_type(engine.apply(cross("3", 1805)), SprintCheckeredTaken) == []
    assert of_type(engine.apply(cross("1", 1810)), SprintCheckeredTaken) == [
        SprintCheckeredTaken("1", 1810 * S)
    ]
    run(engine, [cross("3", 1955)])
    assert sprint_rows(engine)[1] == ("3", 13, CarState.FINISHED, 1955 * S)


def test_a_car_that_does_not_cross_within_the_timeout_is_classified_before_the_flag() -> None:
    engine = sprintduro(finish_timeout_us=300 * S)
    run(engine, in_time_order(every_lap("1", 0, 1800), every_lap("2", 10, 1710)))
    run(engine, [cross("3", 5), pit_in("2", 1750)])
    assert not engine.sprint_standings().complete  # type: ignore[union-attr]
    engine.tick(2099 * S)
    assert not engine.sprint_standings().complete  # type: ignore[union-attr]
    engine.tick(2100 * S)
    assert engine.sprint_standings().complete  # type: ignore[union-attr]
    assert sprint_rows(engine)[1] == ("2", 17, CarState.FINISHED, 1710 * S)
    run(engine, [pit_out("2", 2300), cross("2", 2310)])  # the crossing agrees
    assert sprint_rows(engine)[1] == ("2", 17, CarState.FINISHED, 1710 * S)


def test_an_endurance_race_has_no_sprint() -> None:
    engine = make_engine(["1"], length_us=2 * H)
    run(engine, [green(0), *every_lap("1", 0, 2000)])
    assert engine.sprint_standings() is None


def test_hourly_snapshots_rank_the_cars_as_of_their_last_crossing_before_the_hour() -> None:
    engine = make_engine(["1", "2"], length_us=3 * H)
    run(engine, [green(0)])
    run(engine, in_time_order(every_lap("1", 1, 3 * 3600, 100), every_lap("2", 2, 3 * 3600, 99)))
    assert engine.snapshots() == []  # no tick yet: no hour has been seen
    out = engine.tick(2 * H + 5 * S)
    assert of_type(out, SnapshotTaken) == [SnapshotTaken("1h", H), SnapshotTaken("2h", 2 * H)]
    assert of_type(engine.tick(2 * H + 6 * S), SnapshotTaken) == []
    first, second = engine.snapshots()
    assert (first.label, first.at_us) == ("1h", H)
    label, at_us, rows = second  # unpacks like a (label, at_us, rows) tuple
    assert (label, at_us) == ("2h", 2 * H)
    assert [(r.number, r.laps, r.last_crossing_us) for r in first.rows] == [
        ("2", 36, 3566 * S),  # 2 + 36 x 99
        ("1", 35, 3501 * S),
    ]
    assert [r.number for r in rows] == ["2", "1"]
    assert numbers(engine) == ["2", "1"]
    engine.tick(4 * H)
    assert [s.label for s in engine.snapshots()] == ["1h", "2h"]  # none at the end


def test_a_paused_race_clock_shifts_the_hour_marks() -> None:
    engine = make_engine(["1"], length_us=2 * H)
    run(engine, [green(0), *every_lap("1", 1, 1000), flag(Flag.RED, 1000)])
    run(engine, [SessionClockPaused(1100 * S, "rc"), SessionClockResumed(1700 * S, "rc")])
    run(engine, [flag(Flag.GREEN, 1700), *every_lap("1", 1701, 4500)])
    assert of_type(engine.tick(H + 599 * S), SnapshotTaken) == []
    assert of_type(engine.tick(H + 600 * S), SnapshotTaken) == [SnapshotTaken("1h", H + 600 * S)]
