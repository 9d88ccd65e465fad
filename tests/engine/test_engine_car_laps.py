"""A car's laps as its page lists them: personal and overall bests of laps and sectors,
the flag under which each lap was run, and voided laps (never a best, with the reason)."""

from __future__ import annotations

import pytest
from engine_helpers import S, cross, entry, flag, green, make_engine, run
from test_engine_sectors import sector

from server.engine import Flag
from server.engine.car_laps import Best
from server.engine.events import LapVoided


def test_personal_and_overall_bests_of_laps_and_sectors() -> None:
    engine = make_engine([entry("1"), entry("2", "B")])
    run(
        engine,
        [
            green(0),
            cross("1", 10),
            cross("2", 11),
            sector("1", 40, 1),
            cross("1", 110),  # 1: 30 + 70 = 100
            sector("2", 45, 1),
            cross("2", 109),  # 2: 34 + 64 = 98 (overall best lap, best sector 2)
            sector("1", 138, 1),
            cross("1", 209),  # 1: 28 + 71 = 99 (overall best sector 1)
        ],
    )
    one = engine.car_laps("1")
    assert [m.best for m in one] == [Best.NONE, Best.PERSONAL]
    assert [m.sector_bests for m in one] == [
        (Best.NONE, Best.PERSONAL),
        (Best.OVERALL, Best.NONE),
    ]
    (two,) = engine.car_laps("2")
    assert two.best is Best.OVERALL and two.sector_bests == (Best.PERSONAL, Best.OVERALL)


def test_a_voided_lap_is_never_a_best_and_keeps_its_reason() -> None:
    engine = make_engine([entry("1")])
    run(engine, [green(0), cross("1", 0), sector("1", 20, 1), cross("1", 90)])
    run(engine, [sector("1", 120, 1), cross("1", 190)])  # 30 + 70 = 100
    run(engine, [LapVoided("1", 1, 200 * S, "track limits T4", "control")])
    voided, kept = engine.car_laps("1")
    assert voided.record.voided and voided.record.void_reason == "track limits T4"
    assert voided.best is Best.NONE and voided.sector_bests == (Best.NONE, Best.NONE)
    # the other lap holds every best now, sector 1 included (20 s was the voided lap's)
    assert kept.best is Best.OVERALL and kept.sector_bests == (Best.OVERALL, Best.OVERALL)
    assert engine.standings()[0].best_sectors_us == (30 * S, 70 * S)


def test_each_lap_keeps_the_flag_it_was_run_under() -> None:
    engine = make_engine([entry("1")])
    run(engine, [green(0), cross("1", 0), cross("1", 90), flag(Flag.YELLOW, 100)])
    run(engine, [cross("1", 200), flag(Flag.GREEN, 210), cross("1", 300), cross("1", 390)])
    assert [m.record.flag for m in engine.car_laps("1")] == [
        Flag.GREEN,
        Flag.YELLOW,
        Flag.YELLOW,
        Flag.GREEN,
    ]


def test_an_unknown_car_has_no_laps() -> None:
    engine = make_engine([entry("1")])
    with pytest.raises(KeyError):
        engine.car_laps("99")
