"""Formatting and context builders: the strings spectators and race control read."""

from __future__ import annotations

from dataclasses import replace

import pytest

from server.engine.events import Flag, SessionKind
from server.engine.model import CarState, SessionStatus, StandingRow
from server.web.views import (
    control_context,
    decoder_view,
    format_age,
    format_clock,
    format_gap,
    format_lap,
    format_seconds_ago,
    heartbeat_html,
    live_context,
    row_dom_id,
    session_view,
    standings_view,
)

S = 1_000_000
NOW = 1_700_000_000 * S


def make_row(position: int, number: str, class_name: str = "A", **changes: object) -> StandingRow:
    row = StandingRow(
        position=position,
        number=number,
        class_name=class_name,
        class_position=position,
        team=f"Team {number}",
        laps=10,
        last_lap_us=112_345_000,
        best_lap_us=110_000_000 + position,
        best_lap_number=4,
        gap_us=None if position == 1 else position * S,
        gap_laps=0,
        interval_us=None if position == 1 else S,
        interval_laps=0,
        class_gap_us=None if position == 1 else position * S,
        class_gap_laps=0,
        class_interval_us=None if position == 1 else S,
        class_interval_laps=0,
        state=CarState.RUN,
        last_crossing_us=NOW - 7 * S,
    )
    return replace(row, **changes)  # type: ignore[arg-type]


def make_status(kind: SessionKind = SessionKind.RACE, **changes: object) -> SessionStatus:
    status = SessionStatus(
        session_id=3,
        kind=kind,
        name="4 Hours",
        flag=Flag.GREEN,
        green_at_us=NOW - 3723 * S,  # 1:02:03 ago
        ends_at_us=NOW + 600 * S,
        checkered_at_us=None,
        finished=False,
    )
    return replace(status, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("us", "text"),
    [
        (None, ""),
        (0, "0.000"),
        (52_345_000, "52.345"),
        (112_345_000, "1:52.345"),
        (112_345_999, "1:52.345"),  # truncated, never rounded up
        (60_000_000, "1:00.000"),
        (59_999_999, "59.999"),
        (3_723_456_000, "1:02:03.456"),
        (-1_500_000, "-1.500"),
    ],
)
def test_format_lap(us: int | None, text: str) -> None:
    assert format_lap(us) == text


@pytest.mark.parametrize(
    ("us", "laps", "text"),
    [
        (None, 0, ""),  # the leader
        (12_345_000, 0, "+12.345"),
        (62_345_000, 0, "+1:02.345"),
        (0, 0, "+0.000"),
        (None, 1, "+1 L"),
        (None, 2, "+2 L"),
        (5_000_000, 2, "+2 L"),  # laps win over a time
        (-250_000, 0, "-0.250"),
    ],
)
def test_format_gap(us: int | None, laps: int, text: str) -> None:
    assert format_gap(us, laps) == text


@pytest.mark.parametrize(
    ("us", "text"),
    [
        (None, ""),
        (0, "0:00:00"),
        (59_999_999, "0:00:59"),
        (307 * S, "0:05:07"),
        (3723 * S, "1:02:03"),
        (4 * 3600 * S - 1, "3:59:59"),
        (25 * 3600 * S, "25:00:00"),
        (-5 * S, "0:00:00"),
    ],
)
def test_format_clock(us: int | None, text: str) -> None:
    assert format_clock(us) == text


def test_format_ages() -> None:
    assert format_age(None) == ""
    assert format_age(-3 * S) == "0 s ago"
    assert format_age(42 * S + 999_999) == "42 s ago"
    assert format_age(185 * S) == "3 min ago"
    assert format_age(7500 * S) == "2 h 5 min ago"
    assert format_seconds_ago(130 * S + 500_000) == "130 s"
    assert format_seconds_ago(None) == ""


def test_row_dom_id_keeps_numbers_distinct_and_safe() -> None:
    assert row_dom_id("07") == "car-07"
    assert row_dom_id("7") == "car-7"
    assert row_dom_id('7"><x') == "car-7___x"


def test_heartbeat_html() -> None:
    assert heartbeat_html(NOW) == f'<span id="heartbeat" hidden data-server-now-us="{NOW}"></span>'


def test_standings_view_strings_and_best_laps() -> None:
    rows = [
        make_row(1, "1", "A", best_lap_us=111 * S),
        make_row(2, "22", "B", class_position=1, best_lap_us=110 * S, class_gap_us=None),
        make_row(3, "3", "A", class_position=2, best_lap_us=None, best_lap_number=None),
        make_row(
            4,
            "44",
            "B",
            class_position=2,
            best_lap_us=110 * S,  # ties the fastest lap: both highlighted
            gap_us=None,
            gap_laps=2,
            interval_us=None,
            interval_laps=1,
        ),
        make_row(5, "5", "A", class_position=3, best_lap_us=112 * S),
    ]
    view = standings_view(rows, server_now_us=NOW)
    first, second, third, fourth, fifth = view
    assert first["gap"] == first["interval"] == ""  # the leader
    assert first["class_label"] == "A 1"
    assert first["dom_id"] == "car-1"
    assert first["is_class_best"] and not first["is_overall_best"]
    assert second["is_overall_best"] and second["is_class_best"]
    assert second["gap"] == "+2.000" and second["class_gap"] == ""  # class leader
    assert third["best"] == "" and third["best_lap_number"] == ""
    assert not third["is_overall_best"] and not third["is_class_best"]
    assert fourth["gap"] == "+2 L" and fourth["interval"] == "+1 L"
    assert fourth["is_overall_best"]
    assert not fifth["is_class_best"]
    assert first["last"] == "1:52.345"
    assert first["state"] == "run" and first["state_label"] == "RUN"
    assert first["last_crossing"] == "7 s"
    assert [v["position"] for v in view] == ["1", "2", "3", "4", "5"]


def test_standings_view_state_labels() -> None:
    labels = {
        state: standings_view([make_row(1, "1", state=state)])[0]["state_label"]
        for state in CarState
    }
    assert labels == {
        CarState.NOT_STARTED: "\N{EN DASH}",
        CarState.RUN: "RUN",
        CarState.PIT: "PIT",
        CarState.OUT: "OUT",
        CarState.STOPPED: "STOP",
        CarState.FINISHED: "FIN",
        CarState.RETIRED: "RET",
        CarState.NOT_CLASSIFIED: "NC",
        CarState.DISQUALIFIED: "DSQ",
    }


def test_standings_view_without_laps_or_time() -> None:
    row = make_row(1, "9", last_lap_us=None, best_lap_us=None, last_crossing_us=None, laps=0)
    (view,) = standings_view([row])
    assert (view["last"], view["best"], view["last_crossing"], view["laps"]) == ("", "", "", "0")
    assert not view["is_overall_best"]
    assert standings_view([]) == []


def test_race_clock_counts_down_rounded_up() -> None:
    clock = session_view(make_status(ends_at_us=NOW + 600 * S + 1), NOW, 10.0)["clock"]
    assert clock["mode"] == "remaining"
    assert clock["text"] == "0:10:01"
    assert clock["rate"] == 10.0 and clock["server_now_us"] == NOW
    over = session_view(make_status(ends_at_us=NOW - S), NOW, 1.0)["clock"]
    assert over["text"] == "0:00:00"


@pytest.mark.parametrize("kind", [SessionKind.PRACTICE, SessionKind.QUALIFYING])
def test_practice_and_qualifying_clocks_count_up(kind: SessionKind) -> None:
    view = session_view(make_status(kind), NOW, 1.0)
    assert view["clock"]["mode"] == "elapsed"
    assert view["clock"]["text"] == "1:02:03"
    assert view["kind_label"] in ("Practice", "Qualifying")


def test_race_without_scheduled_end_counts_up() -> None:
    clock = session_view(make_status(ends_at_us=None), NOW, 1.0)["clock"]
    assert (clock["mode"], clock["text"]) == ("elapsed", "1:02:03")


def test_clock_before_green_and_after_checkered() -> None:
    waiting = make_status(SessionKind.PRACTICE, flag=Flag.NONE, green_at_us=None, ends_at_us=None)
    view = session_view(waiting, NOW, 1.0)
    assert view["clock"]["text"] == "0:00:00"
    assert view["flag_label"] == "Not started"
    done = make_status(
        SessionKind.PRACTICE, flag=Flag.CHECKERED, checkered_at_us=NOW - 3 * S, finished=True
    )
    view = session_view(done, NOW, 1.0)
    assert view["clock"]["text"] == "1:02:00"  # stopped at the flag
    assert view["clock"]["stopped_at_us"] == NOW - 3 * S
    assert view["flag_label"] == "Checkered"


def test_live_context_keys() -> None:
    context = live_context(
        event_name="Club 4h",
        status=make_status(flag=Flag.YELLOW),
        rows=[make_row(1, "1")],
        server_now_us=NOW,
        clock_rate=10.0,
    )
    assert context["page"] == "live" and context["ws_url"] == "/ws/live"
    assert context["session"]["flag"] == "yellow"
    assert context["session"]["flag_label"] == "Full-course yellow"
    assert len(context["rows"]) == 1
    assert context["server_now_us"] == NOW and context["clock_rate"] == 10.0


def test_live_context_without_session() -> None:
    context = live_context(event_name="", status=None, rows=[], server_now_us=NOW, clock_rate=1.0)
    assert context["session"] is None and context["rows"] == []


def test_control_context() -> None:
    context = control_context(
        event_name="Club 4h",
        status=make_status(flag=Flag.RED),
        rows=[make_row(1, "1")],
        server_now_us=NOW,
        clock_rate=1.0,
        decoders=[{"url": "tcp://10.0.0.5:5403", "connected": True}],
        unknowns={"111": (2, NOW - 60 * S, NOW - 50 * S), "222": (5, NOW - 90 * S, NOW - 5 * S)},
        rejected={"duplicate": 3, "min_lap": 7, "unused": 0},
    )
    assert context["page"] == "control" and context["ws_url"] == "/ws/control"
    assert context["flag_url"] == "/api/v1/sessions/3/flag"
    buttons = {b["flag"]: b for b in context["flag_buttons"]}
    assert list(buttons) == ["green", "yellow", "red", "checkered"]
    assert [f for f, b in buttons.items() if b["current"]] == ["red"]
    # every flag change takes a second tap (the button says what it will show)
    assert all(b["confirm"] for b in buttons.values())
    assert [u["transponder"] for u in context["unknowns"]] == ["222", "111"]  # latest first
    assert context["unknowns"][0]["last_seen"] == "5 s ago"
    assert [(r["label"], r["count"]) for r in context["rejected"]] == [
        ("min lap", "7"),
        ("duplicate", "3"),
    ]


def test_control_context_without_session_has_no_flag_target() -> None:
    context = control_context(
        event_name="",
        status=None,
        rows=[],
        server_now_us=NOW,
        clock_rate=1.0,
        decoders=[],
        unknowns={},
        rejected={},
    )
    assert context["flag_url"] is None
    assert not any(b["current"] for b in context["flag_buttons"])


def test_decoder_view_reads_runner_state() -> None:
    state = {
        "url": "tcp://10.0.0.5:5403",
        "connected": True,
        "connects": 3,
        "disconnects": 2,
        "last_status_at_us": NOW - 2 * S,
        "noise": 41,
        "decoder_id": 4001,
        "last_passing_number": 10233,
        "passings": 1811,
        "lost_passings": 1,
        "bad_frames": 4,
        "last_error": None,
        "last_rejection": "truncated: 8e 02 1f",
    }
    view = decoder_view(state, NOW)
    assert view["state_label"] == "connected"
    assert view["decoder_id"] == "4001"
    assert view["status_age"] == "2 s ago" and not view["status_late"]
    assert view["last_status_us"] == NOW - 2 * S
    assert (view["noise"], view["last_passing_number"], view["passings"]) == (
        "41",
        "10233",
        "1811",
    )
    assert (view["bad_frames"], view["lost_passings"], view["reconnects"]) == ("4", "1", "2")
    assert view["last_error"] == ""
    assert view["last_rejection"] == "truncated: 8e 02 1f"


def test_decoder_view_tolerates_missing_fields() -> None:
    view = decoder_view({"url": "serial:///dev/ttyUSB0"}, NOW)
    assert view["state_label"] == "lost" and not view["connected"]
    assert view["status_age"] == "never" and view["status_late"]
    assert (view["passings"], view["bad_frames"], view["reconnects"]) == ("0", "0", "0")
    late = decoder_view({"url": "x", "connected": True, "last_status_at_us": NOW - 60 * S}, NOW)
    assert late["status_late"]
