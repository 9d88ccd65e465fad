"""The team view against a real server: its page, its websocket's updates for its car, what
it refuses, and spectators on /live left as they were."""

from __future__ import annotations

import json
from typing import Any

import pytest
import websockets

from server.engine.events import RaceControlMessagePosted
from server.web.team_page import channel_of
from tests.fixtures.app_server import wait_until
from tests.fixtures.browser import SQLITE_DB, race_databases
from tests.fixtures.live_updates import message_html, snapshot_html
from tests.fixtures.pit_desk import Desk, browser_client, race_desk


async def next_update(ws: websockets.ClientConnection) -> dict[str, Any]:
    """The next message that is not a heartbeat."""
    while True:
        message = json.loads(str(await ws.recv()))
        if not message.get("hb"):
            return dict(message)


@race_databases(SQLITE_DB)
async def test_the_team_page_shows_its_car_and_refuses_what_is_not_one(db_url: str) -> None:
    async with race_desk(db_url) as desk, browser_client(desk.srv) as client:
        page = await client.get("/live/teams/7")
        assert page.status_code == 200
        for text in ("Alder Racing", "Ann Alder", "Bob Birch", 'ws-connect="/ws/live/teams/7"'):
            assert text in page.text
        assert (await client.get("/live/teams/77")).status_code == 404
        absurd = ("x" * 17, "7%00", "%E2%80%AE7", "%0A", "7" * 5000)
        for number in absurd:
            answer = await client.get(f"/live/teams/{number}")
            assert 400 <= answer.status_code < 500, (number, answer.status_code)
        # nothing of those became a channel
        assert [n for n in desk.race.hub.channels if n.startswith("team:")] == []


@race_databases(SQLITE_DB)
async def test_the_team_socket_sends_its_car_s_laps_and_messages(db_url: str) -> None:
    async with race_desk(db_url) as desk:
        url = f"{desk.srv.ws_url}/ws/live/teams/7"
        async with websockets.connect(url) as ws:
            snapshot = str(await ws.recv())
            html = snapshot_html(snapshot)
            assert 'id="team-car"' in html and "Alder Racing" in html
            assert "<small>lap 0</small>" in html
            desk.advance(95)
            await desk.cross("7")
            html = await until_shown(ws, "<small>lap 1</small>")
            assert "1:35.000" in html  # its last lap
            await desk.submit(
                RaceControlMessagePosted(desk.now(), "Car 7 to the pit lane", "7", "rc", None)
            )
            assert "Car 7 to the pit lane" in await until_shown(ws, "Car 7 to the pit lane")


async def until_shown(ws: websockets.ClientConnection, text: str) -> str:
    for _ in range(20):
        html = message_html(json.dumps(await next_update(ws)))
        if text in html:
            return html
    raise AssertionError(f"{text!r} never came")


@race_databases(SQLITE_DB)
async def test_an_unknown_car_s_socket_is_closed_and_spectators_are_left_alone(
    db_url: str,
) -> None:
    async with race_desk(db_url) as desk:
        async with websockets.connect(f"{desk.srv.ws_url}/ws/live/teams/77") as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert channel_of("77") not in desk.race.hub.channels
        await spectators_see_only_the_live_page(desk)


async def spectators_see_only_the_live_page(desk: Desk) -> None:
    """A spectator on /live gets no team block, with a team view open or not; the team
    channel is rendered only while it is watched."""
    public = desk.race.hub.channel("public")
    async with websockets.connect(f"{desk.srv.ws_url}/ws/live") as spectator:
        await spectator.recv()
        async with websockets.connect(f"{desk.srv.ws_url}/ws/live/teams/8") as team:
            await team.recv()
            team_channel = desk.race.hub.channel(channel_of("8"))
            before, team_before = public.seq, team_channel.seq
            desk.advance(100)
            await desk.cross("8")
            await wait_until(lambda: public.seq > before and team_channel.seq > team_before)
            update = await next_update(spectator)
            assert "team-car" not in message_html(json.dumps(update))
        await wait_until(lambda: not team_channel.watched)
        # a publishing round already under way when the view closed may still render it:
        # let one more round (another car's crossing) pass before counting
        mid = public.seq
        desk.advance(10)
        await desk.cross("7")
        await wait_until(lambda: public.seq > mid)
        published = team_channel.published
        desk.advance(100)
        await desk.cross("8")
        await wait_until(lambda: public.seq > mid + 1)
        assert team_channel.published == published  # nobody watches: not rendered
