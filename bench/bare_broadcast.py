"""The baseline for latency.py: a bare Starlette websocket broadcast, nothing else.

Run by latency.py as ``python bench/bare_broadcast.py PORT`` (its own process, like the
race service). ``/ws`` keeps every client; a text a client sends is sent, as it is, to
every client (one ``send_text`` after the other, the simplest broadcast there is): the
bench sends its messages through one more websocket. ``POST /send`` does the same with the
request body (for a look with curl). No database, no engine, no rendering: what is left is
the cost of pushing the same bytes to N sockets from one Python process.
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

clients: set[WebSocket] = set()


async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    clients.add(websocket)
    try:
        while True:
            await broadcast(await websocket.receive_text())
    except WebSocketDisconnect:
        pass
    finally:
        clients.discard(websocket)


async def broadcast(text: str) -> None:
    for client in list(clients):
        try:
            await client.send_text(text)
        except (RuntimeError, OSError):
            clients.discard(client)


async def send(request: Request) -> Response:
    await broadcast((await request.body()).decode())
    return Response(status_code=204)


app = Starlette(routes=[WebSocketRoute("/ws", ws), Route("/send", send, methods=["POST"])])

if __name__ == "__main__":
    uvicorn.run(
        app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
        ws_per_message_deflate=False,
    )  # fmt: skip
