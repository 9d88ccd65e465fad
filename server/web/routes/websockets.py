"""Websockets: each sends the channel's snapshot, then every update.

Strategy: one subscription per socket to the hub channel of its audience. The race
service's heartbeat goes to every channel, so a spectator's or a marshal's phone can
tell a quiet race from a dead connection. The spectators' channel sends row-level
updates (``server.service.fanout``): a browser that sees a gap in their numbers sends
``snapshot`` and gets one. On ``/ws/live`` a spectator may watch one car
(``server.web.car_watch``: ``{"watch": "12"}``). Anything else is ignored (and logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from server.service.hub import Channel, Subscriber
from server.web.auth import CONTROL_OR_STEWARD_ROLES, WebsocketMayPit, websocket_role
from server.web.car_watch import CarWatch, Watch  # Watch: EdgeCarWatch on an edge
from server.web.deps import StateDep
from server.web.state import AppState

router = APIRouter()


log = logging.getLogger("racecontrol.ws")
SNAPSHOT_REQUEST = "snapshot"


async def _send_all(websocket: WebSocket, subscriber: Subscriber) -> None:
    while True:
        await websocket.send_text(await subscriber.get())


async def _listen(
    websocket: WebSocket, channel: Channel, subscriber: Subscriber, watch: Watch | None
) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") == SNAPSHOT_REQUEST:
            channel.resync(subscriber)
        elif watch is not None and watch.handle(message.get("text")):
            pass
        else:
            log.debug("ignored a websocket message on %s", channel.name)


async def stream_channel(
    websocket: WebSocket,
    channel: Channel,
    watcher: Callable[[Subscriber], Watch] | None = None,
) -> None:
    """Snapshot, then updates, until the client goes; answers its snapshot requests (and
    with a ``watcher``, its watch messages).

    The sender is a task; this coroutine itself listens (one task per spectator, not two:
    an edge holds thousands of them, bench/README.md "memory per client")."""
    try:
        async with channel.subscribe() as subscriber:
            watch = None if watcher is None else watcher(subscriber)
            sending = asyncio.create_task(_send_all(websocket, subscriber))
            listener = asyncio.current_task()
            assert listener is not None
            listening = [True]

            def sender_ended(_task: asyncio.Task[None]) -> None:
                if listening[0]:  # a send failed (the client went): stop listening too
                    listener.cancel()

            sending.add_done_callback(sender_ended)
            try:
                await _listen(websocket, channel, subscriber, watch)
            except asyncio.CancelledError:
                if not sending.done():
                    raise  # cancelled from outside (shutdown), not by the sender
                listener.uncancel()
            finally:
                listening[0] = False
                if watch is not None:
                    watch.close()  # its car channel stops feeding this socket's queue
                sending.cancel()
                with contextlib.suppress(
                    asyncio.CancelledError, WebSocketDisconnect, RuntimeError, OSError
                ):
                    await sending
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away; its subscription is gone with the context


async def _stream(
    websocket: WebSocket, state: AppState, channel_name: str, *, may_watch: bool = False
) -> None:
    channel = state.hub.channel(channel_name)
    await websocket.accept()
    state.race.refresh(channel_name)  # nobody watched: its snapshot may be stale
    watcher = (lambda sub: CarWatch(state, channel, sub)) if may_watch else None
    await stream_channel(websocket, channel, watcher)


async def _refuse(websocket: WebSocket) -> None:
    # accept first so the browser sees the policy close code, not a failed handshake
    await websocket.accept()
    await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="log in first")


@router.websocket("/ws/live")
async def live(websocket: WebSocket, state: StateDep) -> None:
    await _stream(websocket, state, "public", may_watch=True)


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
