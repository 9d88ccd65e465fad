"""The engine's refusal query answers what ``apply`` then does, for every kind of driver change."""

from __future__ import annotations

import pytest
from engine_helpers import (
    H,
    S,
    change,
    every_lap,
    green,
    in_time_order,
    make_engine,
    pit_in,
    pit_out,
    run,
    team,
)

from server.engine import (
    OVERRIDABLE,
    CarRetired,
    DriverChangeRecorded,
    DriverChangeRefused,
    RaceEngine,
    Refusal,
    RuleSet,
)


def stopped_race() -> RaceEngine:
    """Car 7 (A, B, C; C flagged): A hands to B at 3000 s (A rests until 6600 s), B stops
    again at 5000 s. Car 9 retired at 4000 s."""
    engine = make_engine(
        [team("7", "A", "B", "C", flagged=("C",)), team("9", "X", "Y")],
        rules=RuleSet(),
        length_us=4 * H,
    )
    stop = [pit_in("7", 3000), change("7", "B", 3050), pit_out("7", 3200)]
    laps = every_lap("7", 1, 2999), every_lap("7", 3250, 4999), every_lap("9", 1, 3999)
    run(engine, in_time_order([green(0)], *laps, stop))
    run(engine, [CarRetired("9", 4000 * S, "gearbox", "rc"), pit_in("7", 5000)])
    return engine


@pytest.mark.parametrize(
    ("number", "driver", "refusal"),
    [
        ("7", "Z", Refusal.NOT_ON_ROSTER),
        ("7", "C", Refusal.LICENCE_FLAGGED),
        ("7", "A", Refusal.REST_NOT_OVER),
        ("8", "A", Refusal.UNKNOWN_CAR),
        ("9", "Y", Refusal.CAR_RETIRED),
        ("7", "B", None),  # the driver of the last stint again: no change, never a rest question
    ],
)
def test_the_query_is_what_apply_then_does(
    number: str, driver: str, refusal: Refusal | None
) -> None:
    engine = stopped_race()
    at = 5050 * S
    assert engine.driver_change_refusal(number, driver, at) == refusal
    out = engine.apply(change(number, driver, 5050))
    if refusal is None:
        assert [type(o) for o in out if isinstance(o, DriverChangeRecorded)] == [
            DriverChangeRecorded
        ]
    else:
        assert out == [DriverChangeRefused(number, driver, at, refusal)]
        assert isinstance(out[0], DriverChangeRefused) and out[0].reason is refusal


def test_rest_until_says_when_a_resting_driver_may_drive_again() -> None:
    engine = stopped_race()
    assert engine.rest_until("7", "A", 5050 * S) == 3000 * S + H
    assert engine.rest_until("7", "A", 6600 * S) is None  # rested: nothing owed
    assert engine.rest_until("7", "C", 5050 * S) is None  # never drove
    assert engine.rest_until("8", "A", 5050 * S) is None  # no such car
    assert engine.driver_change_refusal("7", "A", 6600 * S) is None


def test_an_override_clears_only_what_race_control_may_clear() -> None:
    engine = stopped_race()
    assert {Refusal.NOT_ON_ROSTER, Refusal.LICENCE_FLAGGED, Refusal.REST_NOT_OVER} == OVERRIDABLE
    for driver in ("Z", "C", "A"):
        assert engine.driver_change_refusal("7", driver, 5050 * S, override=True) is None
    assert engine.driver_change_refusal("9", "Y", 5050 * S, override=True) is Refusal.CAR_RETIRED
    assert engine.driver_change_refusal("8", "A", 5050 * S, override=True) is Refusal.UNKNOWN_CAR
    out = engine.apply(change("7", "A", 5050, override=True))
    assert DriverChangeRecorded("7", "B", "A", 5050 * S, False, True) in out


def test_before_the_start_only_the_roster_and_the_licence_count() -> None:
    engine = make_engine([team("7", "A", "B", flagged=("B",))], rules=RuleSet(), length_us=H)
    assert engine.driver_change_refusal("7", "B", -60 * S) is Refusal.LICENCE_FLAGGED
    assert engine.driver_change_refusal("7", "Q", -60 * S) is Refusal.NOT_ON_ROSTER
    assert engine.driver_change_refusal("7", "A", -60 * S) is None
