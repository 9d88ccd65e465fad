"""Drivers and stints: who drives, stint clocks, the 3-hour rule, rest, and changes."""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import (
    H,
    M,
    S,
    change,
    every_lap,
    flag,
    green,
    in_time_order,
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
    DriverChangeRecorded,
    DriverChangeRefused,
    DriveTime,
    Entry,
    Flag,
    InputEvent,
    RaceEngine,
    RuleSet,
    StintClock,
)


def race(*entries: Entry, **rules: Any) -> RaceEngine:
    cars = entries or (team("7", "A", "B", "C"),)
    return make_engine(list(cars), rules=RuleSet(**rules), length_us=4 * H)


def first_stop(number: str = "7", driver: str | None = "B") -> list[InputEvent]:
    """Laps from the start, a stop 3000-3200 s (with a change to ``driver``), laps again."""
    stop: list[InputEvent] = [pit_in(number, 3000), pit_out(number, 3200)]
    if driver is not None:
        stop.insert(1, change(number, driver, 3050))
    return in_time_order(
        [green(0)], every_lap(number, 1, 2999), stop, every_lap(number, 3250, 3999)
    )


def test_the_first_driver_starts_at_the_green_flag() -> None:
    engine = race()
    run(engine, [green(0)])
    assert row(engine, "7").stint_clock is StintClock.NONE  # not started yet
    run(engine, [*every_lap("7", 1, 500)])
    r = row(engine, "7")
    assert (r.driver, r.stint_started_us, r.stint_clock) == ("A", 0, StintClock.RUNNING)
    assert (r.stint_drive_us, r.stint_clock_since_us) == (0, 0)


def test_a_confirmed_change_ends_the_stint_at_pit_in_and_starts_one_at_pit_out() -> None:
    engine = race()
    out = run(engine, first_stop())
    assert DriverChangeRecorded("7", "A", "B", 3050 * S, pending=False) in out
    r = row(engine, "7")
    assert (r.driver, r.stint_started_us, r.stint_clock, r.pit_stops) == (
        "B",
        3200 * S,
        StintClock.RUNNING,
        1,
    )
    detail = engine.car_detail("7", now_us=4000 * S)
    assert [(s.driver, s.start_us, s.end_us, s.drive_us) for s in detail.stints] == [
        ("A", 0, 3000 * S, 3000 * S),
        ("B", 3200 * S, None, 800 * S),
    ]
    a, b, c = detail.drivers
    assert (a.name, a.drive_us, a.rest_until_us, a.in_car) == ("A", 3000 * S, 3000 * S + H, False)
    assert (b.name, b.drive_us, b.rest_until_us, b.in_car) == ("B", 800 * S, None, True)
    assert (c.drive_us, c.stints) == (0, 0)


def test_during_the_stop_the_clock_shows_in_pit_with_the_incoming_driver() -> None:
    engine = race()
    run(engine, [green(0), *every_lap("7", 1, 2999), pit_in("7", 3000)])
    r = row(engine, "7")
    assert (r.driver, r.stint_clock, r.stint_clock_since_us, r.stint_drive_us) == (
        "A",
        StintClock.IN_PIT,
        3000 * S,
        3000 * S,
    )
    run(engine, [change("7", "B", 3050)])
    r = row(engine, "7")
    assert (r.driver, r.stint_clock, r.stint_started_us, r.stint_drive_us) == (
        "B",
        StintClock.IN_PIT,
        None,
        0,
    )


def test_a_change_confirmed_before_the_car_reaches_pit_in_applies_at_the_stop() -> None:
    engine = race()
    run(engine, [green(0), *every_lap("7", 1, 2900)])
    out = engine.apply(change("7", "B", 2950))
    assert of_type(out, DriverChangeRecorded) == [
        DriverChangeRecorded("7", "A", "B", 2950 * S, pending=True)
    ]
    assert row(engine, "7").driver == "A"  # still driving until the stop
    assert engine.car_detail("7").pending_driver == "B"
    run(engine, [pit_in("7", 3000), pit_out("7", 3200), *every_lap("7", 3250, 3500)])
    detail = engine.car_detail("7", now_us=3500 * S)
    assert detail.pending_driver is None
    assert [(s.driver, s.start_us, s.end_us) for s in detail.stints] == [
        ("A", 0, 3000 * S),
        ("B", 3200 * S, None),
    ]
    assert detail.stops[0].driver_out == "A" and detail.stops[0].driver_in == "B"


def test_a_stop_without_a_confirmed_change_keeps_the_driver_and_the_stint() -> None:
    engine = race()
    run(engine, first_stop(driver=None))
    detail = engine.car_detail("7", now_us=4000 * S)
    assert [(s.driver, s.start_us, s.drive_us) for s in detail.stints] == [("A", 0, 3800 * S)]
    assert detail.stops[0].driver_in == "A" and not detail.stops[0].changed
    r = row(engine, "7")
    assert (r.stint_clock, r.stint_clock_since_us, r.stint_drive_us) == (
        StintClock.RUNNING,
        3200 * S,
        3000 * S,  # the pit lane did not count
    )


def test_pit_lane_time_counts_when_the_rule_set_excludes_it_only_at_changes() -> None:
    engine = race(drive_time=DriveTime.PIT_EXCLUDED_ON_CHANGE)
    run(engine, first_stop(driver=None))
    assert engine.car_detail("7", now_us=4000 * S).stints[0].drive_us == 4000 * S
    changed = race(drive_time=DriveTime.PIT_EXCLUDED_ON_CHANGE)
    run(changed, first_stop())
    assert changed.car_detail("7", now_us=4000 * S).stints[0].drive_us == 3000 * S


def test_the_same_driver_confirmed_again_is_no_change() -> None:
    engine = race()
    run(engine, [green(0), *every_lap("7", 1, 2999), pit_in("7", 3000)])
    run(engine, [change("7", "B", 3050), change("7", "A", 3060), pit_out("7", 3200)])
    detail = engine.car_detail("7", now_us=3300 * S)
    assert [s.driver for s in detail.stints] == ["A"]
    assert not detail.stops[0].changed


def test_a_change_before_the_start_picks_the_starting_driver() -> None:
    engine = race()
    out = run(engine, [change("7", "C", -60), green(0), *every_lap("7", 1, 200)])
    assert DriverChangeRecorded("7", "A", "C", -60 * S, pending=False) in out
    assert row(engine, "7").driver == "C"


@pytest.mark.parametrize(
    ("driver", "reason"),
    [("Z", "not_on_roster"), ("C", "licence_flagged")],
)
def test_drivers_off_the_roster_or_with_a_flagged_licence_are_refused(
    driver: str, reason: str
) -> None:
    engine = race(team("7", "A", "B", "C", flagged=("C",)))
    run(engine, [green(0), *every_lap("7", 1, 2999), pit_in("7", 3000)])
    out = engine.apply(change("7", driver, 3050))
    assert out == [DriverChangeRefused("7", driver, 3050 * S, reason)]
    assert engine.car_detail("7").stops[0].driver_in == "A"
    assert engine.apply(change("8", "A", 3060)) == [
        DriverChangeRefused("8", "A", 3060 * S, "unknown_car")
    ]


def rest_race() -> RaceEngine:
    """A hands to B at 3000 s (A rests until 6600 s); B stops again at 5000 s."""
    engine = race()
    run(engine, first_stop())
    run(engine, [*every_lap("7", 4000, 4999), pit_in("7", 5000)])
    return engine


def test_putting_a_driver_back_in_before_the_rest_is_over_is_refused() -> None:
    engine = rest_race()
    assert engine.apply(change("7", "A", 5050)) == [
        DriverChangeRefused("7", "A", 5050 * S, "rest_not_over")
    ]
    assert engine.car_detail("7").stops[1].driver_in == "B"
    out = engine.apply(change("7", "C", 5060))  # someone else may go
    assert of_type(out, DriverChangeRecorded)[0].driver_in == "C"


def test_an_override_applies_the_change_and_raises_an_alert() -> None:
    engine = rest_race()
    out = engine.apply(change("7", "A", 5050, override=True))
    recorded = of_type(out, DriverChangeRecorded)
    assert recorded == [DriverChangeRecorded("7", "B", "A", 5050 * S, False, True)]
    (raised,) = of_type(out, AlertRaised)
    assert raised.alert.id == "rest_override:7:5050000000"
    assert (raised.alert.kind, raised.alert.number) == ("rest_override", "7")
    run(engine, [pit_out("7", 5200)])
    assert row(engine, "7").driver == "A"


def test_the_rest_is_over_exactly_one_hour_after_the_pit_in() -> None:
    engine = race()
    run(engine, first_stop())
    run(engine, [*every_lap("7", 4000, 6599), pit_in("7", 6600)])
    out = engine.apply(change("7", "A", 6600))  # 3000 s + 1 h
    assert of_type(out, DriverChangeRecorded)[0].rest_overridden is False


def stint_alerts(engine: RaceEngine, now_s: float) -> list[str]:
    raised = of_type(engine.tick(round(now_s * S)), AlertRaised)
    return [a.alert.id for a in raised if a.alert.kind.startswith("stint")]


def test_stint_warnings_and_the_limit_fire_from_tick_at_their_moment() -> None:
    engine = race()
    run(engine, [green(0), *every_lap("7", 1, 3 * 3600)])
    assert stint_alerts(engine, 2 * 3600 + 45 * 60 - 1) == []
    assert stint_alerts(engine, 2 * 3600 + 45 * 60) == ["stint_warning:7:1:900"]
    assert stint_alerts(engine, 2 * 3600 + 56 * 60) == ["stint_warning:7:1:300"]
    assert stint_alerts(engine, 3 * 3600) == ["stint_limit:7:1"]
    limit = engine.alerts()[0]
    assert (limit.at_us, limit.severity, limit.timed) == (3 * H, "critical", True)
    assert [a.at_us for a in engine.alerts()] == [3 * H, 3 * H - 5 * M, 3 * H - 15 * M]


def test_a_late_tick_raises_every_alert_due_once() -> None:
    engine = race()
    run(engine, [green(0), *every_lap("7", 1, 3 * 3600)])
    assert sorted(stint_alerts(engine, 4 * 3600)) == [
        "stint_limit:7:1",
        "stint_warning:7:1:300",
        "stint_warning:7:1:900",
    ]
    assert stint_alerts(engine, 4 * 3600 + 1) == []


def test_a_stint_ended_in_time_raises_nothing_later() -> None:
    engine = race()
    run(engine, first_stop())
    assert stint_alerts(engine, 3200 + 2 * 3600) == []
    ids = stint_alerts(engine, 3200 + 3 * 3600)  # B's stint from 3200 s
    assert sorted(ids) == ["stint_limit:7:2", "stint_warning:7:2:300", "stint_warning:7:2:900"]


def test_stint_clocks_freeze_under_full_course_yellow_when_the_rules_say_so() -> None:
    events = [green(0), *every_lap("7", 1, 999), flag(Flag.YELLOW, 1000)]
    frozen, running = race(stint_frozen_under_caution=True), race()
    run(frozen, events)
    run(running, events)
    r = row(frozen, "7")
    assert (r.stint_clock, r.stint_clock_since_us, r.stint_drive_us) == (
        StintClock.FROZEN,
        1000 * S,
        1000 * S,
    )
    assert row(running, "7").stint_clock is StintClock.RUNNING
    for engine in (frozen, running):
        run(engine, [flag(Flag.GREEN, 1600), *every_lap("7", 1001, 3 * 3600 + 700)])
    assert row(frozen, "7").stint_clock_since_us == 1600 * S
    warning = 2 * 3600 + 45 * 60
    assert stint_alerts(running, warning) == ["stint_warning:7:1:900"]
    assert stint_alerts(frozen, warning + 599) == []
    assert stint_alerts(frozen, warning + 600) == ["stint_warning:7:1:900"]


def test_no_stint_limit_in_the_rules_means_no_stint_alerts() -> None:
    engine = race(max_stint_us=None)
    run(engine, [green(0), *every_lap("7", 1, 4 * 3600)])
    assert stint_alerts(engine, 4 * 3600) == []


@pytest.mark.parametrize("driver", ["Z", "C"])
def test_race_control_may_override_a_roster_or_licence_refusal(driver: str) -> None:
    engine = race(team("7", "A", "B", "C", flagged=("C",)))
    run(engine, [green(0), *every_lap("7", 1, 2999), pit_in("7", 3000)])
    out = engine.apply(change("7", driver, 3050, override=True))
    assert of_type(out, DriverChangeRecorded)[0].driver_in == driver
    assert engine.car_detail("7").stops[0].driver_in == driver
