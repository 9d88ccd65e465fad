"""``/ws/live`` served ahead of the HTTP middlewares, on the race service and the edges.

Strategy: the public websocket is what thousands of spectators hold open, and every
update is sent to each of them. Through the app, each send went through Starlette's
``WebSocket`` and every middleware's send wrapper (the login check, the exception
handler), a third of the fan-out's CPU (bench/README.md). The spectators' socket needs
none of it: no cookie, no session, no body. ``PublicSocket``, the outermost middleware,
hands that one path straight to its handler with uvicorn's own ``receive`` and ``send``;
every other request and websocket goes through the app as before. The race service still
refuses another site's handshake (as ``CsrfGuard`` does for every websocket).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from server.web.car_watch import CarWatch
from server.web.csrf import cross_site_websocket
from server.web.routes.websockets import stream
from server.web.state import AppState

PUBLIC_SOCKET_PATH = "/ws/live"
Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


class PublicSocket:
    """ASGI: the websocket at ``path`` goes to ``handler``, everything else to ``app``."""

    def __init__(self, app: ASGIApp, handler: Handler, path: str = PUBLIC_SOCKET_PATH) -> None:
        self.app = app
        self.handler = handler
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == self.path:
            await self.handler(scope, receive, send)
        else:
            await self.app(scope, receive, send)


async def accepted(receive: Receive, send: Send) -> bool:
    """Complete the handshake; False if the client went before it."""
    if (await receive())["type"] != "websocket.connect":
        return False
    await send({"type": "websocket.accept"})
    return True


async def race_live(scope: Scope, receive: Receive, send: Send) -> None:
    """The race service's ``/ws/live``: the public channel and the watch messages."""
    if cross_site_websocket(scope):
        await receive()  # websocket.connect; a close before the accept is a 403
        await send({"type": "websocket.close", "code": 1008, "reason": "cross-site"})
        return
    state: AppState = scope["app"].state.racecontrol
    channel = state.hub.channel("public")
    if not await accepted(receive, send):
        return
    state.race.refresh("public")  # nobody watched: its snapshot may be stale
    await stream(receive, send, channel, lambda sub: CarWatch(state, channel, sub))
