"""Time-certain finish, classification at the next crossing, timeout, manual checkered."""

from __future__ import annotations

from engine_helpers import S, cross, flag, green, make_engine, numbers, of_type, row, run

from server.engine import (
    CarFinished,
    CarRetired,
    CarState,
    CheckeredFlagTaken,
    ClockExpired,
    Flag,
    FlagShown,
    LapCompleted,
    LoopRole,
    PassingRejected,
    PitInMarked,
    RaceEngine,
    RejectReason,
    SessionFinished,
    SessionKind,
    SprintCheckeredTaken,
)

LENGTH = 300 * S  # a 5 minute race: expiry at 300 s after green at 0
TIMEOUT = 120 * S


def race() -> RaceEngine:
    engine = make_engine(["1", "2", "3"], length_us=LENGTH, finish_timeout_us=TIMEOUT)
    run(engine, [green(0), cross("1", 1), cross("2", 2), cross("3", 3)])
    return engine


def test_leader_crossing_before_expiry_only_completes_a_lap() -> None:
    engine = race()
    out = run(engine, [cross("1", 100), cross("1", 199), cross("1", 298)])
    assert of_type(out, CheckeredFlagTaken) == []
    assert engine.status().flag is Flag.GREEN
    out = engine.apply(cross("1", 397))
    assert of_type(out, CheckeredFlagTaken) == [CheckeredFlagTaken("1", 397 * S)]
    assert FlagShown(Flag.CHECKERED, 397 * S) in out
    assert of_type(out, CarFinished) == [CarFinished("1", 1, 4, 397 * S)]
    status = engine.status()
    assert (status.flag, status.checkered_at_us, status.ends_at_us) == (
        Flag.CHECKERED,
        397 * S,
        LENGTH,
    )
    assert row(engine, "1").state is CarState.FINISHED


def test_leader_crossing_exactly_at_expiry_takes_the_checkered() -> None:
    engine = race()
    run(engine, [cross("1", 100), cross("1", 200)])
    out = engine.apply(cross("1", 300))
    assert of_type(out, CheckeredFlagTaken) == [CheckeredFlagTaken("1", 300 * S)]


def test_lapped_car_crossing_first_after_expiry_is_not_the_winner() -> None:
    engine = race()
    run(engine, [cross("1", 100), cross("1", 200), cross("1", 290), cross("3", 150)])
    out = engine.apply(cross("3", 305))  # 2 laps against the leader's 3
    assert of_type(out, CheckeredFlagTaken) == []
    assert of_type(out, CarFinished) == []
    assert of_type(out, LapCompleted)[0].lap == 2
    out = engine.apply(cross("1", 390))
    assert of_type(out, CheckeredFlagTaken) == [CheckeredFlagTaken("1", 390 * S)]
    out = engine.apply(cross("3", 460))  # classified at its next crossing, the lap counts
    assert of_type(out, CarFinished) == [CarFinished("3", 2, 3, 460 * S)]
    out = engine.apply(cross("3", 560))  # the timeout ran out at 510: car 2 first
    assert of_type(out, PassingRejected) == [
        PassingRejected("T3", 560 * S, RejectReason.FINISHED, "3")
    ]
    assert of_type(out, CarFinished) == [CarFinished("2", 3, 0, 2 * S)]  # silent since 2 s
    assert row(engine, "3").laps == 3


def test_car_on_the_lead_lap_that_passes_the_leader_after_expiry_takes_it() -> None:
    engine = race()
    run(engine, [cross("1", 100), cross("2", 101), cross("1", 200), cross("2", 201)])
    out = engine.apply(cross("2", 290 + 20))  # passed the leader on track
    assert of_type(out, CheckeredFlagTaken) == [CheckeredFlagTaken("2", 310 * S)]
    out = engine.apply(cross("1", 312))
    assert of_type(out, CarFinished) == [CarFinished("1", 2, 3, 312 * S)]
    assert numbers(engine)[:2] == ["2", "1"]


def test_everyone_classified_finishes_the_session_once() -> None:
    engine = race()
    run(engine, [cross("1", 100), cross("2", 110), cross("3", 120)])
    run(engine, [cross("1", 200), cross("2", 220), cross("3", 240)])
    run(engine, [cross("1", 300)])
    assert not engine.status().finished
    run(engine, [cross("2", 330)])
    out = engine.apply(cross("3", 360))
    assert of_type(out, CarFinished) == [CarFinished("3", 3, 3, 360 * S)]
    assert of_type(out, SessionFinished) == [SessionFinished(360 * S)]
    assert engine.status().finished
    assert of_type(engine.tick(1000 * S), SessionFinished) == []
    # pit loops after the flag are the way home, not errors
    assert engine.apply(cross("1", 380, LoopRole.PIT_IN)) == []
    assert engine.rejected_counts()["finished"] == 0


def test_clock_expired_is_reported_once_by_tick() -> None:
    engine = make_engine(length_us=LENGTH)
    assert engine.tick(500 * S) == []  # not started: no clock
    run(engine, [green(10)])
    assert of_type(engine.tick(309 * S), ClockExpired) == []
    assert of_type(engine.tick(310 * S), ClockExpired) == [ClockExpired(310 * S)]
    assert of_type(engine.tick(311 * S), ClockExpired) == []


def test_silent_cars_are_classified_at_their_last_crossing_after_the_timeout() -> None:
    engine = race()
    run(engine, [cross("1", 100), cross("2", 101), cross("3", 150)])
    run(engine, [cross("1", 200), cross("2", 201), cross("1", 300)])
    assert of_type(engine.tick(300 * S + TIMEOUT - 1), CarFinished) == []
    out = engine.tick(300 * S + TIMEOUT)
    assert of_type(out, CarFinished) == [
        CarFinished("2", 2, 2, 201 * S),
        CarFinished("3", 3, 1, 150 * S),
    ]
    assert of_type(out, SessionFinished) == [SessionFinished(300 * S + TIMEOUT)]
    assert {r.state for r in engine.standings()} == {CarState.FINISHED}


def test_timeout_is_judged_by_crossing_time_without_any_tick() -> None:
    engine = race()
    run(engine, [cross("1", 100), cross("2", 101), cross("1", 300)])
    out = engine.apply(cross("2", 300 + 121))  # later than checkered + timeout
    # the timeout classifies every silent car at its last crossing, then judges this one
    assert of_type(out, CarFinished) == [
        CarFinished("2", 2, 1, 101 * S),
        CarFinished("3", 3, 0, 3 * S),
    ]
    assert of_type(out, PassingRejected)[0].reason == "finished"
    assert row(engine, "2").laps == 1


def test_a_late_crossing_within_the_timeout_reopens_a_tick_classification() -> None:
    engine = race()
    run(engine, [cross("1", 100), cross("2", 101), cross("1", 300)])
    engine.tick(600 * S)
    assert row(engine, "2").state is CarState.FINISHED
    out = engine.apply(cross("2", 350))  # happened before the timeout, journaled late
    assert of_type(out, CarFinished) == [CarFinished("2", 2, 2, 350 * S)]
    assert row(engine, "2").laps == 2


def test_a_car_that_never_started_cannot_start_after_the_checkered() -> None:
    engine = make_engine(["1", "2"], length_us=LENGTH)
    run(engine, [green(0), cross("1", 1), cross("1", 100), cross("1", 200)])
    out = run(engine, [cross("1", 300)])
    assert of_type(out, SessionFinished) == [SessionFinished(300 * S)]
    rejected = engine.apply(cross("2", 310))
    assert rejected == [PassingRejected("T2", 310 * S, RejectReason.FINISHED, "2")]


def test_manual_checkered_finishes_each_car_at_its_next_crossing() -> None:
    engine = make_engine(["1", "2"])  # no scheduled length
    run(engine, [green(0), cross("1", 1), cross("2", 2), cross("1", 100)])
    out = engine.apply(flag(Flag.CHECKERED, 150))
    assert out == [FlagShown(Flag.CHECKERED, 150 * S)]
    out = engine.apply(cross("2", 150))  # at the flag time counts as after
    assert of_type(out, CarFinished) == [CarFinished("2", 2, 1, 150 * S)]
    out = engine.apply(cross("1", 200))
    assert of_type(out, CarFinished) == [CarFinished("1", 1, 2, 200 * S)]
    assert of_type(out, SessionFinished) == [SessionFinished(200 * S)]


def test_manual_checkered_journaled_after_a_later_crossing_still_finishes_it() -> None:
    engine = make_engine(["1", "2"])
    run(engine, [green(0), cross("1", 1), cross("2", 2), cross("1", 155)])
    out = engine.apply(flag(Flag.CHECKERED, 150))
    assert of_type(out, CarFinished) == [CarFinished("1", 1, 1, 155 * S)]


def test_practice_checkered_counts_the_in_lap_then_stops_timing() -> None:
    engine = make_engine(["1"], kind=SessionKind.PRACTICE, length_us=LENGTH)
    run(engine, [green(0), cross("1", 1), cross("1", 100), cross("1", 301)])
    assert engine.status().flag is Flag.GREEN  # no time-certain finish in practice
    run(engine, [flag(Flag.CHECKERED, 350)])
    out = engine.apply(cross("1", 390))
    assert of_type(out, LapCompleted)[0].lap_time_us == 89 * S
    assert of_type(out, CarFinished) == [CarFinished("1", 1, 3, 390 * S)]
    assert of_type(engine.apply(cross("1", 480)), PassingRejected)[0].reason == "finished"
    assert row(engine, "1").best_lap_us == 89 * S


def test_leader_retired_a_lap_ahead_does_not_hold_the_checkered() -> None:
    """The finish belongs to the leader among running cars; the retired car is classified
    by its last crossing, behind the cars still racing."""
    engine = race()
    run(engine, [cross("1", 60), cross("1", 120), cross("1", 180), cross("2", 100)])
    engine.apply(CarRetired("1", 200 * S, reason="engine", actor="rc"))
    assert numbers(engine)[0] == "2"  # the retired car no longer leads
    run(engine, [cross("3", 110), cross("2", 200), cross("3", 210)])
    out = engine.apply(cross("2", 305))
    assert of_type(out, CheckeredFlagTaken) == [CheckeredFlagTaken("2", 305 * S)]
    finished = engine.apply(cross("3", 315))
    assert of_type(finished, CarFinished) == [CarFinished("3", 2, 3, 315 * S)]
    assert of_type(finished, SessionFinished) == [SessionFinished(315 * S)]
    assert numbers(engine) == ["2", "3", "1"]
    retired = row(engine, "1")
    assert (retired.laps, retired.last_crossing_us, retired.state) == (3, 180 * S, CarState.RETIRED)


def test_sprint_cut_goes_to_the_running_leader_when_the_leader_retired() -> None:
    engine = make_engine(["1", "2"], kind=SessionKind.SPRINTDURO, length_us=5400 * S)
    run(engine, [green(0), cross("1", 1), cross("2", 2)])
    run(engine, [cross("1", 600), cross("1", 1200), cross("1", 1700), cross("2", 700)])
    engine.apply(CarRetired("1", 1750 * S, reason="gearbox", actor="rc"))
    out = run(engine, [cross("2", 1400), cross("2", 1810)])
    assert of_type(out, SprintCheckeredTaken) == [SprintCheckeredTaken("2", 1810 * S)]


def test_an_event_after_the_timeout_is_judged_after_it_with_or_without_a_tick() -> None:
    """Found by the replay property: live, a tick at 602 s came before a checkered journaled
    at 2 s, so the car was classified before its pit-in mark at 602 s; a replay (no ticks)
    applied the mark first and retired the car. The timeout now runs out at its moment."""

    def steps(engine: RaceEngine, ticks: bool) -> None:
        if ticks:
            engine.tick(602 * S)
        engine.apply(flag(Flag.CHECKERED, 2))
        engine.apply(PitInMarked("1", 602 * S, "m"))
        engine.tick(602 * S)

    live, replayed = race(), race()
    steps(live, ticks=True)
    steps(replayed, ticks=False)
    assert live.standings() == replayed.standings()
    assert row(replayed, "1").state is CarState.FINISHED
    assert live.car_detail("1", 602 * S) == replayed.car_detail("1", 602 * S)
