"""Websockets: each sends the channel's snapshot, then every update, as HTML fragments.

Strategy: one subscription per socket to the hub channel of its audience. The race
service's heartbeat goes to every channel, so a spectator's or a marshal's phone can
tell a quiet race from a dead connection.
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from server.web.auth import CONTROL_OR_STEWARD_ROLES, WebsocketMayPit, websocket_role
from server.web.deps import StateDep
from server.web.state import AppState

router = APIRouter()


async def _stream(websocket: WebSocket, state: AppState, channel_name: str) -> None:
    channel = state.hub.channel(channel_name)
    await websocket.accept()
    state.race.refresh(channel_name)  # nobody watched: its snapshot may be stale
    try:
        async with channel.subscribe() as subscriber:
            while True:
                await websocket.send_text(await subscriber.get())
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away; its subscription is gone with the context


async def _refuse(websocket: WebSocket) -> None:
    # accept first so the browser sees the policy close code, not a failed handshake
    await websocket.accept()
    await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="log in first")


@router.websocket("/ws/live")
async def live(websocket: WebSocket, state: StateDep) -> None:
    await _stream(websocket, state, "public")


@router.websocket("/ws/control")
async def control(websocket: WebSocket, state: StateDep) -> None:
    if websocket_role(websocket) != "control":
        await _refuse(websocket)
        return
    await _stream(websocket, state, "control")


@router.websocket("/ws/stewards")
async def stewards(websocket: WebSocket, state: StateDep) -> None:
    if websocket_role(websocket) not in CONTROL_OR_STEWARD_ROLES:
        await _refuse(websocket)
        return
    await _stream(websocket, state, "stewards")


@router.websocket("/ws/pit")
async def pit(websocket: WebSocket, state: StateDep, allowed: WebsocketMayPit) -> None:
    if not allowed:
        await _refuse(websocket)
        return
    await _stream(websocket, state, "pit")
