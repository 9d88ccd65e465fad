"""The pit page over a real server: PIN login, pit marks, driver changes (refused with a
reason, overridden by race control), solo exits, and one confirmation per double tap."""

from __future__ import annotations

import asyncio

import pytest
import websockets
from sqlalchemy import select

from server.db.connection import create_engine, sessionmaker
from server.db.models import AuditRow
from server.engine.events import DriverChangeConfirmed, PitInMarked, SoloExitConfirmed
from server.engine.model import CarState
from server.web.auth import may_pit
from tests.fixtures.pit_desk import (
    EVENT,
    Desk,
    browser_client,
    control_client,
    pin_client,
    race_desk,
)

ACTOR = f"pin:{EVENT}"


async def audit_rows(db_url: str) -> list[AuditRow]:
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            return list(await db.scalars(select(AuditRow).order_by(AuditRow.id)))
    finally:
        await engine.dispose()


def state_of(desk: Desk, number: str) -> CarState:
    return next(r.state for r in desk.race.standings() if r.number == number)


async def test_pin_login_opens_the_pit_page_only(db_url: str) -> None:
    async with race_desk(db_url) as desk:
        srv = desk.srv
        async with browser_client(srv) as anonymous:
            page = await anonymous.get("/pit")
            assert page.status_code == 303 and page.headers["location"] == "/login?next=/pit"
            form = await anonymous.get("/login?next=/pit")
            assert 'action="/login/pin"' in form.text and EVENT in form.text
            wrong = await anonymous.post("/login/pin", data={"pin": "0000"})
            assert wrong.status_code == 401 and "Wrong PIN" in wrong.text
            refused = await anonymous.post("/pit/in", data={"number": "7"})
            assert refused.status_code == 401
        async with pin_client(srv) as marshal:
            page = await marshal.get("/pit")
            assert page.status_code == 200
            assert 'id="pit-lane"' in page.text and 'id="pit-panels"' in page.text
            assert "Ann Alder" in page.text and "Cy Cole" in page.text
            assert (await marshal.get("/control")).status_code == 303  # not race control
            message = await marshal.post("/control/messages", data={"text": "hi"})
            assert message.status_code == 403
            cookie = "; ".join(f"{k}={v}" for k, v in marshal.cookies.items())
        async with websockets.connect(
            f"{srv.ws_url}/ws/pit", additional_headers={"Cookie": cookie}
        ) as ws:
            snapshot = str(await ws.recv())
            assert 'id="pit-panels"' in snapshot and 'id="session-header"' in snapshot
        async with websockets.connect(f"{srv.ws_url}/ws/pit") as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    logins = [row for row in await audit_rows(db_url) if row.action == "login.pin"]
    assert [row.actor for row in logins] == [ACTOR]


async def test_pin_guesses_are_throttled(db_url: str) -> None:
    async with (
        race_desk(db_url, started=False) as desk,
        browser_client(desk.srv) as guesser,
    ):
        for _ in range(5):
            assert (await guesser.post("/login/pin", data={"pin": "1111"})).status_code == 401
        blocked = await guesser.post("/login/pin", data={"pin": "2468"})  # right, but too late
        assert blocked.status_code == 429 and "wait a minute" in blocked.text


def test_a_pin_opens_the_pit_of_its_own_event_only() -> None:
    assert may_pit("pit", "Desk Cup", "Desk Cup")
    assert not may_pit("pit", "Desk Cup", "Next Weekend")
    assert may_pit("pit", None, "Next Weekend")  # a pit user login, not a PIN
    assert may_pit("control", None, "Desk Cup")
    assert not may_pit("steward", None, "Desk Cup") and not may_pit(None, None, "Desk Cup")


async def test_marks_and_a_driver_change(db_url: str) -> None:
    async with race_desk(db_url) as desk, pin_client(desk.srv) as marshal:
        answer = await marshal.post("/pit/in", data={"number": "7", "idem": "k1"})
        assert answer.status_code == 200 and 'data-ok="true"' in answer.text
        assert "Car 7 marked in the pit lane" in answer.text
        assert state_of(desk, "7") is CarState.PIT
        answer = await marshal.post(
            "/pit/driver-change", data={"number": "7", "driver": "Bob Birch", "idem": "k2"}
        )
        assert "Car 7: Bob Birch in" in answer.text and 'data-ok="true"' in answer.text
        assert desk.row_driver("7") == "Bob Birch"
        answer = await marshal.post("/pit/out", data={"number": "7", "idem": "k3"})
        assert "out of the pit lane" in answer.text
        assert state_of(desk, "7") is CarState.OUT
        journal = await desk.journal()
        changes = [e for e in journal if isinstance(e, DriverChangeConfirmed)]
        assert [(c.number, c.driver_in, c.actor, c.override) for c in changes] == [
            ("7", "Bob Birch", ACTOR, False)
        ]
        assert [e.actor for e in journal if isinstance(e, PitInMarked)] == [ACTOR]
    actions = [(row.actor, row.action) for row in await audit_rows(db_url)]
    for action in ("pit.in", "pit.driver_change", "pit.out"):
        assert (ACTOR, action) in actions
    change = next(row for row in await audit_rows(db_url) if row.action == "pit.driver_change")
    assert change.detail["driver_in"] == "Bob Birch" and change.detail["outcome"] == "recorded"


async def test_a_repeated_key_records_one_confirmation(db_url: str) -> None:
    async with race_desk(db_url) as desk, pin_client(desk.srv) as marshal:
        await marshal.post("/pit/in", data={"number": "9"})
        tap = {"number": "9", "driver": "Ed Eng", "idem": "tap-1"}
        first, second = await asyncio.gather(
            marshal.post("/pit/driver-change", data=tap),
            marshal.post("/pit/driver-change", data=tap),
        )
        late = await marshal.post("/pit/driver-change", data=tap)  # a retry after a drop
        assert first.text == second.text == late.text
        assert "Car 9: Ed Eng in" in first.text
        changes = [e for e in await desk.journal() if isinstance(e, DriverChangeConfirmed)]
        assert len(changes) == 1
        # a new intent (a new key) is a new confirmation
        again = {"number": "9", "driver": "Ed Eng", "idem": "tap-2"}
        assert "Ed Eng in" in (await marshal.post("/pit/driver-change", data=again)).text
        changes = [e for e in await desk.journal() if isinstance(e, DriverChangeConfirmed)]
        assert len(changes) == 2


async def test_a_mis_tap_is_undone_in_the_same_stop(db_url: str) -> None:
    async with race_desk(db_url) as desk, pin_client(desk.srv) as marshal:
        await marshal.post("/pit/in", data={"number": "9"})
        await marshal.post("/pit/driver-change", data={"number": "9", "driver": "Ed Eng"})
        assert desk.row_driver("9") == "Ed Eng"
        page = (await marshal.get("/pit")).text
        assert "stays in (undo the change)" in page
        undo = await marshal.post("/pit/driver-change", data={"number": "9", "driver": "Di Dunn"})
        assert 'data-ok="true"' in undo.text and "Di Dunn in" in undo.text
        assert desk.row_driver("9") == "Di Dunn"


async def test_refused_changes_say_why_and_race_control_may_override(db_url: str) -> None:
    async with race_desk(db_url) as desk, pin_client(desk.srv) as marshal:
        await marshal.post("/pit/in", data={"number": "7"})
        stranger = await marshal.post(
            "/pit/driver-change", data={"number": "7", "driver": "Zed Zeta"}
        )
        assert 'data-ok="false"' in stranger.text and 'data-reason="not_on_roster"' in stranger.text
        assert "Zed Zeta is not on the roster of car 7" in stranger.text
        await marshal.post("/pit/driver-change", data={"number": "7", "driver": "Bob Birch"})
        await marshal.post("/pit/out", data={"number": "7"})
        desk.advance(95)  # Bob's first lap
        await desk.cross("7")
        await marshal.post("/pit/in", data={"number": "7"})
        back = await marshal.post("/pit/driver-change", data={"number": "7", "driver": "Ann Alder"})
        assert 'data-reason="rest_not_over"' in back.text
        assert "Ann Alder&#39;s rest is not over: may drive from" in back.text
        assert "override" not in back.text  # a marshal cannot override
        assert desk.row_driver("7") == "Bob Birch"
        async with control_client(desk.srv) as control:
            seen = await control.post(
                "/pit/driver-change", data={"number": "7", "driver": "Ann Alder"}
            )
            assert 'data-reason="rest_not_over"' in seen.text
            assert 'hx-post="/control/driver-change"' in seen.text  # the override button
            forced = await control.post(
                "/control/driver-change",
                data={"number": "7", "driver": "Ann Alder", "override": "1"},
            )
            assert 'data-ok="true"' in forced.text and "Ann Alder in" in forced.text
        assert desk.row_driver("7") == "Ann Alder"
        assert desk.race.engine is not None
        kinds = [a.kind for a in desk.race.engine.alerts()]
        assert "rest_override" in kinds
        overrides = [e for e in await desk.journal() if isinstance(e, DriverChangeConfirmed)]
        assert [(e.actor, e.override) for e in overrides][-1] == ("rc", True)


async def test_solo_exit_and_commands_the_car_cannot_take(db_url: str) -> None:
    async with race_desk(db_url) as desk, pin_client(desk.srv) as marshal:
        await marshal.post("/pit/in", data={"number": "8"})
        answer = await marshal.post("/pit/solo-exit", data={"number": "8", "idem": "s1"})
        assert "solo driver fully out of the car" in answer.text
        exits = [e for e in await desk.journal() if isinstance(e, SoloExitConfirmed)]
        assert [(e.number, e.actor) for e in exits] == [("8", ACTOR)]
        assert desk.race.engine is not None
        assert desk.race.engine.car_detail("8").stops[-1].solo_exit
        unknown = await marshal.post("/pit/in", data={"number": "99"})
        assert 'data-reason="unknown_car"' in unknown.text
        bad = await marshal.post("/pit/in", data={"number": ""})
        assert bad.status_code == 422


async def test_marks_before_the_green_flag_are_refused(db_url: str) -> None:
    async with race_desk(db_url, started=False) as desk, pin_client(desk.srv) as marshal:
        answer = await marshal.post("/pit/in", data={"number": "7"})
        assert 'data-reason="not_started"' in answer.text
        assert "the session has not started" in answer.text
