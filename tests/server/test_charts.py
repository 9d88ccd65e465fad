"""Charts over a real server: the history as JSON (bad ids and parameters are 4xx, never
500), the page with every car's stint timeline, a chart client that gets only the new
point of one crossing over /ws/charts (and nothing of the history again), and a reset
when the charted past changes (a correction, a crossing that arrived late)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets

from server.engine.events import Flag, FlagChanged, LoopRole, PassingDeleted, PassingDetected
from server.service.chart_feed import chart_feed
from server.service.hub import Subscriber
from tests.fixtures.app_server import prepare_database, running_server
from tests.fixtures.pit_desk import ENTRIES, EVENT, Desk, S, control_client, race_desk


async def history(srv_url: str, session_id: int, **params: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=srv_url) as client:
        return await client.get(f"/api/v1/sessions/{session_id}/charts", params=params)


async def lap_of_each(desk: Desk, seconds: float = 90) -> None:
    for number in ("7", "8", "9"):
        desk.advance(seconds if number == "7" else 2)
        await desk.cross(number)


def points_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(body["fields"], row, strict=True)) for row in body["points"]]


async def test_history_has_positions_gaps_and_flags(db_url: str) -> None:
    async with race_desk(db_url) as desk:
        base = desk.srv.base_url
        await lap_of_each(desk)
        await desk.submit(FlagChanged(desk.now(), Flag.YELLOW))
        desk.advance(30)
        await desk.submit(FlagChanged(desk.now(), Flag.GREEN))
        await lap_of_each(desk, 60)
        answer = await history(base, desk.session_id)
        assert answer.status_code == 200
        body = answer.json()
        assert [c["number"] for c in body["cars"]] == ["7", "8", "9"]
        got = [(p["lap"], p["number"], p["position"], p["class_position"]) for p in points_of(body)]
        assert got == [
            (1, "7", 1, 1), (1, "8", 2, 2), (1, "9", 3, 1),
            (2, "7", 1, 1), (2, "8", 2, 2), (2, "9", 3, 1),
        ]  # fmt: skip
        gaps = [p["gap_us"] for p in points_of(body) if p["lap"] == 1]
        assert gaps == [0, 2_000_000, 4_000_000]
        assert [p["flag"] for p in points_of(body) if p["lap"] == 2] == ["yellow"] * 3
        assert body["flags"][0][0] == "yellow" and body["flags"][0][2] is not None
        assert body["seq"] >= 0

        only_a = (await history(base, desk.session_id, **{"class": "A"})).json()
        assert {p["number"] for p in points_of(only_a)} == {"7", "8"}
        two = (await history(base, desk.session_id, cars="9, 7")).json()
        assert [c["number"] for c in two["cars"]] == ["7", "9"]
        assert {p["number"] for p in points_of(two)} == {"7", "9"}


async def test_bad_ids_and_parameters_are_4xx(db_url: str) -> None:
    async with race_desk(db_url) as desk:
        base, sid = desk.srv.base_url, desk.session_id
        cases = {
            (sid + 1, ()): 404,  # not the timed session
            (0, ()): 422,
            (2**31, ()): 422,
            (sid, (("class", "Z"),)): 404,
            (sid, (("class", "x" * 41),)): 422,
            (sid, (("cars", "7,99"),)): 404,
            (sid, (("cars", " , "),)): 422,
            (sid, (("cars", "7," * 300),)): 422,
        }
        async with httpx.AsyncClient(base_url=base) as client:
            for (session_id, params), code in cases.items():
                answer = await client.get(f"/api/v1/sessions/{session_id}/charts", params=params)
                assert answer.status_code == code, (session_id, params, answer.text)
            answer = await client.get("/api/v1/sessions/abc/charts")
            assert answer.status_code == 422


async def test_a_chart_client_gets_only_the_new_point_of_one_crossing(db_url: str) -> None:
    async with race_desk(db_url) as desk:
        for _ in range(5):
            await lap_of_each(desk)
        async with websockets.connect(f"{desk.srv.ws_url}/ws/charts", compression=None) as ws:
            body = (await history(desk.srv.base_url, desk.session_id)).json()
            assert len(body["points"]) == 15
            desk.advance(91)
            await desk.cross("8")
            while True:  # heartbeats may come first
                text = str(await ws.recv())
                message = json.loads(text)
                if message["seq"] > body["seq"] and "hb" not in message:
                    break
            assert message["seq"] == body["seq"] + 1
            (point,) = message["p"]
            row = dict(zip(body["fields"], point, strict=True))
            assert (row["number"], row["lap"], row["position"]) == ("8", 6, 1)
            assert len(text) < 200  # one point, not the history (15 points)


async def test_a_pit_stop_shows_on_the_stint_timeline_page(db_url: str) -> None:
    async with race_desk(db_url) as desk:
        await lap_of_each(desk)
        desk.advance(20)
        await desk.submit(PassingDetected(desk.now(), "107", "test-decoder", loop=LoopRole.PIT_IN))
        async with httpx.AsyncClient(base_url=desk.srv.base_url) as client:
            page = await client.get("/live/charts")
        assert page.status_code == 200
        for number in ("7", "8", "9"):
            assert f'id="timeline-{number}"' in page.text
        assert "Stop 1 at 0:01:" in page.text and "Stint 1: Ann Alder" in page.text
        assert 'src="/static/vendor/uplot.iife.min.js?v=' in page.text


async def test_the_charts_page_before_the_green_flag(db_url: str) -> None:
    async with race_desk(db_url, started=False) as desk:
        async with httpx.AsyncClient(base_url=desk.srv.base_url) as client:
            page = await client.get("/live/charts")
            body = (await client.get(f"/api/v1/sessions/{desk.session_id}/charts")).json()
        assert page.status_code == 200
        assert "No stints yet" in page.text
        assert body["points"] == [] and body["green_at_us"] is None


async def test_without_a_session_the_page_says_so_and_the_history_is_404(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, EVENT)
    async with (
        running_server(db_url, token) as srv,
        httpx.AsyncClient(base_url=srv.base_url) as client,
    ):
        page = await client.get("/live/charts")
        assert page.status_code == 200 and "No session is being timed yet" in page.text
        assert (await client.get("/api/v1/sessions/1/charts")).status_code == 404
        async with websockets.connect(f"{srv.ws_url}/ws/charts") as ws:
            beat = json.loads(await asyncio.wait_for(ws.recv(), 10))  # the heartbeat
            assert (beat["seq"], beat["hb"]) == (0, 1)


async def next_update(sub: Subscriber) -> dict[str, Any]:
    """The next message that is not a heartbeat."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(sub.get(), 10))
        if "hb" not in message:
            return message


async def test_a_correction_or_a_late_crossing_makes_charts_reload(db_url: str) -> None:
    async with race_desk(db_url) as desk:
        feed = chart_feed(desk.race)
        async with desk.race.hub.channel("charts").subscribe() as sub:
            desk.advance(90)
            await desk.cross("7")
            desk.advance(2)
            await desk.cross("8")
            seen: list[dict[str, Any]] = []
            while sum(len(m.get("p", [])) for m in seen) < 2:
                seen.append(await next_update(sub))
            assert [(p[0], p[4]) for m in seen for p in m["p"]] == [("7", 1), ("8", 2)]
            # car 9 crossed between 7 and 8, but the passing reached us after 8's
            await desk.submit(PassingDetected(desk.now() - S, "109", "test-decoder"))
            reset = await next_update(sub)
            assert reset["reset"] == 1 and reset["seq"] == feed.seq
            body = (await history(desk.srv.base_url, desk.session_id)).json()
            assert body["seq"] == reset["seq"]
            assert [(p["number"], p["position"]) for p in points_of(body)] == [
                ("7", 1),
                ("9", 2),
                ("8", 3),
            ]
            crossing = next(p["at_us"] for p in points_of(body) if p["number"] == "8")
            await desk.submit(PassingDeleted("8", crossing, desk.now(), "double read", "rc"))
            reset = await next_update(sub)
            assert reset["reset"] == 1
            body = (await history(desk.srv.base_url, desk.session_id)).json()
            assert [p["number"] for p in points_of(body)] == ["7", "9"]


async def test_qualifying_has_lap_times_and_stints_but_no_lap_chart(db_url: str) -> None:
    async with race_desk(db_url, kind="qualifying") as desk:
        await lap_of_each(desk)
        async with httpx.AsyncClient(base_url=desk.srv.base_url) as client:
            page = (await client.get("/live/charts")).text
        assert 'id="tab-laps"' not in page and 'id="tab-gaps"' not in page
        assert 'id="tab-times" aria-controls="panel-times" aria-selected="true"' in page
        assert (
            'id="panel-times" role="tabpanel" aria-labelledby="tab-times" class="chart-panel">'
            in page
        )


async def test_race_controls_car_dialog_shows_the_cars_stint_timeline(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        await lap_of_each(desk)
        detail = (await control.get("/control/cars/9")).text
        assert 'id="timeline-9"' in detail and "Stint 1: Di Dunn" in detail
        page = (await control.get("/control")).text
        assert "/static/charts.css?v=" in page
