"""Websockets: each sends the channel's snapshot, then every update.

Strategy: one subscription per socket to the hub channel of its audience. The race
service's heartbeat goes to every channel, so a spectator's or a marshal's phone can
tell a quiet race from a dead connection. The spectators' channel sends row-level
updates (``server.service.fanout``): a browser that sees a gap in their numbers sends
``snapshot`` and gets one. On ``/ws/live`` (served ahead of the middlewares,
``server.web.live_socket``) a spectator may watch one car (``server.web.car_watch``:
``{"watch": "12"}``). Anything else is ignored (and logged).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from starlette.types import Receive, Send

from server.service.direct_send import DirectSubscriber
from server.service.hub import Channel, Subscriber
from server.web.auth import CONTROL_OR_STEWARD_ROLES, WebsocketMayPit, websocket_role
from server.web.car_watch import Watch  # CarWatch, or EdgeCarWatch on an edge
from server.web.deps import StateDep
from server.web.state import AppState

router = APIRouter()


log = logging.getLogger("racecontrol.ws")
SNAPSHOT_REQUEST = "snapshot"


async def stream(
    receive: Receive,
    send: Send,
    channel: Channel,
    watcher: Callable[[Subscriber], Watch] | None = None,
) -> None:
    """Snapshot, then updates, on an accepted websocket until the client goes; answers its
    snapshot requests (and with a ``watcher``, its watch messages).

    The updates are sent from the channel's own loop (``DirectSubscriber``: no task per
    spectator while it keeps up); this coroutine listens."""
    listener = asyncio.current_task()
    assert listener is not None
    gone: list[bool] = []

    def send_failed() -> None:  # the client went: stop listening too
        gone.append(True)
        listener.cancel()

    async def send_text(text: str) -> None:
        await send({"type": "websocket.send", "text": text})

    subscriber = DirectSubscriber(channel.maxsize, send_text, send_failed)
    try:
        async with channel.subscribe(subscriber):
            watch = None if watcher is None else watcher(subscriber)
            try:
                await _listen(receive, channel, subscriber, watch)
            except asyncio.CancelledError:
                if not gone:
                    raise  # cancelled from outside (shutdown), not by a failed send
                listener.uncancel()
            finally:
                if watch is not None:
                    watch.close()  # its car channel stops feeding this socket
                await subscriber.close()
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away; its subscription is gone with the context


async def _listen(
    receive: Receive, channel: Channel, subscriber: Subscriber, watch: Watch | None
) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text == SNAPSHOT_REQUEST:
            channel.resync(subscriber)
        elif watch is not None and watch.handle(text):
            pass
        else:
            log.debug("ignored a websocket message on %s", channel.name)


async def stream_channel(
    websocket: WebSocket,
    channel: Channel,
    watcher: Callable[[Subscriber], Watch] | None = None,
) -> None:
    """``stream`` on an accepted Starlette websocket (through the app's middlewares: the
    login's channels, whose sends the login check wraps)."""
    await stream(websocket.receive, websocket.send, channel, watcher)


async def _stream(websocket: WebSocket, state: AppState, channel_name: str) -> None:
    channel = state.hub.channel(channel_name)
    await websocket.accept()
    state.race.refresh(channel_name)  # nobody watched: its snapshot may be stale
    await stream_channel(websocket, channel)


async def _refuse(websocket: WebSocket) -> None:
    # accept first so the browser sees the policy close code, not a failed handshake
    await websocket.accept()
    await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="log in first")


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
