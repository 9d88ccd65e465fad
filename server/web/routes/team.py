"""A team's pit wall: ``/live/teams/{number}`` and its websocket, public and read-only.

Strategy: the page is rendered from the same blocks its websocket sends
(``server.web.team_page``); the socket streams the car's own hub channel, which exists
only for a car entered in the session being timed, so the hub holds at most one
channel per entered car whatever numbers are asked for. An unknown car is a 404 (a
1008 close on the socket); a number no entry could have is a 422.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, WebSocket, status
from fastapi.responses import HTMLResponse

from server.web.csrf import CsrfTokenDep
from server.web.deps import StateDep
from server.web.limits import Name
from server.web.routes.websockets import stream_channel
from server.web.team_page import channel_of, entered, team

router = APIRouter(include_in_schema=False)
# a car number as entries have it (control.py's limit): short, no control characters
CarNumber = Annotated[Name, Path(min_length=1, max_length=16)]


@router.get("/live/teams/{number}")
async def team_page(number: CarNumber, state: StateDep, csrf: CsrfTokenDep) -> HTMLResponse:
    """Car ``number``'s pit wall: its stint, drivers, pit window, stops, penalties and
    race control's messages, live."""
    if not entered(state.race, number):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"car {number} is not entered in the session being timed"
        )
    context = team(state.race, number) | {"csrf_token": csrf}
    return HTMLResponse(state.renderer.page("team.html", context))


@router.websocket("/ws/live/teams/{number}")
async def team_socket(websocket: WebSocket, state: StateDep, number: str) -> None:
    await websocket.accept()
    if len(number) > 16 or not entered(state.race, number):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="no such car")
        return
    name = channel_of(number)
    channel = state.hub.channel(name)
    state.race.refresh(name)
    await stream_channel(websocket, channel)
