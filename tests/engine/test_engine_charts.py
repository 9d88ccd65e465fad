"""Chart points on a small race worked out by hand: positions at each lap completion
(overall and in class), gaps to the first car to complete each lap, the new points of
one crossing, and what changes the charted past (a correction, a voided lap)."""

from __future__ import annotations

from engine_helpers import S, cross, entry, flag, green, make_engine, run

from server.engine import Flag, PassingDeleted, RaceEngine
from server.engine.charts import FlagPeriod, LapPoint
from server.engine.events import LapVoided, LoopRole

# 1 and 3 in class A, 2 in class B. Crossings (s):
#          start  lap 1  lap 2  lap 3
#   car 1    1     91     181    271
#   car 2    2     90     185
#   car 3    3     95     180    270
# lap 1: 2 (90), 1 (91, +1 s), 3 (95, +5 s); in class A: 1, then 3 (+4 s)
# lap 2: 3 (180), 1 (181, +1 s), 2 (185, +5 s); in class A: 3, 1 (+1 s); class B: 2
# lap 3: 3 (270), 1 (271, +1 s): a yellow from 200 s to 230 s marks both laps
RACE = [
    green(0),
    cross("1", 1),
    cross("2", 2),
    cross("3", 3),
    cross("2", 90),
    cross("1", 91),
    cross("3", 95),
    cross("3", 180),
    cross("1", 181),
    cross("2", 185),
    flag(Flag.YELLOW, 200),
    flag(Flag.GREEN, 230),
    cross("3", 270),
    cross("1", 271),
]


def race() -> RaceEngine:
    engine = make_engine([entry("1", "A"), entry("2", "B"), entry("3", "A")])
    run(engine, RACE)
    return engine


def table(points: list[LapPoint]) -> list[tuple[int, str, int, int, int, int]]:
    return [
        (p.lap, p.number, p.position, p.class_position, p.gap_us // S, p.class_gap_us // S)
        for p in points
    ]


def test_positions_and_gaps_at_each_lap_completion() -> None:
    points = race().chart_points()
    assert table(points) == [
        (1, "2", 1, 1, 0, 0),
        (1, "1", 2, 1, 1, 0),
        (1, "3", 3, 2, 5, 4),
        (2, "3", 1, 1, 0, 0),
        (2, "1", 2, 2, 1, 1),
        (2, "2", 3, 1, 5, 0),
        (3, "3", 1, 1, 0, 0),
        (3, "1", 2, 2, 1, 1),
    ]
    lap_times = {(p.number, p.lap): p.lap_time_us // S for p in points}
    assert lap_times == {
        ("1", 1): 90, ("1", 2): 90, ("1", 3): 90,
        ("2", 1): 88, ("2", 2): 95,
        ("3", 1): 92, ("3", 2): 85, ("3", 3): 90,
    }  # fmt: skip
    assert [p.flag for p in points if p.lap == 3] == [Flag.YELLOW, Flag.YELLOW]
    assert all(p.flag is Flag.GREEN for p in points if p.lap < 3)


def test_new_points_of_one_crossing_are_ranked_against_the_history() -> None:
    engine = race()
    charted = engine.chart_laps()
    assert charted == {"1": 3, "2": 2, "3": 3}
    assert engine.chart_points(charted) == []
    run(engine, [cross("2", 280)])  # 2 completes lap 3, third, 10 s behind 3
    new = engine.chart_points(charted)
    assert table(new) == [(3, "2", 3, 1, 10, 0)]
    # the same point as the whole history gives
    assert new[0] == next(p for p in engine.chart_points() if (p.number, p.lap) == ("2", 3))


def test_a_tie_at_the_line_goes_to_the_lower_number() -> None:
    engine = make_engine([entry("10", "A"), entry("9", "A")])
    run(engine, [green(0), cross("10", 1), cross("9", 1), cross("10", 91), cross("9", 91)])
    assert [(p.number, p.position) for p in engine.chart_points()] == [("9", 1), ("10", 2)]
    assert [(p.number, p.position) for p in engine.chart_points({})] == [("9", 1), ("10", 2)]


def test_pit_laps_and_voided_laps_are_marked_and_change_the_chart_version() -> None:
    engine = race()
    version = engine.chart_version
    run(engine, [cross("2", 250, LoopRole.PIT_IN), cross("2", 300)])
    assert [p.pitted for p in engine.chart_points() if p.number == "2"] == [False, False, True]
    assert engine.chart_version == version  # a new lap leaves the past alone
    run(engine, [LapVoided("1", 2, 310 * S, "track limits")])
    assert engine.chart_version != version
    assert [p.voided for p in engine.chart_points() if p.number == "1"] == [False, True, False]


def test_a_correction_changes_the_chart_version_and_the_points() -> None:
    engine = race()
    version = engine.chart_version
    run(engine, [PassingDeleted("2", 90 * S, 300 * S, "double read", "rc")])
    assert engine.chart_version != version
    # without its 90 s crossing car 2 has one lap (2 -> 185): last on lap 1
    assert [(p.lap, p.number, p.position) for p in engine.chart_points() if p.lap == 1] == [
        (1, "1", 1),
        (1, "3", 2),
        (1, "2", 3),
    ]


def test_flag_periods_are_the_cautions_and_red_flags_in_time_order() -> None:
    engine = race()
    run(engine, [flag(Flag.RED, 400)])
    assert engine.flag_periods() == [
        FlagPeriod(Flag.YELLOW, 200 * S, 230 * S),
        FlagPeriod(Flag.RED, 400 * S, None),
    ]
