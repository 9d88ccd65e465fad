"""Flag transitions (one table), the session clock, and laps marked by FCY / red."""

from __future__ import annotations

import pytest
from engine_helpers import S, cross, flag, green, make_engine, run

from server.engine import Flag, FlagRejected, FlagShown, RuleSet
from server.engine.flags import CAUTIONS, TRANSITIONS


def test_green_from_none_starts_the_clock() -> None:
    engine = make_engine(length_us=600 * S)
    assert engine.status().flag is Flag.NONE
    assert engine.apply(green(12)) == [FlagShown(Flag.GREEN, 12 * S)]
    status = engine.status()
    assert (status.flag, status.green_at_us, status.ends_at_us) == (Flag.GREEN, 12 * S, 612 * S)
    run(engine, [flag(Flag.YELLOW, 20), flag(Flag.GREEN, 30)])
    assert engine.status().green_at_us == 12 * S  # only the first green starts it


SESSION_FLAGS = [flag for flag in Flag if flag is not Flag.LOCAL_YELLOW]
ALL_CAUTIONS = RuleSet(caution_flags=CAUTIONS)


@pytest.mark.parametrize("current", SESSION_FLAGS)
@pytest.mark.parametrize("new", list(Flag))
def test_every_transition_follows_the_table(current: Flag, new: Flag) -> None:
    engine = make_engine(rules=ALL_CAUTIONS)
    path = [] if current is Flag.NONE else [Flag.GREEN]
    if current is not Flag.NONE and current is not Flag.GREEN:
        path.append(current)
    run(engine, [flag(f, i) for i, f in enumerate(path)])
    assert engine.status().flag is current
    before = engine.status()
    out = engine.apply(flag(new, 10))
    # LOCAL_YELLOW in a row is for corner stations only: never a session flag
    if new in TRANSITIONS[current] and new is not Flag.LOCAL_YELLOW:
        assert FlagShown(new, 10 * S) in out
        assert engine.status().flag is new
    else:
        reason = "already_shown" if new is current else "invalid_transition"
        assert out == [FlagRejected(new, 10 * S, reason, current)]
        assert engine.status() == before


def test_flag_stamped_before_the_previous_change_is_rejected() -> None:
    engine = make_engine()
    run(engine, [green(10), flag(Flag.YELLOW, 20)])
    out = engine.apply(flag(Flag.GREEN, 15))
    assert out == [FlagRejected(Flag.GREEN, 15 * S, "out_of_order", Flag.YELLOW)]


def test_laps_under_full_course_yellow_and_red_are_marked() -> None:
    engine = make_engine(["1"])
    run(engine, [green(0), cross("1", 1), cross("1", 100)])  # lap 1 green
    run(engine, [flag(Flag.YELLOW, 150), cross("1", 200)])  # lap 2: yellow during it
    run(engine, [flag(Flag.GREEN, 210), cross("1", 300)])  # lap 3: began under yellow
    run(engine, [cross("1", 400)])  # lap 4: green
    run(engine, [flag(Flag.YELLOW, 410), flag(Flag.RED, 420), flag(Flag.GREEN, 430)])
    run(engine, [cross("1", 500)])  # lap 5: yellow then red: red wins
    run(engine, [flag(Flag.YELLOW, 600), cross("1", 600)])  # shown at the crossing: next lap
    run(engine, [flag(Flag.GREEN, 650), cross("1", 700)])
    assert [lap.flag for lap in engine.laps_of("1")] == [
        Flag.GREEN,
        Flag.YELLOW,
        Flag.YELLOW,
        Flag.GREEN,
        Flag.RED,
        Flag.GREEN,
        Flag.YELLOW,
    ]
