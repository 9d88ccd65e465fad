"""What race control and the pit marshals read at a glance: the pit window per car (no
amber before it is due), decoder chips by loop role with "late" relative to the
decoder's STATUS rate, alerts grouped by kind, cars marked in the pit grid, gaps to
place a missed passing in, corrections with what undoes them, and the ticker without
expired or retracted messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC

from server.engine.alerts import Alert
from server.engine.events import (
    Flag,
    PassingAdded,
    PassingDeleted,
    RaceControlMessagePosted,
    RaceControlMessageRetracted,
    SessionKind,
    Severity,
)
from server.engine.model import (
    CarState,
    LapRecord,
    RaceControlMessage,
    SessionConfig,
    SessionStatus,
    StandingRow,
    StintClock,
)
from server.engine.race import RaceEngine
from server.engine.rules import IMG
from server.web.car_views import gaps_view
from server.web.control_views import (
    alerts_view,
    decoder_view,
    format_clock_offset,
    messages_view,
    pit_window_view,
)
from server.web.pit_views import called_in, car_marks
from server.web.views import corrections_view

S = 1_000_000
M = 60 * S
H = 60 * M
T0 = 1_700_049_600 * S  # 12:00:00 UTC
WINDOW = {"pit_window_opens_us": T0 + H, "pit_window_closes_us": T0 + 3 * H}


def status(**changes: object) -> SessionStatus:
    base = SessionStatus(1, SessionKind.RACE, "Race", Flag.GREEN, T0, T0 + 4 * H, None, False)
    return replace(base, **changes)  # type: ignore[arg-type]


def row(**changes: object) -> StandingRow:
    base = StandingRow(
        1,
        "7",
        "A",
        1,
        "Alder",
        10,
        100 * S,
        99 * S,
        3,
        None,
        0,
        None,
        0,
        None,
        0,
        None,
        0,
        CarState.RUN,
        T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_pit_window_is_not_amber_until_it_is_due() -> None:
    open_status = status(**WINDOW)
    served, waiting = {"mandatory_served": True}, {"mandatory_served": False}
    assert pit_window_view(waiting, status(), T0) == {"state": "", "text": ""}  # no window
    assert pit_window_view(waiting, open_status, T0 + 5 * M, UTC) == {
        "state": "later",
        "text": "from 13:00",
    }
    assert pit_window_view(waiting, open_status, T0 + 90 * M, UTC) == {
        "state": "open",
        "text": "open to 15:00",
    }
    assert pit_window_view(waiting, open_status, T0 + 2 * H + 31 * M, UTC)["state"] == "closing"
    assert pit_window_view(waiting, open_status, T0 + 3 * H, UTC)["state"] == "missed"
    assert pit_window_view(served, open_status, T0 + 3 * H, UTC)["state"] == "done"


def test_a_decoder_chip_names_its_loop_and_is_late_by_its_own_status_rate() -> None:
    # at 30x, a STATUS every 2 s of wall time is one every 60 s of race time: 48 s is fine
    demo = {"url": "tcp://127.0.0.1:5403", "connected": True, "role": "pit_in"}
    demo |= {"last_status_at_us": T0 - 48 * S, "status_interval_us": 60 * S}
    view = decoder_view(demo, T0)
    assert (view["role_label"], view["health"], view["status_late"]) == ("Pit in", "green", False)
    assert view["warn_after_s"] == 180
    assert decoder_view(demo | {"last_status_at_us": T0 - 200 * S}, T0)["health"] == "amber"
    assert decoder_view(demo | {"last_status_at_us": T0 - 400 * S}, T0)["health"] == "red"
    assert decoder_view(demo | {"connected": False}, T0)["health"] == "red"
    # no rate known yet: the fixed 15 s
    plain = {"url": "tcp://10.0.0.5:5403", "connected": True, "last_status_at_us": T0 - 20 * S}
    view = decoder_view(plain, T0)
    assert (view["role_label"], view["health"]) == ("Start/finish", "amber")
    sector = decoder_view(plain | {"role": "sector", "sector": 2}, T0)
    assert sector["role_label"] == "Sector 2"


def alert(kind: str, at_s: int, severity: Severity = Severity.WARNING) -> Alert:
    return Alert(f"{kind}:{at_s}", kind, severity, f"{kind} at {at_s}", T0 + at_s * S)


def test_alerts_are_grouped_by_kind_with_the_most_severe_and_the_newest_critical() -> None:
    alerts = [
        alert("decoder_lost", 50, Severity.CRITICAL),
        alert("stint_limit", 40),
        alert("stint_limit", 30),
        alert("decoder_lost", 20),
        replace(alert("stint_limit", 10), acknowledged=True),
    ]
    view = alerts_view(alerts, status(), UTC)
    groups = [(g["kind"], g["severity"], len(g["items"])) for g in view["groups"]]
    assert groups == [("decoder_lost", "critical", 2), ("stint_limit", "warning", 2)]
    assert view["groups"][1]["label"] == "Stint limit"
    assert (view["count"], view["critical"]) == (4, 1)
    assert view["newest_critical"] == "decoder_lost:50"
    assert [a["id"] for a in view["done"]] == ["stint_limit:10"]


def test_the_pit_grid_marks_stint_limit_window_and_called_in() -> None:
    rules = replace(IMG, max_stint_us=2 * H)
    now = T0 + 2 * H + 40 * M  # the window (13:00 to 15:00) closes in 20 min
    assert car_marks(row(), status(), now, rules, frozenset()) == ()
    long_stint = row(
        stint_clock=StintClock.RUNNING, stint_drive_us=95 * M, stint_clock_since_us=now
    )
    # a message about car 7 calls it in; one about nobody calls nobody
    called = called_in(
        [
            RaceControlMessage(T0, "Car 7 to the pit lane", "7", "rc"),
            RaceControlMessage(T0, "Track clear", None, "rc"),
        ]
    )
    assert called == frozenset({"7"})
    marks = car_marks(long_stint, status(**WINDOW), now, rules, called)
    assert marks == ("stint", "due", "called")
    served = replace(long_stint, mandatory_served=True, stint_drive_us=0)
    assert car_marks(served, status(**WINDOW), now, rules, frozenset()) == ()
    # a window open for another hour and more is not news
    early = T0 + 90 * M
    fresh = replace(long_stint, stint_drive_us=0, stint_clock_since_us=early)
    assert car_marks(fresh, status(**WINDOW), early, rules, frozenset()) == ()
    assert (
        car_marks(replace(long_stint, state=CarState.FINISHED), status(), now, rules, called) == ()
    )


def test_gaps_place_a_missed_passing_half_way_between_two_crossings() -> None:
    laps = [
        LapRecord(1, 100 * S, T0 + 100 * S, Flag.GREEN),
        LapRecord(2, 200 * S, T0 + 300 * S, Flag.GREEN),
    ]
    gaps = gaps_view(laps, tz=UTC)
    assert [g["at_us"] for g in gaps] == [T0 + 200 * S, T0 + 50 * S]
    assert gaps[0]["label"].startswith("between lap 1 (12:01:40) and lap 2 (12:05:00)")


def test_corrections_newest_first_with_what_undoes_them() -> None:
    made = [
        PassingAdded("7", T0 + 200 * S, "seen on video", "marie"),
        PassingDeleted("8", T0 + 130 * S, T0 + 400 * S, "double read", "marie"),
    ]
    view = corrections_view(made, UTC)
    assert [(c["kind"], c["number"], c["at_us"]) for c in view] == [
        ("PassingDeleted", "8", T0 + 400 * S),
        ("PassingAdded", "7", T0 + 200 * S),
    ]
    assert view[0]["text"] == "Car 8: passing at 12:02:10.000 deleted"


def test_the_ticker_leaves_out_expired_and_retracted_messages() -> None:
    race = RaceEngine(SessionConfig(1, SessionKind.RACE, "Race", length_us=2 * H), [])
    race.apply(RaceControlMessagePosted(T0, "Oil at T3", None, "rc", T0 + 10 * M))
    race.apply(RaceControlMessagePosted(T0 + S, "Car 7 black flag", "7", "rc"))
    race.apply(RaceControlMessagePosted(T0 + 2 * S, "Wrong car", "9", "rc"))
    race.apply(RaceControlMessageRetracted(T0 + 2 * S, T0 + 3 * S, "rc"))
    shown = messages_view(race.messages(T0 + 5 * M), 5, UTC)
    assert [(m["text"], m["expires"]) for m in shown] == [
        ("Car 7 black flag", ""),
        ("Oil at T3", "12:10:00"),
    ]
    assert [m["text"] for m in messages_view(race.messages(T0 + 10 * M), 5, UTC)] == [
        "Car 7 black flag"
    ]


def test_a_decoder_clock_offset_reads_in_ms_and_never_as_minus_zero() -> None:
    assert format_clock_offset(3_512_000) == "+3.512 s"
    assert format_clock_offset(-1_234_567) == "-1.235 s"
    assert format_clock_offset(-400) == "+0.000 s"  # under half a ms: no "-0.000 s"
    assert format_clock_offset(400) == "+0.000 s"
    assert format_clock_offset(None) == "\N{EN DASH}"
    assert format_clock_offset(400 * 86_400 * 1_000_000) == "learned"
