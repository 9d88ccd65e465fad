"""Race control: local yellows, cautions per rule set, stopping the clock, messages."""

from __future__ import annotations

from engine_helpers import S, cross, every_lap, flag, green, make_engine, of_type, run

from server.engine import (
    AlertAcknowledged,
    AlertRaised,
    AlertsChanged,
    CheckeredFlagTaken,
    ClockExpired,
    ClockPaused,
    ClockResumed,
    CommandRefused,
    ExternalAlertRaised,
    Flag,
    FlagChanged,
    FlagRejected,
    LocalFlagShown,
    MessagePosted,
    RaceControlMessage,
    RaceControlMessagePosted,
    RuleSet,
    SessionClockPaused,
    SessionClockResumed,
    Severity,
    preset,
)


def local(flag_: Flag, station: str, at_s: float) -> FlagChanged:
    return FlagChanged(at_us=round(at_s * S), flag=flag_, station=station)


def test_a_local_yellow_is_shown_at_a_station_and_cleared_by_green_there() -> None:
    engine = make_engine(["1"])
    run(engine, [green(0), cross("1", 0)])
    assert engine.apply(local(Flag.LOCAL_YELLOW, "T3", 50)) == [
        LocalFlagShown("T3", Flag.LOCAL_YELLOW, 50 * S)
    ]
    run(engine, [local(Flag.LOCAL_YELLOW, "T7", 60)])
    status = engine.status()
    assert (status.flag, status.local_yellows) == (Flag.GREEN, ("T3", "T7"))
    assert engine.apply(local(Flag.LOCAL_YELLOW, "T3", 61)) == [
        FlagRejected(Flag.LOCAL_YELLOW, 61 * S, "already_shown", Flag.GREEN)
    ]
    run(engine, [local(Flag.GREEN, "T3", 70), cross("1", 100)])
    assert engine.status().local_yellows == ("T7",)
    assert engine.laps_of("1")[0].flag is Flag.GREEN  # local yellows never mark laps
    assert engine.apply(local(Flag.RED, "T7", 80))[0].reason == "invalid_transition"  # type: ignore[union-attr]


def test_no_local_yellow_before_the_start_or_under_red() -> None:
    engine = make_engine(["1"])
    assert engine.apply(local(Flag.LOCAL_YELLOW, "T1", 0)) == [
        FlagRejected(Flag.LOCAL_YELLOW, 0, "invalid_transition", Flag.NONE)
    ]
    run(engine, [green(1), flag(Flag.RED, 2)])
    assert of_type(engine.apply(local(Flag.LOCAL_YELLOW, "T1", 3)), FlagRejected)


def test_code_60_and_safety_car_only_where_the_rule_set_has_them() -> None:
    img = make_engine(["1"])
    run(img, [green(0)])
    assert img.apply(flag(Flag.CODE_60, 10)) == [
        FlagRejected(Flag.CODE_60, 10 * S, "not_in_rules", Flag.GREEN)
    ]
    brscc = make_engine(["1"], rules=preset("brscc"))
    run(brscc, [green(0), cross("1", 0), flag(Flag.SAFETY_CAR, 50), cross("1", 100)])
    run(brscc, [flag(Flag.GREEN, 150), cross("1", 200)])
    assert [lap.flag for lap in brscc.laps_of("1")] == [Flag.SAFETY_CAR, Flag.SAFETY_CAR]


def test_race_control_stops_the_clock_under_red_and_the_finish_moves() -> None:
    engine = make_engine(["1"], length_us=600 * S)
    run(engine, [green(0), *every_lap("1", 0, 300)])
    assert engine.apply(SessionClockPaused(310 * S, "rc")) == [
        CommandRefused("SessionClockPaused", 310 * S, "not_under_red", None)
    ]
    run(engine, [flag(Flag.RED, 320)])
    # standings may change with it: the pit window moves with the clock
    assert of_type(engine.apply(SessionClockPaused(330 * S, "rc")), ClockPaused) == [
        ClockPaused(330 * S)
    ]
    assert engine.apply(SessionClockPaused(331 * S, "rc"))[0].reason == "already_paused"  # type: ignore[union-attr]
    status = engine.status()
    assert (status.clock_paused_since_us, status.ends_at_us) == (330 * S, 600 * S)
    assert of_type(engine.tick(900 * S), ClockExpired) == []  # nothing expires while paused
    resumed = engine.apply(SessionClockResumed(930 * S, "rc"))
    assert of_type(resumed, ClockResumed) == [ClockResumed(930 * S, 1200 * S)]
    status = engine.status()
    assert (status.clock_paused_since_us, status.clock_paused_us, status.ends_at_us) == (
        None,
        600 * S,
        1200 * S,
    )
    run(engine, [flag(Flag.GREEN, 930), *every_lap("1", 1000, 1100)])
    assert engine.status().checkered_at_us is None  # 1100 s is before the new end
    assert of_type(engine.apply(cross("1", 1200)), CheckeredFlagTaken)
    assert of_type(engine.tick(1200 * S), ClockExpired) == [ClockExpired(1200 * S)]


def test_a_rule_set_may_forbid_stopping_the_clock() -> None:
    engine = make_engine(["1"], rules=RuleSet(red_may_stop_clock=False))
    run(engine, [green(0), flag(Flag.RED, 10)])
    assert engine.apply(SessionClockPaused(20 * S, "rc"))[0].reason == "not_in_rules"  # type: ignore[union-attr]
    assert engine.apply(SessionClockResumed(30 * S, "rc"))[0].reason == "not_paused"  # type: ignore[union-attr]


def test_race_control_messages_are_kept_newest_first() -> None:
    engine = make_engine(["1"])
    out = engine.apply(RaceControlMessagePosted(10 * S, "Track limits at T4", actor="rc"))
    assert out == [MessagePosted(RaceControlMessage(10 * S, "Track limits at T4", None, "rc"))]
    run(engine, [RaceControlMessagePosted(20 * S, "Black and orange", number="1", actor="rc")])
    assert [(m.text, m.number) for m in engine.messages()] == [
        ("Black and orange", "1"),
        ("Track limits at T4", None),
    ]


def test_external_alerts_are_journaled_like_the_rest() -> None:
    engine = make_engine(["1"])
    event = ExternalAlertRaised("decoder_silent", "Decoder D1 silent for 30 s", 40 * S)
    (raised,) = of_type(engine.apply(event), AlertRaised)
    alert = raised.alert
    assert (alert.id, alert.kind, alert.severity, alert.at_us) == (
        "external:decoder_silent:40000000:",
        "decoder_silent",
        Severity.WARNING,
        40 * S,
    )
    assert engine.alerts() == [alert]


def test_acknowledging_an_alert_marks_it_and_reports_the_change() -> None:
    engine = make_engine(["1"])
    run(engine, [ExternalAlertRaised("decoder_lost", "D1 lost", 40 * S)])
    out = engine.apply(AlertAcknowledged("external:decoder_lost:40000000:", 50 * S, "rc"))
    assert out == [AlertsChanged(50 * S)]
    assert [a.acknowledged for a in engine.alerts()] == [True]
    assert engine.apply(AlertAcknowledged("no-such-alert", 60 * S, "rc")) == []
