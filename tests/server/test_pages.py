"""Pages and websockets over a real server: login, control, live snapshot then deltas."""

from __future__ import annotations

import httpx
import pytest
import websockets

from server.db import repository
from server.db.connection import create_engine, sessionmaker
from tests.fixtures.app_server import prepare_database, running_server
from tests.fixtures.live_updates import message_html, snapshot_html

ENTRIES = "number,class,team,drivers,transponder\n1,A,<b>Bold</b> Racing,Ann,101\n2,B,Two,Bo,102\n"


async def add_control_user(db_url: str) -> None:
    engine = create_engine(db_url)
    async with sessionmaker(engine)() as db:
        await repository.add_user(db, "rc", "s3cret-pass", "control")
    await engine.dispose()


async def test_control_needs_a_login(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Page Cup")
    await add_control_user(db_url)
    async with (
        running_server(db_url, token) as srv,
        httpx.AsyncClient(base_url=srv.base_url, headers={"Origin": srv.base_url}) as browser,
    ):
        redirect = await browser.get("/control")
        assert redirect.status_code == 303
        assert redirect.headers["location"].startswith("/login")
        wrong = await browser.post("/login", data={"name": "rc", "password": "nope"})
        assert wrong.status_code == 401
        assert "wrong password" in wrong.text
        ok = await browser.post(
            "/login", data={"name": "rc", "password": "s3cret-pass", "next": "//evil.example"}
        )
        assert ok.status_code == 303
        assert ok.headers["location"] == "/control"  # never off-site
        page = await browser.get("/control")
        assert page.status_code == 200
        assert 'id="decoders"' in page.text
        assert 'id="unknown-transponders"' in page.text
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())

        async with websockets.connect(
            f"{srv.ws_url}/ws/control", additional_headers={"Cookie": cookie}
        ) as ws:
            snapshot = str(await ws.recv())
            assert 'id="flag-controls"' in snapshot
        async with websockets.connect(f"{srv.ws_url}/ws/control") as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1008


async def test_live_page_and_websocket(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Page Cup")
    async with running_server(db_url, token) as srv, srv.client() as api:
        async with httpx.AsyncClient(base_url=srv.base_url) as browser:
            empty = await browser.get("/live")
            assert empty.status_code == 200
            assert "No session" in empty.text
        created = await api.post(
            "/api/v1/sessions", json={"event": "Page Cup", "type": "practice", "name": "FP1"}
        )
        sid = created.json()["id"]
        async with httpx.AsyncClient(base_url=srv.base_url) as browser:
            page = (await browser.get("/live")).text
        assert 'id="car-1"' in page and 'id="car-2"' in page
        assert "<b>Bold</b>" not in page and "&lt;b&gt;Bold&lt;/b&gt;" in page
        async with websockets.connect(f"{srv.ws_url}/ws/live", compression=None) as ws:
            snapshot = snapshot_html(str(await ws.recv()))
            assert 'id="standings"' in snapshot
            await api.post(f"/api/v1/sessions/{sid}/flag", json={"flag": "green"})
            while True:  # heartbeats may come first; the flag change follows
                message = message_html(str(await ws.recv()))
                if 'id="session-header"' in message:
                    break
            assert "green" in message.lower()
