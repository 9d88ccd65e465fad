"""``/ws/live`` ahead of the middlewares, its updates sent from the channel's own loop
(server/web/live_socket.py, server/service/direct_send.py): a real uvicorn and real
websocket clients on a hub channel the test publishes to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
import websockets
from starlette.types import Receive, Scope, Send

from server.service.direct_send import DirectSubscriber
from server.service.fanout import Block, View, parse
from server.service.hub import Channel, Hub
from server.web.live_socket import PublicSocket, accepted
from server.web.routes.websockets import stream
from tests.fixtures.app_server import free_port, wait_until


async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """What the app under ``PublicSocket`` would be: here, nothing."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


@asynccontextmanager
async def serving(channel: Channel) -> AsyncIterator[str]:
    """uvicorn with ``/ws/live`` streaming ``channel``; yields its websocket URL."""

    async def live(scope: Scope, receive: Receive, send: Send) -> None:
        if await accepted(receive, send):
            await stream(receive, send, channel)

    port = free_port()
    config = uvicorn.Config(
        PublicSocket(not_found, live),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        ws_per_message_deflate=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await wait_until(lambda: server.started or task.done(), 10)
    try:
        yield f"ws://127.0.0.1:{port}/ws/live"
    finally:
        server.should_exit = True
        await task


def numbered(n: int, size: int = 0) -> str:
    return f"{n:06d}" + "x" * size


async def test_a_client_that_stops_reading_does_not_hold_the_others_back() -> None:
    channel = Hub(maxsize=4).channel("public")
    channel.publish(numbered(0))
    # max_queue=1: the stalled client's library stops reading, the socket fills up
    async with (
        serving(channel) as url,
        websockets.connect(url, compression=None, max_queue=1) as stalled,
    ):
        assert await stalled.recv() == numbered(0)
        await wait_until(lambda: len(channel.subscribers) == 1, 10)
        (stalled_sub,) = channel.subscribers
        assert isinstance(stalled_sub, DirectSubscriber)
        async with websockets.connect(url, compression=None) as reader:
            assert await reader.recv() == numbered(0)
            n = 0
            # 100 KB a message: the stalled client's buffers fill within some MB
            while stalled_sub.dropped == 0:
                n += 1
                assert n < 1000, "the stalled client's mailbox never overflowed"
                channel.publish(numbered(n, 100_000))
                got = await asyncio.wait_for(reader.recv(), 10)
                assert str(got)[:6] == numbered(n)  # every update, in order, at once
            last = numbered(n, 100_000)
        # once it reads again, the stalled client ends with the latest state
        seen: list[str] = []
        while not seen or seen[-1] != last[:6]:
            seen.append(str(await asyncio.wait_for(stalled.recv(), 10))[:6])
        assert len(seen) < n  # the backlog was replaced, not sent whole
        assert seen == sorted(seen)


def clock_view(tick: int) -> View:
    html = f'<p id="clock">{tick}</p>'
    return View(blocks=(Block(id="clock", html=html, key=str(tick)),), now_us=tick)


async def test_a_client_that_saw_a_gap_gets_a_snapshot_when_it_asks() -> None:
    channel = Hub().channel("public")
    channel.publish_view(clock_view(1))
    async with serving(channel) as url, websockets.connect(url, compression=None) as ws:
        assert parse(str(await ws.recv())).get("snap") == 1
        channel.publish_view(clock_view(2))
        update = parse(str(await ws.recv()))
        assert update.get("snap") is None and update["seq"] == 2
        await ws.send("snapshot")
        snapshot = parse(str(await asyncio.wait_for(ws.recv(), 10)))
        assert snapshot.get("snap") == 1 and snapshot["seq"] == 2
        assert channel.resyncs == 1


async def test_a_client_that_goes_is_unsubscribed() -> None:
    channel = Hub().channel("public")
    channel.publish("state")
    async with serving(channel) as url:
        polite = await websockets.connect(url, compression=None)
        abrupt = await websockets.connect(url, compression=None)
        for ws in (polite, abrupt):
            assert await ws.recv() == "state"
        await wait_until(lambda: len(channel.subscribers) == 2, 10)
        await polite.close()
        abrupt.transport.abort()  # no close frame: the connection is just lost
        await wait_until(lambda: not channel.subscribers, 10)
        channel.publish("after")  # nobody left to send to: nothing fails


async def test_a_send_that_waits_queues_the_next_ones_in_order() -> None:
    sent: list[str] = []
    writable = asyncio.Event()
    writable.set()
    gone: list[bool] = []

    async def send_text(text: str) -> None:
        await writable.wait()  # as uvicorn's send: waits only while the buffer is full
        sent.append(text)

    sub = DirectSubscriber(2, send_text, lambda: gone.append(True))
    sub.offer("1", "snap")
    assert sent == ["1"]  # sent from the offer itself: no task, no wake-up
    writable.clear()
    for message in ("2", "3", "4", "5"):
        sub.offer(message, "snapshot 5")
    writable.set()
    await wait_until(lambda: len(sent) >= 3, 10)
    # "2" was in flight; "3" and "4" queued; "5" overflowed: the snapshot replaced them
    assert sent == ["1", "2", "snapshot 5"] and sub.dropped == 1
    await sub.close()
    assert not gone
