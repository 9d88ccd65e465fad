"""A car's page over a real server: /live/cars/{number}, its 404s, and watching the car on
/ws/live (one crossing sends the changed standings rows and the car's new lap, not its
history; a spectator who watches no car gets no car message)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets

from server.engine.events import LapVoided, PassingDetected
from tests.fixtures.app_server import RunningServer, prepare_database, running_server
from timing_adapters.clock import ManualClock

S = 1_000_000
START_US = 1_781_352_000_000_000
CARS = [str(n) for n in range(1, 13)]
ENTRIES = "number,class,team,drivers,transponder\n" + "".join(
    f"{n},{'A' if int(n) % 2 else 'B'},Team {n},Driver {n};Second {n},{500 + int(n)}\n"
    for n in CARS
)


async def race_with_laps(srv: RunningServer, clock: ManualClock, laps: int) -> None:
    async with srv.client() as api:
        created = await api.post(
            "/api/v1/sessions",
            json={"event": "Car Cup", "type": "race", "name": "Race", "length_minutes": 120},
        )
        await api.post(f"/api/v1/sessions/{created.json()['id']}/flag", json={"flag": "green"})
    passings = []
    for lap in range(laps + 1):
        for i, number in enumerate(CARS):
            clock.advance(S if i else 80 * S + lap * S)
            passings.append(PassingDetected(clock.now_us(), str(500 + int(number)), "d"))
    # queued together (in order), journaled in a few batches rather than one by one
    await asyncio.gather(*(srv.race.submit(p) for p in passings))
    await srv.race.applied()


async def test_the_car_page_shows_laps_stints_and_answers_404_for_no_car(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Car Cup")
    clock = ManualClock(START_US)
    async with (
        running_server(db_url, token, clock=clock) as srv,
        httpx.AsyncClient(base_url=srv.base_url) as browser,
    ):
        before = await browser.get("/live/cars/1")
        assert before.status_code == 404  # no session yet
        await race_with_laps(srv, clock, 4)
        await srv.race.submit(LapVoided("3", 2, clock.now_us(), "track limits T4", "rc"))
        await srv.race.applied()
        page = await browser.get("/live/cars/3")
        assert page.status_code == 200
        assert "<title>Car 3 · Team 3" in page.text
        assert '<dialog id="cp-panel"' in page.text and " open " in page.text
        for lap in range(1, 5):
            assert f'id="cp-lap-{lap}"' in page.text
        assert "deleted: track limits T4" in page.text and "<s>" in page.text
        assert 'id="cp-stint-1"' in page.text and "Driver 3" in page.text
        assert 'role="img"' in page.text  # the lap-time chart
        assert 'id="car-3"' in page.text  # the standings behind the panel
        live = await browser.get("/live")
        assert 'href="/live/cars/3"' in live.text and '<dialog id="cp-panel"' in live.text
        for bad in ("99", "x" * 300, "%00", "1%20OR%201=1", "..%2F..", "%F0%9F%8F%81"):
            response = await browser.get(f"/live/cars/{bad}")
            assert response.status_code == 404, bad


async def _until(ws: Any, want: Any, limit: int = 50) -> dict[str, Any]:
    for _ in range(limit):
        message = json.loads(str(await asyncio.wait_for(ws.recv(), 10)))
        if want(message):
            return dict(message)
    raise AssertionError("the message never came")


async def _updates_until(ws: Any, published: Any, *, car: bool) -> list[str]:
    """The messages (heartbeats left out) until the standings update and, for a watcher,
    the car's update have come."""
    texts: list[str] = []
    while True:
        text = str(await asyncio.wait_for(ws.recv(), 10))
        if '"hb":1' not in text:
            texts.append(text)
        got_car = any(t.startswith('{"car":') for t in texts)
        got_public = any(not t.startswith('{"car":') for t in texts)
        if published() and got_public and (got_car or not car):
            return texts


async def test_a_watched_car_sends_its_new_lap_only(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Car Cup")
    clock = ManualClock(START_US)
    async with running_server(db_url, token, clock=clock) as srv:
        await race_with_laps(srv, clock, 30)
        url = f"{srv.ws_url}/ws/live"
        async with (
            websockets.connect(url, compression=None) as watcher,
            websockets.connect(url, compression=None) as other,
        ):
            await _until(watcher, lambda m: m.get("snap") == 1)
            await _until(other, lambda m: m.get("snap") == 1)
            await watcher.send(json.dumps({"watch": "5"}))
            car_snapshot = await _until(watcher, lambda m: m.get("car") == "5")
            assert car_snapshot["snap"] == 1
            assert len(car_snapshot["o"]["cp-lap-rows"]) == 30  # the whole history, once
            public = srv.race.hub.channel("public")
            seq = public.seq
            # car 5 crosses: lap 31, not its best (a best lap takes the mark off the former
            # best: that row's time cell would change too)
            clock.advance(100 * S)
            await srv.race.submit(PassingDetected(clock.now_us(), "505", "d"))
            # what each spectator receives until the publisher has sent this crossing
            watcher_texts = await _updates_until(watcher, lambda: public.seq > seq, car=True)
            other_texts = await _updates_until(other, lambda: public.seq > seq, car=False)
            car_texts = [t for t in watcher_texts if t.startswith('{"car":')]
            assert len(car_texts) == 1
            car_update = json.loads(car_texts[0])
            watcher_texts = [t for t in watcher_texts if t not in car_texts]
            # the standings update is the same for both spectators: watching adds nothing
            assert watcher_texts == other_texts
            for text in other_texts:
                update = json.loads(text)
                assert "car" not in update and "snap" not in update
                assert "cp-" not in text  # nothing of the car page for the others
            # the car's update: its new lap row, not the 30 before it
            assert car_update["seq"] == car_snapshot["seq"] + 1
            assert set(car_update.get("r", {})) == {"cp-lap-31"}
            assert not set(car_update.get("c", {})) & {f"cp-lap-{n}" for n in range(1, 31)}
            assert car_update["p"] == {"cp-lap-rows": ["cp-lap-31"]} and "o" not in car_update
            car_bytes = len(json.dumps(car_update))
            history = len(json.dumps(car_snapshot))
            print(f"car update {car_bytes} B, car snapshot {history} B")
            assert car_bytes < history / 4
            # the watcher's bytes: the standings update plus the car's new lap, nothing else
            watched = sum(len(t.encode()) for t in [*watcher_texts, *car_texts])
            assert watched == sum(len(t.encode()) for t in other_texts) + len(car_texts[0].encode())
            # stop watching: no more car messages
            await watcher.send(json.dumps({"watch": None}))
            await asyncio.sleep(0)  # nothing to wait for but the server reading it
            deadline = asyncio.get_running_loop().time() + 10
            while srv.race.hub.channel("car:5").subscribers:
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.02)


NOT_CARS = [
    '{"watch": "99"}',
    '{"watch": 5}',
    '{"watch": "' + "9" * 40 + '"}',
    '{"x": 1}',
    "[]",
    "{not json",
    '{"watch": "' + "1" * 10_000 + '"}',
]


@pytest.mark.parametrize("text", NOT_CARS, ids=range(len(NOT_CARS)))
async def test_watching_no_such_car_is_answered_and_harmless(db_url: str, text: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Car Cup")
    clock = ManualClock(START_US)
    async with running_server(db_url, token, clock=clock) as srv:
        await race_with_laps(srv, clock, 1)
        async with websockets.connect(f"{srv.ws_url}/ws/live", compression=None) as ws:
            await _until(ws, lambda m: m.get("snap") == 1)
            await ws.send(text)
            await ws.send(json.dumps({"watch": "99"}))
            answer = await _until(ws, lambda m: "car" in m)
            assert answer == {"car": "99", "none": 1}
            assert not any(name.startswith("car:") for name in srv.race.hub.channels)
