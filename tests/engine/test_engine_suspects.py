"""Passings timed far from when they arrived are held as suspect and alerted, never scored."""

from __future__ import annotations

from server.engine import AlertKind, PassingDetected, RaceEngine
from server.engine.outbound import PassingRejected, RejectReason
from tests.engine.engine_helpers import S, green, make_engine, of_type, row, run

MIN = 60 * S


def arrived(number: str, at_s: float, received_s: float, decoder: str = "D1") -> PassingDetected:
    return PassingDetected(
        at_us=round(at_s * S),
        transponder=f"T{number}",
        decoder_id=decoder,
        received_at_us=round(received_s * S),
    )


def suspect_alerts(engine: RaceEngine) -> list[str]:
    return [a.text for a in engine.alerts() if a.kind == AlertKind.SUSPECT_PASSING]


def test_a_passing_far_ahead_of_the_clock_is_held_and_alerted() -> None:
    engine = make_engine()
    out = run(engine, [green(0), arrived("1", 10, 10), arrived("1", 70, 70)])
    assert row(engine, "1").laps == 1
    # a decoder whose clock runs 20 minutes fast
    out = run(engine, [arrived("1", 130 + 20 * 60, 130), arrived("2", 131 + 20 * 60, 131)])
    assert [r.reason for r in of_type(out, PassingRejected)] == [RejectReason.SUSPECT_TIME] * 2
    assert row(engine, "1").laps == 1 and row(engine, "2").laps == 0
    assert engine.rejected_counts()[RejectReason.SUSPECT_TIME.value] == 2
    assert suspect_alerts(engine) == [
        "Decoder D1: 2 passing(s) timed 1200 s ahead of the session clock held as suspect, "
        "not scored; check the decoder's clock"
    ]


def test_within_the_margin_and_late_resends_are_scored() -> None:
    engine = make_engine()
    run(engine, [green(0), arrived("1", 10, 10)])
    # 9 minutes ahead: inside the 10 minute margin (a decoder clock a little off)
    run(engine, [arrived("1", 70 + 9 * 60, 70)])
    # a RESEND after a 30 minute outage: old, but timed inside the session
    run(engine, [arrived("2", 20, 20 + 30 * 60), arrived("2", 80, 20 + 30 * 60)])
    assert row(engine, "1").laps == 1 and row(engine, "2").laps == 1
    assert suspect_alerts(engine) == []


def test_a_decoder_clock_behind_the_start_is_alerted_not_silently_ignored() -> None:
    engine = make_engine()
    run(engine, [green(3600)])
    # formation laps before the green are normal: rejected, not suspect
    out = run(engine, [arrived("1", 3500, 3500)])
    assert [r.reason for r in of_type(out, PassingRejected)] == [RejectReason.NOT_STARTED]
    # a decoder whose clock is a day behind, arriving well after the green
    out = run(engine, [arrived("1", 100, 3600 + 15 * 60, decoder="D9")])
    assert [r.reason for r in of_type(out, PassingRejected)] == [RejectReason.SUSPECT_TIME]
    assert len(suspect_alerts(engine)) == 1 and "D9" in suspect_alerts(engine)[0]


def test_the_margin_is_a_setting_and_old_journals_are_never_suspect() -> None:
    engine = make_engine(suspect_margin_us=1 * MIN)
    run(engine, [green(0), arrived("1", 10, 10)])
    run(engine, [arrived("1", 70 + 2 * 60, 70)])  # two minutes ahead of a one minute margin
    assert row(engine, "1").laps == 0
    legacy = PassingDetected(at_us=10_000 * S, transponder="T2", decoder_id="D1")
    run(engine, [legacy])  # no arrival time recorded: judged as before
    assert engine.rejected_counts()[RejectReason.SUSPECT_TIME.value] == 1
