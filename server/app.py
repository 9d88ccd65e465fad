"""FastAPI app factory and lifespan.

Strategy: one process owns the engine (single writer), so the app is built once with
its settings and clock; the long-lived tasks (journal writer, publisher, ticker,
heartbeat, one runner per decoder) start in the lifespan under one TaskGroup and are
cancelled together at shutdown.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from server.db.connection import create_engine, sessionmaker
from server.db.migrate import check_migrated
from server.engine.events import InputEvent
from server.service.decoder_alerts import still_open, unreportable_alert
from server.service.hub import Hub
from server.service.race_service import RaceService
from server.service.spool import Spool
from server.settings import Settings
from server.web.rendering import Renderer
from server.web.routes import api, pages, websockets
from server.web.state import AppState
from timing_adapters.clock import Clock, ScaledClock, WallClock
from timing_adapters.registry import open_adapter
from timing_adapters.rmonitor.server import RMonitorServer

log = logging.getLogger("racecontrol")


async def _serve_rmonitor(server: RMonitorServer) -> None:
    """A taken port costs the scoreboards their feed, never the timing."""
    try:
        await server.run()
    except OSError as exc:
        log.error("RMonitor output on %s:%d not started: %s", server.host, server.port, exc)


async def _journal(race: RaceService, event: InputEvent) -> None:
    await race.submit(event)


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    if clock is None:
        clock = WallClock() if settings.speed == 1.0 else ScaledClock(settings.speed)
    renderer = Renderer()
    run_clock: Clock = clock

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db_engine = create_engine(settings.database_url)
        try:
            await check_migrated(db_engine)
            db = sessionmaker(db_engine)
            hub = Hub()
            race = RaceService(
                db,
                clock=run_clock,
                hub=hub,
                renderer=renderer,
                spool=Spool(Path(settings.spool_path)),
                publish_interval_s=settings.publish_interval_s,
            )
            app.state.racecontrol = AppState(settings, db_engine, db, hub, renderer, race)
            await race.load_latest()
            race.publish()
            # the replayed state is long-lived: keep it out of every full collection
            # (bench/README.md: full collections set the fan-out's p99)
            gc.collect()
            gc.freeze()
            async with asyncio.TaskGroup() as tasks:
                running = [
                    tasks.create_task(race.run_writer()),
                    tasks.create_task(race.run_publisher()),
                    tasks.create_task(race.run_ticker()),
                    tasks.create_task(race.run_heartbeat(settings.heartbeat_interval_s)),
                    tasks.create_task(race.run_spool_drain()),
                ]
                if settings.rmonitor_port is not None:
                    race.rmonitor = RMonitorServer(
                        host=settings.rmonitor_host, port=settings.rmonitor_port, clock=run_clock
                    )
                    running.append(tasks.create_task(_serve_rmonitor(race.rmonitor)))
                for url in settings.decoders:
                    adapter = open_adapter(
                        url,
                        race.on_detection,
                        clock=run_clock,
                        on_state=race.on_decoder_state,
                        silence_timeout_s=settings.decoder_silence_timeout_s,
                        last_passing_number=race.mapper.resume_number(url, len(settings.decoders)),
                    )
                    race.on_decoder_state(adapter.state)
                    running.append(tasks.create_task(adapter.run()))
                alert = unreportable_alert(race.entries, settings.decoders, run_clock.now_us())
                if alert is not None and race.engine is not None:
                    log.warning("%s", alert.text)
                    if not still_open(alert, race.engine.alerts()):
                        running.append(tasks.create_task(_journal(race, alert)))
                yield
                for task in running:
                    task.cancel()
        finally:
            await db_engine.dispose()

    app = FastAPI(
        title="racecontrol",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/api/v1/docs",
        openapi_url="/api/v1/openapi.json",
    )
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, same_site="strict")
    app.mount("/static", StaticFiles(directory=renderer.static_dir), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(websockets.router)
    return app
