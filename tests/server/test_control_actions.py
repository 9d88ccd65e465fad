"""Race control's commands over a real server: alerts, messages, local yellows, the race
clock, timing corrections, a car's detail and the classifications page."""

from __future__ import annotations

import re

import httpx
import websockets
from sqlalchemy import select

from server.db.connection import create_engine, sessionmaker
from server.db.models import AuditRow
from server.engine.events import (
    AlertAcknowledged,
    ExternalAlertRaised,
    Flag,
    FlagChanged,
    PassingDetected,
    RaceControlMessagePosted,
    Severity,
)
from server.web.formatting import format_time_of_day
from tests.fixtures.app_server import wait_until
from tests.fixtures.live_updates import snapshot_html
from tests.fixtures.pit_desk import USER, Desk, S, control_client, pin_client, race_desk


async def audit_actions(db_url: str) -> list[tuple[str, str]]:
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            rows = await db.scalars(select(AuditRow).order_by(AuditRow.id))
            return [(row.actor, row.action) for row in rows]
    finally:
        await engine.dispose()


def laps(desk: Desk, number: str) -> int:
    return next(r.laps for r in desk.race.standings() if r.number == number)


async def test_commands_need_race_control(db_url: str) -> None:
    async with race_desk(db_url) as desk:
        async with httpx.AsyncClient(base_url=desk.srv.base_url) as anonymous:
            message = await anonymous.post("/control/messages", data={"text": "x"})
            assert message.status_code == 401
            snapshots = await anonymous.get("/control/snapshots")
            assert snapshots.status_code == 303
        async with pin_client(desk.srv) as marshal:
            ack = await marshal.post("/control/alerts/ack", data={"alert_id": "x"})
            assert ack.status_code == 403
            assert (await marshal.get("/control/cars/7")).status_code == 403


async def test_an_alert_is_acknowledged(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        raised = ExternalAlertRaised("decoder_lost", "Decoder at the line lost", desk.now())
        await desk.submit(raised)
        engine = desk.race.engine
        assert engine is not None
        alert = next(a for a in engine.alerts() if a.kind == "decoder_lost")
        page = await control.get("/control")
        assert "Decoder at the line lost" in page.text and alert.id in page.text
        answer = await control.post("/control/alerts/ack", data={"alert_id": alert.id})
        assert answer.status_code == 204
        assert next(a for a in engine.alerts() if a.id == alert.id).acknowledged
        acks = [e for e in await desk.journal() if isinstance(e, AlertAcknowledged)]
        assert [(a.alert_id, a.actor) for a in acks] == [(alert.id, USER)]
    assert (USER, "alert.ack") in await audit_actions(db_url)


async def test_messages_reach_every_page(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        answer = await control.post(
            "/control/messages", data={"text": "  Debris   at turn 4 ", "number": "7"}
        )
        assert 'data-ok="true"' in answer.text
        unknown_car = await control.post("/control/messages", data={"text": "x", "number": "99"})
        assert unknown_car.status_code == 422
        posted = [e for e in await desk.journal() if isinstance(e, RaceControlMessagePosted)]
        assert [(m.text, m.number, m.actor) for m in posted] == [("Debris at turn 4", "7", USER)]
        async with httpx.AsyncClient(base_url=desk.srv.base_url) as spectator:
            live = (await spectator.get("/live")).text
        ticker = live[live.index('id="ticker"') :]
        assert "Debris at turn 4" in ticker and "Car 7" in ticker
        assert f"({USER})" not in live  # spectators do not see who posted it
        assert f"({USER})" in (await control.get("/control")).text
        async with websockets.connect(f"{desk.srv.ws_url}/ws/live", compression=None) as ws:
            snapshot = snapshot_html(str(await ws.recv()))
            assert 'id="ticker"' in snapshot and "Debris at turn 4" in snapshot
    assert (USER, "message") in await audit_actions(db_url)


async def test_local_yellow_and_the_race_clock(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        shown = await control.post("/control/flag", data={"flag": "local_yellow", "station": "T3"})
        assert 'data-ok="true"' in shown.text
        status = desk.race.status()
        assert status is not None and status.local_yellows == ("T3",)
        assert "Local yellow: T3" in (await control.get("/live")).text
        await control.post("/control/flag", data={"flag": "green", "station": "T3"})
        status = desk.race.status()
        assert status is not None and status.local_yellows == ()
        async with desk.srv.client() as api:  # the JSON API takes stations too
            url = f"/api/v1/sessions/{desk.session_id}/flag"
            await api.post(url, json={"flag": "local_yellow", "station": "T9"})
        status = desk.race.status()
        assert status is not None and status.local_yellows == ("T9",)
        await desk.submit(FlagChanged(desk.now(), Flag.RED))
        assert (await control.post("/control/clock", data={"action": "pause"})).status_code == 204
        status = desk.race.status()
        assert status is not None and status.clock_paused_since_us is not None
        page = (await control.get("/control")).text
        assert "Restart the race clock" in page and "Clock stopped" in page
        desk.advance(90)  # the red flag lasts a minute and a half
        assert (await control.post("/control/clock", data={"action": "resume"})).status_code == 204
        status = desk.race.status()
        assert status is not None and status.clock_paused_since_us is None
        assert status.clock_paused_us == 90 * S
        bad = await control.post("/control/clock", data={"action": "stop"})
        assert bad.status_code == 422
    actions = await audit_actions(db_url)
    assert (USER, "clock.pause") in actions and (USER, "flag") in actions


async def test_timing_corrections(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        desk.advance(50)  # two laps longer than the minimum
        await desk.cross("7")
        assert laps(desk, "7") == 1
        # a missed passing, typed as a time of day between the two crossings
        engine = desk.race.engine
        assert engine is not None
        crossing = engine.laps_of("7")[0].at_us
        missed = format_time_of_day(crossing - 25_000_000, millis=True)
        added = await control.post(
            "/control/corrections/add",
            data={"number": "7", "time": missed, "reason": "seen on video"},
        )
        assert 'data-ok="true"' in added.text and missed in added.text
        assert laps(desk, "7") == 2
        bad = await control.post(
            "/control/corrections/add", data={"number": "7", "time": "25:99", "reason": "x"}
        )
        assert 'data-ok="false"' in bad.text and "not a time of day" in bad.text
        # a false one, picked from the car's crossings
        options = (await control.get("/control/crossings", params={"number": "7"})).text
        values = re.findall(r'<option value="(\d+)">lap (\d+)', options)
        assert [lap for _at, lap in values] == ["2", "1"]  # newest first
        deleted = await control.post(
            "/control/corrections/delete",
            data={"number": "7", "crossing_at_us": values[0][0], "reason": "double read"},
        )
        assert 'data-ok="true"' in deleted.text
        assert laps(desk, "7") == 1
        again = await control.post(
            "/control/corrections/delete",
            data={"number": "7", "crossing_at_us": values[0][0], "reason": "double read"},
        )
        assert 'data-ok="false"' in again.text
        # an unknown transponder: its passings count once it is assigned
        await desk.submit(PassingDetected(desk.now(), "555", "test-decoder"))
        assert "555" in engine.unknown_transponders()
        assert "555" in (await control.get("/control")).text
        assigned = await control.post(
            "/control/corrections/assign",
            data={"transponder": "555", "number": "9", "reason": "spare fitted"},
        )
        assert 'data-ok="true"' in assigned.text
        assert "555" not in engine.unknown_transponders()
        assert laps(desk, "9") == 1
    actions = await audit_actions(db_url)
    for action in ("correction.add", "correction.delete", "correction.assign"):
        assert (USER, action) in actions


async def test_car_detail_retire_and_classifications(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        async with pin_client(desk.srv) as marshal:
            await marshal.post("/pit/in", data={"number": "7"})
            await marshal.post("/pit/driver-change", data={"number": "7", "driver": "Bob Birch"})
        detail = (await control.get("/control/cars/7")).text
        for text in ("Car 7", "Alder Racing", "Ann Alder", "Bob Birch", "in pit", "resting until"):
            assert text in detail, text
        assert (await control.get("/control/cars/77")).status_code == 404
        retired = await control.post("/control/retire", data={"number": "9", "reason": "gearbox"})
        assert 'data-ok="true"' in retired.text
        assert next(r.state for r in desk.race.standings() if r.number == "9").value == "retired"
        page = await control.get("/control/snapshots")
        assert page.status_code == 200 and "No classification taken yet" in page.text
        pit_page = await control.get("/pit")  # race control may use the pit page
        assert pit_page.status_code == 200


async def test_control_websocket_carries_the_new_panels(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        cookie = "; ".join(f"{k}={v}" for k, v in control.cookies.items())
        async with websockets.connect(
            f"{desk.srv.ws_url}/ws/control", additional_headers={"Cookie": cookie}
        ) as ws:
            snapshot = str(await ws.recv())
            for block in ("alerts", "finish", "ticker", "local-yellows", "clock-controls"):
                assert f'id="{block}"' in snapshot, block
            raised = ExternalAlertRaised(
                "decoder_silent", "Decoder silent", desk.now(), None, Severity.CRITICAL
            )
            await desk.submit(raised)

            async def alert_arrives() -> bool:
                return "Decoder silent" in str(await ws.recv())

            await wait_until(alert_arrives, timeout=10)
