"""The new blocks of the live, control and pit pages: each websocket message is exactly
the page's blocks, ids stay unique, and what people type is escaped everywhere."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import pytest
from test_rendering import (
    EVIL,
    NOW,
    S,
    attrs_of,
    element,
    ids,
    make_rows,
    make_status,
    tokens,
    top_level_ids,
)

from server.engine.alerts import Alert
from server.engine.events import Severity
from server.engine.model import Entry, RaceControlMessage, StintClock
from server.engine.snapshots import SprintClassification
from server.web.actions import Outcome
from server.web.contexts import CONTROL_BLOCKS, LIVE_BLOCKS, PIT_BLOCKS
from server.web.pit_views import pit_context
from server.web.rendering import Renderer
from server.web.views import control_context, live_context

BLOCK_IDS = {
    "header": "session-header",
    "standings": "standings-table",
    "ticker": "ticker",
    "sprint": "sprint",
    "penalties": "penalties",
    "alerts": "alerts",
    "flag_controls": "flag-controls",
    "status_strip": "status-strip",
    "corrections_log": "corrections-log",
    "local_yellows": "local-yellows",
    "clock_controls": "clock-controls",
    "finish": "finish",
    "decoders": "decoders",
    "unknowns": "unknown-transponders",
    "pit_lane": "pit-lane",
    "pit_panels": "pit-panels",
}
MESSAGES = [
    RaceControlMessage(NOW - 5 * S, f"Debris {EVIL}", "08", "marie"),
    RaceControlMessage(NOW - 60 * S, "Track clear", None, "marie"),
]
ENTRIES = [
    Entry("07", "A", "Team 0", ("Ann", "Bob")),
    Entry("08", "B", "Team 1", (EVIL,)),
    Entry("09", "A", "Team 2", ("Cy", "Di"), flagged_drivers=("Di",)),
]


def rows_with_stints() -> list[Any]:
    from dataclasses import replace

    return [
        replace(
            row,
            driver=f"Driver {row.number}",
            stint_clock=StintClock.RUNNING,
            stint_clock_since_us=NOW - 60 * S,
            stint_drive_us=600 * S,
            pit_stops=1,
        )
        for row in make_rows()
    ]


def live(**changes: Any) -> dict[str, Any]:
    return live_context(
        event_name="Club 4h",
        status=make_status(local_yellows=("T3",)),
        rows=rows_with_stints(),
        server_now_us=NOW,
        clock_rate=1.0,
        messages=MESSAGES,
        tz=UTC,
        **changes,
    )


def control() -> dict[str, Any]:
    alert = Alert("stint_warning:07:900", "stint_warning", Severity.WARNING, "Car 07: 15 min", NOW)
    return control_context(
        event_name="Club 4h",
        status=make_status(),
        rows=rows_with_stints(),
        server_now_us=NOW,
        clock_rate=1.0,
        decoders=[],
        unknowns={"555": (1, NOW - 9 * S, NOW - 9 * S)},
        rejected={},
        alerts=[alert],
        messages=MESSAGES,
        entries=ENTRIES,
        tz=UTC,
    )


def pit() -> dict[str, Any]:
    return pit_context(
        event_name="Club 4h",
        status=make_status(),
        rows=rows_with_stints(),
        details={},
        entries=ENTRIES,
        server_now_us=NOW,
        clock_rate=1.0,
        messages=MESSAGES,
        tz=UTC,
    )


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.mark.parametrize(
    ("template", "blocks", "make"),
    [
        ("live.html", LIVE_BLOCKS, live),
        ("control.html", CONTROL_BLOCKS, control),
        ("pit.html", PIT_BLOCKS, pit),
    ],
)
def test_messages_are_the_pages_blocks(
    renderer: Renderer, template: str, blocks: tuple[str, ...], make: Any
) -> None:
    context = make()
    page = renderer.page(template, context)
    message = renderer.fragments(template, blocks, context)
    assert top_level_ids(message) == [BLOCK_IDS[b] for b in blocks]
    assert tokens(message) == [t for b in blocks for t in element(page, BLOCK_IDS[b])]
    found = ids(page)
    assert len(found) == len(set(found)), "ids must be unique"
    assert EVIL not in page and EVIL not in message


def test_live_page_shows_driver_stint_stops_ticker_and_sprint(renderer: Renderer) -> None:
    page = renderer.page("live.html", live())
    row = element(page, "car-07")
    texts = [t[1] for t in row if t[0] == "data"]
    assert "Driver 07" in texts and "0:11:00" in texts
    # stops are counted in the pit-lane columns (a track with pit loops), not under the class
    assert "1 stop" not in texts and "RUN" not in texts
    stint = next(attrs_of(t) for t in row if t[0] == "start" and "data-st" in attrs_of(t))
    assert stint["data-st"] == "running" and stint["data-st-since"] == str(NOW - 60 * S)
    assert "data-st-max" not in stint  # spectators: no limit colours
    ticker = element(page, "ticker")
    assert [t[1] for t in ticker if t[0] == "data"][:3] == ["22:13:15", "Car 08", f"Debris {EVIL}"]
    assert "marie" not in page  # who posted is not public
    assert "Local yellow: T3" in page
    assert "hidden" in attrs_of(element(page, "sprint")[0])
    sprint = SprintClassification(NOW, False, tuple(make_rows(3)))
    with_sprint = renderer.page("live.html", live(sprint=sprint))
    section = element(with_sprint, "sprint")
    assert "hidden" not in attrs_of(section[0])
    assert ("data", "provisional: cars still to cross") in section
    empty = renderer.page(
        "live.html",
        live_context(event_name="", status=None, rows=[], server_now_us=NOW, clock_rate=1.0),
    )
    assert "hidden" in attrs_of(element(empty, "ticker")[0])


def test_control_page_panels(renderer: Renderer) -> None:
    page = renderer.page("control.html", control())
    alerts = element(page, "alerts")
    ack = next(attrs_of(t) for t in alerts if t[:2] == ("start", "button"))
    assert ack["hx-post"] == "/control/alerts/ack"
    assert json.loads(str(ack["hx-vals"])) == {"alert_id": "stint_warning:07:900"}
    row = element(page, "car-07")
    link = next(attrs_of(t) for t in row if t[:2] == ("start", "button"))
    assert link["hx-get"] == "/control/cars/07" and link["hx-target"] == "#car-detail"
    stint = next(attrs_of(t) for t in row if t[0] == "start" and "data-st" in attrs_of(t))
    assert stint["data-st-max"] == str(3 * 3600 * S) and stint["data-level"] == ""
    assert "(marie)" in page  # race control sees who posted
    assert 'data-assign="555"' in page
    for url in (
        "/control/messages",
        "/control/corrections/add",
        "/control/corrections/delete",
        "/control/corrections/assign",
        "/control/flag",
    ):
        assert f'hx-post="{url}"' in page, url
    # forms with inputs are outside the blocks a websocket message replaces
    for block in CONTROL_BLOCKS:
        assert not [t for t in element(page, BLOCK_IDS[block]) if t[:2] == ("start", "input")]


def test_pit_page_panels(renderer: Renderer) -> None:
    page = renderer.page("pit.html", pit())
    panels = element(page, "pit-panels")
    drivers = [attrs_of(t) for t in panels if t[0] == "start" and "data-idem" in attrs_of(t)]
    posts = [(d["hx-post"], json.loads(str(d["hx-vals"]))) for d in drivers]
    assert ("/pit/driver-change", {"number": "07", "driver": "Bob"}) in posts
    assert ("/pit/solo-exit", {"number": "08"}) in posts  # one driver: a solo car
    assert ("/pit/in", {"number": "09"}) in posts
    assert all(d["hx-target"] == "#pit-result" and d["hx-disabled-elt"] == "this" for d in drivers)
    assert ("data", "licence flagged") in panels
    picks = [
        (attrs_of(t)["class"], attrs_of(t)["data-pick"])
        for t in element(page, "pit-lane")
        if t[0] == "start" and "data-pick" in attrs_of(t)
    ]
    assert picks == [("car-pick", "08"), ("car-chip", "07"), ("car-chip", "08"), ("car-chip", "09")]
    assert 'id="pit-result"' in page and 'id="offline-banner"' in page
    body = next(t for t in tokens(page) if t[:2] == ("start", "body"))
    assert attrs_of(body)["ws-connect"] == "/ws/pit"


def test_command_answers(renderer: Renderer) -> None:
    done = {"outcome": Outcome(True, "Car 7: Bob in"), "override": None}
    ok = renderer.page("_result.html", done)
    assert 'data-ok="true"' in ok and "Car 7: Bob in" in ok and "button" not in ok
    refused = renderer.page(
        "_result.html",
        {
            "outcome": Outcome(False, f"{EVIL} rest", "rest_not_over"),
            "override": {
                "url": "/control/driver-change",
                "values": {"number": "7"},
                "driver": "Ann",
                "number": "7",
            },
        },
    )
    assert 'data-reason="rest_not_over"' in refused and EVIL not in refused
    assert 'hx-post="/control/driver-change"' in refused


def test_login_page_offers_the_pit_pin(renderer: Renderer) -> None:
    page = renderer.page("login.html", {"next": "/pit", "error": None, "event_name": "Cup"})
    forms = [attrs_of(t)["action"] for t in tokens(page) if t[:2] == ("start", "form")]
    assert forms == ["/login/pin", "/login"]  # the PIN first for the pit page
    control = renderer.page("login.html", {"next": "/control", "error": None})
    assert [attrs_of(t)["action"] for t in tokens(control) if t[:2] == ("start", "form")] == [
        "/login",
        "/login/pin",
    ]
