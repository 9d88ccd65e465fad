"""Websockets: each sends the channel's snapshot, then every update, as HTML fragments."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from server.auth import websocket_role
from server.state import app_state

router = APIRouter()


async def _stream(websocket: WebSocket, channel_name: str) -> None:
    channel = app_state(websocket.app).hub.channel(channel_name)
    await websocket.accept()
    try:
        async with channel.subscribe() as subscriber:
            while True:
                await websocket.send_text(await subscriber.get())
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away; its subscription is gone with the context


@router.websocket("/ws/live")
async def live(websocket: WebSocket) -> None:
    await _stream(websocket, "public")


@router.websocket("/ws/control")
async def control(websocket: WebSocket) -> None:
    if websocket_role(websocket) != "control":
        # accept first so the browser sees the policy close code, not a failed handshake
        await websocket.accept()
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="log in first")
        return
    await _stream(websocket, "control")
