"""The rule set and its presets, and the stint-clock interval arithmetic."""

from __future__ import annotations

import pytest
from engine_helpers import (
    H,
    M,
    S,
    change,
    cross,
    green,
    make_engine,
    of_type,
    pit_in,
    pit_out,
    run,
    team,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from server.engine import (
    IMG,
    PRESETS,
    AlertRaised,
    DriverChangeRecorded,
    DriverChangeRefused,
    DriveTime,
    Flag,
    PenaltyKind,
    PenaltySpec,
    RuleSet,
    SessionConfig,
    SessionKind,
    preset,
)
from server.engine.drivetime import Span, driven_us, merge, reaches_at


def test_the_default_rule_set_is_img() -> None:
    rules = SessionConfig(1, SessionKind.RACE).rules
    assert rules is IMG and preset("img") is IMG
    assert (rules.max_stint_us, rules.stint_warnings_us, rules.min_rest_us) == (
        3 * H,
        (15 * M, 5 * M),
        H,
    )
    assert (rules.mandatory_stops, rules.window_opens_us, rules.window_closes_us) == (1, 0, None)
    assert (rules.min_stop_us, rules.solo_max_race_us, rules.sprint_split_us) == (
        None,
        3 * H,
        30 * M,
    )
    assert rules.drive_time is DriveTime.PIT_EXCLUDED
    assert not rules.stint_frozen_under_caution and rules.red_may_stop_clock
    assert rules.missed_stop_penalty == PenaltySpec(PenaltyKind.LAPS, 1)
    assert rules.caution_flags == {Flag.YELLOW}


def test_presets_carry_the_rows_of_the_rules_table() -> None:
    assert set(PRESETS) == {"img", "champcar_older", "aer", "wcma", "brscc"}
    assert (preset("champcar_older").max_stint_us, preset("champcar_older").min_stop_us) == (
        2 * H,
        5 * M,
    )
    assert (preset("aer").min_stop_us, preset("aer").required_stops(6 * H)) == (3 * M, 3)
    assert preset("wcma").short_stop_penalty == PenaltySpec(PenaltyKind.STOP_AND_GO, 300)
    assert preset("brscc").min_stop_under_safety_car_us == 6 * M
    assert Flag.SAFETY_CAR in preset("brscc").caution_flags
    assert all(name == rules.name for name, rules in PRESETS.items())
    with pytest.raises(KeyError, match="known"):
        preset("lemons")


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        (PenaltySpec(PenaltyKind.LAPS, 1), "1 lap penalty"),
        (PenaltySpec(PenaltyKind.LAPS, 2), "2 laps penalty"),
        (PenaltySpec(PenaltyKind.TIME, 30), "30 s time penalty"),
        (PenaltySpec(PenaltyKind.STOP_AND_GO, 300), "300 s stop-and-go"),
        (PenaltySpec(PenaltyKind.DRIVE_THROUGH, 0), "drive-through penalty"),
    ],
)
def test_penalties_describe_themselves(spec: PenaltySpec, text: str) -> None:
    assert spec.describe() == text


def test_solo_driving_is_allowed_up_to_the_limit_inclusive() -> None:
    assert IMG.solo_allowed(3 * H) and not IMG.solo_allowed(3 * H + 1)
    assert not IMG.solo_allowed(None)
    assert not RuleSet(solo_max_race_us=None).solo_allowed(H)


def test_no_rest_rule_lets_a_driver_straight_back_in() -> None:
    engine = make_engine([team("7", "A", "B")], rules=RuleSet(min_rest_us=None), length_us=H)
    run(engine, [green(0), cross("7", 1), pit_in("7", 50), change("7", "B", 55)])
    run(engine, [pit_out("7", 60), cross("7", 100), pit_in("7", 150)])
    out = engine.apply(change("7", "A", 155))
    assert of_type(out, DriverChangeRecorded)[0].rest_overridden is False


def test_a_flagged_starting_driver_is_shown_to_race_control_at_the_green() -> None:
    engine = make_engine([team("7", "A", "B", flagged=("A",))], length_us=H)
    (raised,) = of_type(engine.apply(green(0)), AlertRaised)
    assert (raised.alert.id, raised.alert.severity) == ("licence_flagged:7:A", "critical")
    assert engine.car_detail("7").drivers[0].flagged
    assert engine.apply(change("7", "A", 5)) == [
        DriverChangeRefused("7", "A", 5 * S, "licence_flagged")
    ]


_SPANS = st.lists(
    st.tuples(st.integers(0, 1000), st.one_of(st.none(), st.integers(0, 300))).map(
        lambda t: (t[0], None if t[1] is None else t[0] + t[1])
    ),
    max_size=5,
)


@settings(max_examples=500, deadline=None)
@given(
    start=st.integers(0, 500),
    length=st.one_of(st.none(), st.integers(0, 1500)),
    spans=_SPANS,
    amount=st.integers(0, 1500),
)
def test_reaches_at_is_the_first_moment_driven_time_gets_there(
    start: int, length: int | None, spans: list[Span], amount: int
) -> None:
    end = None if length is None else start + length
    excluded = merge(spans)
    at = reaches_at(start, end, excluded, amount)
    if at is None:
        horizon = end if end is not None else 5000
        assert driven_us(start, end, excluded, horizon) < amount
    else:
        assert driven_us(start, end, excluded, at) == amount
        assert at == start or driven_us(start, end, excluded, at - 1) < amount
