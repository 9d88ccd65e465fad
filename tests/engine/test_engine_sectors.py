"""Sector loops give sector times; a lap that misses a sector loop has none."""

from __future__ import annotations

from engine_helpers import S, cross, entry, green, make_engine

from server.engine import LoopRole, PassingDetected
from server.engine.laps import sector_times


def sector(number: str, at_s: float, index: int) -> PassingDetected:
    return PassingDetected(
        at_us=round(at_s * S),
        transponder=f"T{number}",
        decoder_id="D2",
        loop=LoopRole.SECTOR,
        sector=index,
    )


def test_sector_times_and_personal_bests() -> None:
    engine = make_engine([entry("1")])
    for event in (
        green(0),
        cross("1", 10),
        sector("1", 40, 1),
        sector("1", 75, 2),
        cross("1", 110),  # 30 + 35 + 35
        sector("1", 138, 1),
        sector("1", 176, 2),
        cross("1", 209),  # 28 + 38 + 33
    ):
        engine.apply(event)
    laps = engine.laps_of("1")
    assert [lap.sectors_us for lap in laps] == [(30 * S, 35 * S, 35 * S), (28 * S, 38 * S, 33 * S)]
    row = engine.standings()[0]
    assert row.last_sectors_us == (28 * S, 38 * S, 33 * S)
    assert row.best_sectors_us == (28 * S, 35 * S, 33 * S)
    assert sum(row.last_sectors_us) == row.last_lap_us


def test_a_missed_sector_loop_gives_no_sector_times() -> None:
    engine = make_engine([entry("1")])
    for event in (green(0), cross("1", 10), sector("1", 75, 2), cross("1", 110)):
        engine.apply(event)
    assert engine.laps_of("1")[0].sectors_us == ()
    assert engine.laps_of("1")[0].lap_time_us == 100 * S


def test_sector_times_helper_ignores_marks_outside_the_lap() -> None:
    assert sector_times(0, [(1, 5), (2, 9), (1, 20)], 12) == (5, 4, 3)
    assert sector_times(0, [], 12) == ()
