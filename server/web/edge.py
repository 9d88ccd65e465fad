"""``racecontrol edge``: spectators' live timing served from Redis alone.

Strategy: an edge holds no race state of its own and never opens the database. Its
``RedisMirror`` (``server.service.redis_relay``) keeps a hub channel equal to the race
service's public channel: the same snapshot, the same numbered updates, forwarded as
they are. ``/live`` is the race service's page with the blocks of that snapshot put in
(the page rendered with no session, each block of it replaced by the snapshot's), so a
phone sees the standings before its websocket opens; ``/ws/live`` streams the channel
(``stream``, the race service's own code, ahead of the middlewares as there:
``server.web.live_socket``); ``/static`` the same files;
``/results/{id}`` and the whole exports of each results version as the race service
rendered them into Redis (``server.web.results_publish``); ``/live/cars/{number}`` and
the watch messages on ``/ws/live`` from the car channels the race service writes while
an edge watches them (``server.web.edge_cars``). Any number
of edges can run behind a load balancer; a restart of one only makes its spectators
reconnect (the browser does by itself) and a restart of the race service goes unseen
(the updates pause, then continue with the next number).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Receive, Scope, Send

from server.service.gc_keeper import GcKeeper
from server.service.hub import Hub
from server.service.redis_cars import WATCH_TTL_S
from server.service.redis_relay import RedisMirror
from server.service.supervisor import cancel_all
from server.web.contexts import LIVE_BLOCKS
from server.web.edge_cars import EdgeCars, EdgeCarWatch, edge_car_page
from server.web.live_render import block_of
from server.web.live_socket import PublicSocket, accepted
from server.web.rendering import Renderer
from server.web.results_publish import MEDIA_TYPES, edge_results
from server.web.routes.websockets import stream
from server.web.static_files import VersionedStaticFiles
from server.web.views import live_context


def page_context(mirror: RedisMirror) -> dict[str, Any]:
    """The context of the empty live page (the snapshot's blocks are put in after)."""
    view = mirror.channel.view
    now_us, rate = (0, 1.0) if view is None else (view.now_us, view.rate)
    return live_context(event_name="", status=None, rows=(), server_now_us=now_us, clock_rate=rate)


def edge_page(renderer: Renderer, mirror: RedisMirror) -> str:
    """``live.html`` with the blocks of the latest snapshot (an empty page before one)."""
    view = mirror.channel.view
    context = page_context(mirror)
    page = renderer.page("live.html", context)
    blocks = {} if view is None else view.page_blocks()
    for name in LIVE_BLOCKS:
        empty = renderer.fragments("live.html", (name,), context)
        html = blocks.get(block_of(empty).id)
        if html is not None:
            page = page.replace(empty, html, 1)
    return page


def create_edge_app(redis_url: str, prefix: str, watch_ttl_s: float = WATCH_TTL_S) -> FastAPI:
    renderer = Renderer()
    hub = Hub()
    mirror = RedisMirror(redis_url, prefix, hub)
    edge_cars = EdgeCars(redis_url, prefix, hub, watch_ttl_s)
    # bytes, not text: the results hash holds PDFs (server.web.results_publish)
    results_redis: Redis = Redis.from_url(
        redis_url, client_name=f"{prefix}:edge-results", socket_connect_timeout=2.0
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        following = asyncio.create_task(mirror.run(), name="redis mirror")
        watches = asyncio.create_task(edge_cars.run(), name="car watches")
        gc.collect()  # what the edge starts with lives as long as it: out of every collection
        gc.freeze()
        keeper = asyncio.create_task(GcKeeper().run(), name="gc keeper")
        try:
            yield
        finally:
            await cancel_all((following, watches, keeper))
            await mirror.close()
            await edge_cars.close()
            await results_redis.aclose()

    app = FastAPI(title="racecontrol edge", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.mirror = mirror
    app.state.edge_cars = edge_cars
    app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=6)

    async def ws_live(scope: Scope, receive: Receive, send: Send) -> None:
        if await accepted(receive, send):
            public = mirror.channel
            await stream(receive, send, public, lambda sub: EdgeCarWatch(edge_cars, public, sub))

    # outermost: the spectators' websocket skips the middlewares (server.web.live_socket)
    app.add_middleware(PublicSocket, handler=ws_live)
    static = VersionedStaticFiles(directory=renderer.static_dir, version_of=renderer.static_version)
    app.mount("/static", static, name="static")

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/live")

    @app.get("/live")
    async def live() -> HTMLResponse:
        return HTMLResponse(edge_page(renderer, mirror))

    @app.get("/live/cars/{number}")
    async def car(number: str) -> HTMLResponse:
        """The live page with the car's panel, from the car channel in Redis."""
        try:
            entered = await edge_cars.known()
            channel = await edge_cars.current(number) if number in entered else None
        except RedisError as exc:
            raise HTTPException(503, "the car is not reachable on this edge now") from exc
        if channel is None:
            raise HTTPException(404, "no such car in the session")
        page = edge_page(renderer, mirror)
        return HTMLResponse(edge_car_page(renderer, page, page_context(mirror), channel))

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        """200 while Redis answers, 503 (with the last update's number) while it does not."""
        body = {
            "redis": "ok" if mirror.connected else "unreachable",
            "seq": mirror.channel.seq,
            "spectators": len(mirror.channel.subscribers),
            "cars_followed": sorted(edge_cars.mirrors),
        }
        return JSONResponse(body, status_code=200 if mirror.connected else 503)

    async def published(session_id: int, part: str, version: int | None, kind: str) -> Response:
        try:
            data = await edge_results(results_redis, prefix, session_id, part, version, kind)
        except RedisError as exc:
            raise HTTPException(503, "results are not reachable on this edge now") from exc
        if data is None:
            what = "results" if version is None else f"results version {version}"
            raise HTTPException(404, f"session {session_id} has no {what} published")
        return Response(data, media_type=MEDIA_TYPES[kind])

    @app.get("/results/{session_id}")
    async def results_page(
        session_id: int, version: Annotated[int | None, Query(ge=1)] = None
    ) -> Response:
        """The race service's results page of the version, as it published it."""
        return await published(session_id, "race", version, "html")

    @app.get("/api/v1/sessions/{session_id}/results")
    async def results_export(
        session_id: int,
        format: Literal["json", "csv", "pdf"] = "json",
        version: Annotated[int | None, Query(ge=1)] = None,
        part: Literal["race", "sprint"] = "race",
        class_: Annotated[str | None, Query(alias="class", max_length=100)] = None,
    ) -> Response:
        """A version's export as the race service published it (whole: one class's
        export is the race service's own route)."""
        if class_ is not None:
            raise HTTPException(404, "one class's results are served by the race service")
        return await published(session_id, part, version, format)

    return app
