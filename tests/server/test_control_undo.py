"""Race control's undo, messages with an expiry and a retract, and acknowledge-all, over
a real server (SQLite and PostgreSQL): each is journaled and audited; bad input is a
4xx, a command that cannot apply says why."""

from __future__ import annotations

from dataclasses import replace

from server.engine.events import (
    CorrectionReverted,
    ExternalAlertRaised,
    Flag,
    FlagReverted,
    PassingDeleted,
    RaceControlMessageEdited,
    RaceControlMessagePosted,
    RaceControlMessageRetracted,
)
from server.web.contexts import decoder_dict
from server.web.control_views import decoder_view
from tests.fixtures.pit_desk import USER, S, control_client, race_desk
from timing_adapters.adapter import DecoderState


async def test_a_flag_is_undone_within_ten_seconds_only(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        desk.advance(60)
        assert (await control.post("/control/flag", data={"flag": "red"})).status_code == 200
        red_at = desk.now()
        desk.advance(11)
        late = await control.post("/control/flag/undo", data={"flag_at_us": red_at})
        assert 'data-ok="false"' in late.text and "within 10 s" in late.text
        assert desk.race.status().flag is Flag.RED  # type: ignore[union-attr]
        await control.post("/control/flag", data={"flag": "green"})
        green_at = desk.now()
        desk.advance(3)
        undone = await control.post("/control/flag/undo", data={"flag_at_us": green_at})
        assert 'data-ok="true"' in undone.text and "red again" in undone.text
        assert desk.race.status().flag is Flag.RED  # type: ignore[union-attr]
        journal = await desk.journal()
        assert journal[-1] == FlagReverted(green_at, desk.now(), USER)
        bad = await control.post("/control/flag/undo", data={"flag_at_us": "soon"})
        assert bad.status_code == 422


async def test_a_deletion_is_undone_and_an_unknown_one_is_refused(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        for seconds in (95, 30, 65):
            desk.advance(seconds)
            await desk.cross("7")
        engine = desk.race.engine
        assert engine is not None
        false = engine.laps_of("7")[1].at_us
        deleted = await control.post(
            "/control/corrections/delete",
            data={"number": "7", "crossing_at_us": false, "reason": "double read"},
        )
        assert 'data-ok="true"' in deleted.text
        assert len(engine.laps_of("7")) == 2
        made = engine.corrections()[0]
        assert isinstance(made, PassingDeleted)
        undo = {"kind": "PassingDeleted", "number": "7", "correction_at_us": made.at_us}
        answer = await control.post("/control/corrections/undo", data=undo)
        assert 'data-ok="true"' in answer.text
        assert len(engine.laps_of("7")) == 3 and engine.corrections() == []
        assert isinstance((await desk.journal())[-1], CorrectionReverted)
        again = await control.post("/control/corrections/undo", data=undo)
        assert "car 7 has no such correction to undo" in again.text
        wrong = await control.post("/control/corrections/undo", data=undo | {"kind": "Flag"})
        assert wrong.status_code == 422


async def test_a_message_expires_and_is_edited_and_retracted(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        posted = await control.post(
            "/control/messages", data={"text": "Oil  at T3", "expires_min": "5"}
        )
        assert 'data-ok="true"' in posted.text and "for 5 min" in posted.text
        at = desk.now()
        message = (await desk.journal())[-1]
        assert message == RaceControlMessagePosted(at, "Oil at T3", None, USER, at + 5 * 60 * S)
        page = await control.get("/live")
        assert "Oil at T3" in page.text
        # the editor, filled with the message, is a form of its own outside the ticker
        editor = await control.get("/control/messages/edit", params={"posted_at_us": at})
        assert editor.status_code == 200
        assert 'hx-post="/control/messages/edit"' in editor.text
        assert f'name="posted_at_us" value="{at}"' in editor.text
        assert 'value="Oil at T3"' in editor.text
        missing = await control.get("/control/messages/edit", params={"posted_at_us": at + 1})
        assert missing.status_code == 404
        bad = await control.get("/control/messages/edit", params={"posted_at_us": "soon"})
        assert bad.status_code == 422
        edited = await control.post(
            "/control/messages/edit", data={"posted_at_us": at, "text": "Oil at T4"}
        )
        assert 'data-ok="true"' in edited.text
        assert isinstance((await desk.journal())[-1], RaceControlMessageEdited)
        assert "Oil at T4" in (await control.get("/live")).text
        desk.advance(6 * 60)  # edited without an expiry: it stays
        assert "Oil at T4" in (await control.get("/live")).text
        retracted = await control.post("/control/messages/retract", data={"posted_at_us": at})
        assert 'data-ok="true"' in retracted.text
        assert (await desk.journal())[-1] == RaceControlMessageRetracted(at, desk.now(), USER)
        assert "Oil at T4" not in (await control.get("/live")).text
        gone = await control.get("/control/messages/edit", params={"posted_at_us": at})
        assert gone.status_code == 404
        again = await control.post("/control/messages/retract", data={"posted_at_us": at})
        assert "no such message" in again.text
        too_long = await control.post("/control/messages", data={"text": "x", "expires_min": 0})
        assert too_long.status_code == 422

        await control.post("/control/messages", data={"text": "Track clear", "expires_min": 1})
        assert "Track clear" in (await control.get("/live")).text
        desk.advance(61)
        assert "Track clear" not in (await control.get("/live")).text


async def test_every_alert_of_a_kind_is_acknowledged_at_once(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        for i in range(3):
            desk.advance(1)
            await desk.submit(ExternalAlertRaised("decoder_silent", f"silent {i}", desk.now()))
        await desk.submit(ExternalAlertRaised("decoder_lost", "lost", desk.now()))
        answer = await control.post("/control/alerts/ack-kind", data={"kind": "decoder_silent"})
        assert answer.status_code == 204
        engine = desk.race.engine
        assert engine is not None
        still = [a.kind for a in engine.alerts() if not a.acknowledged]
        assert still == ["decoder_lost"]


async def test_a_decoders_status_rate_is_measured_in_server_time(db_url: str) -> None:
    async with race_desk(db_url) as desk:
        url = "tcp://127.0.0.1:5403"
        first = DecoderState(url, connected=True, last_status_at_us=desk.now(), decoder_id="D9")
        desk.race.on_decoder_state(first)
        desk.advance(60)  # a STATUS every 2 s of wall time at 30x
        state = replace(first, last_status_at_us=desk.now())
        desk.race.on_decoder_state(state)
        shown = decoder_dict(desk.race, state)
        assert shown["status_interval_us"] == 60 * S
        assert decoder_view(shown, desk.now() + 48 * S)["health"] == "green"
        assert decoder_view(shown, desk.now() + 200 * S)["health"] == "amber"
