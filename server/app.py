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
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware.gzip import GZipMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from server.db.accounts import HashGate, ThrottlePolicy
from server.db.connection import create_engine, sessionmaker
from server.db.migrate import DatabaseNotMigrated, check_migrated
from server.db.text_limits import TextRefused
from server.engine.events import InputEvent
from server.service.decoder_alerts import still_open, unreportable_alert
from server.service.gc_keeper import GcKeeper
from server.service.hub import Hub
from server.service.race_service import RaceService, RejectedInput, WriteTimedOut
from server.service.redis_cars import CarRelay
from server.service.redis_relay import RedisRelay
from server.service.spool import Spool
from server.service.supervisor import Supervisor, TaskFactory, cancel_all
from server.settings import Settings
from server.web.auth import LoginCookies
from server.web.car_page import car_numbers, publish_car
from server.web.contexts import render_channels
from server.web.csrf import CsrfGuard
from server.web.limits import BodyLimit
from server.web.live_socket import PublicSocket, race_live
from server.web.rendering import Renderer
from server.web.results_publish import ResultsPublisher
from server.web.routes import (
    api,
    charts,
    health,
    pages,
    results,
    season,
    stewards_api,
    websockets,
)
from server.web.routes.api_docs import docs_router
from server.web.state import AppState
from server.web.static_files import VersionedStaticFiles
from server.web.views import heartbeat_html
from timing_adapters.clock import Clock, ScaledClock, WallClock
from timing_adapters.registry import open_adapter
from timing_adapters.rmonitor.server import RMonitorServer

log = logging.getLogger("racecontrol")
OPENAPI_URL = "/api/v1/openapi.json"


async def _serve_rmonitor(server: RMonitorServer) -> None:
    """A taken port costs the scoreboards their feed, never the timing: said once, not retried
    (the supervisor would otherwise restart it until the process gave up)."""
    try:
        await server.run()
    except OSError as exc:
        log.error("RMonitor output on %s:%d not started: %s", server.host, server.port, exc)
        await asyncio.Event().wait()


async def _journal(race: RaceService, event: InputEvent) -> None:
    await race.submit(event)


def _serve_assets(app: FastAPI, renderer: Renderer) -> None:
    """Static files with their cache policy, the API docs from the package, and gzip.

    Spectators' phones are on a weak network: HTML, CSS, JS and JSON go compressed
    (websockets pass through the middleware untouched), versioned assets are cached for
    good. Level 6: within 0.5 % of level 9's size on our assets, for up to 70 % less CPU.
    """
    app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=6)
    static = VersionedStaticFiles(directory=renderer.static_dir, version_of=renderer.static_version)
    app.mount("/static", static, name="static")
    app.include_router(docs_router(renderer, OPENAPI_URL))


async def _write_timed_out(request: Request, exc: Exception) -> Response:
    """A write the race service could not apply in time: 503 with what to do, never a hang."""
    return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})


async def _text_refused(request: Request, exc: Exception) -> Response:
    """A text the database would not take (too long, NUL or control characters): 422."""
    return JSONResponse({"detail": str(exc)}, status_code=422)


async def _input_rejected(request: Request, exc: Exception) -> Response:
    """A command the database or the engine could not take (logged and alerted): 422."""
    return JSONResponse({"detail": f"not recorded: {exc}"}, status_code=422)


async def database_down_at_start(db_engine: AsyncEngine, spool: Spool) -> Exception | None:
    """None when the database answers and is migrated; the error when it does not answer
    and the spool has a local copy of the timed session to start from (``serve`` then times
    into the spool until it is back). Any other failure is raised: a database that answers
    but is not migrated, or one that is down with nothing local to time from."""
    try:
        await check_migrated(db_engine)
    except DatabaseNotMigrated:
        raise
    except Exception as exc:
        copy = spool.path.with_name(spool.path.name + ".session")
        if not (spool.path.exists() or copy.exists()) or not await _unreachable(db_engine):
            raise
        log.error("database unreachable at start (%s); starting from the local spool", exc)
        return exc
    return None


async def _unreachable(db_engine: AsyncEngine) -> bool:
    """Whether the database does not even answer a trivial question."""
    try:
        async with db_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return True
    return False


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    return ThrottlePolicy(
        free=settings.login_free_tries,
        delay_s=settings.login_delay_s,
        max_delay_s=settings.login_max_delay_s,
        lockout_after=settings.login_lockout_after,
        forget_s=settings.login_forget_s,
    )


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    on_fatal: Callable[[str], None] | None = None,
) -> FastAPI:
    """The app; ``on_fatal`` is called when a background task keeps failing (``serve`` stops
    the process with a non-zero exit code so that its supervisor restarts it)."""
    if clock is None:
        clock = WallClock() if settings.speed == 1.0 else ScaledClock(settings.speed)
    renderer = Renderer()
    run_clock: Clock = clock

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db_engine = create_engine(settings.database_url)
        relay: RedisRelay | None = None
        car_relay: CarRelay | None = None
        results_for_edges: ResultsPublisher | None = None
        try:
            spool = Spool(Path(settings.spool_path))
            offline = await database_down_at_start(db_engine, spool)
            db = sessionmaker(db_engine)
            hub = Hub()
            race = RaceService(
                db,
                clock=run_clock,
                hub=hub,
                render=lambda race, channels: render_channels(renderer, race, channels),
                heartbeat=heartbeat_html,
                spool=spool,
                publish_interval_s=settings.publish_interval_s,
                submit_timeout_s=settings.submit_timeout_s,
            )
            app.state.racecontrol = AppState(
                settings,
                db_engine,
                db,
                hub,
                renderer,
                race,
                hash_gate=HashGate(settings.hash_concurrency, settings.hash_wait_s),
                throttle_policy=throttle_policy(settings),
                login_clock=run_clock,
            )
            if settings.redis_url is not None:  # edges serve the spectators (docs/edges.md)
                relay = RedisRelay(settings.redis_url, settings.redis_prefix, hub)
                await relay.start()
                car_relay = CarRelay(
                    relay,
                    hub,
                    numbers=lambda: car_numbers(race),
                    render=lambda number: publish_car(renderer, race, number),
                )
                results_for_edges = ResultsPublisher(
                    settings.redis_url, settings.redis_prefix, db, renderer
                )
            if offline is None:
                await race.load_latest()
            elif not await race.start_offline():
                raise offline  # nothing to time from: say why the database failed
            race.publish()
            # the replayed state is long-lived: keep it out of every full collection
            # (bench/README.md: full collections set the fan-out's p99)
            gc.collect()
            gc.freeze()
            supervisor = Supervisor(on_failure=race.on_task_failure, on_fatal=on_fatal)
            app.state.racecontrol.supervisor = supervisor
            async with asyncio.TaskGroup() as tasks:

                def supervise(name: str, factory: TaskFactory) -> None:
                    running.append(tasks.create_task(supervisor.run(name, factory), name=name))

                running: list[asyncio.Task[None]] = []
                supervise("writer", race.run_writer)
                supervise("publisher", race.run_publisher)
                supervise("ticker", race.run_ticker)
                supervise("heartbeat", lambda: race.run_heartbeat(settings.heartbeat_interval_s))
                supervise("spool drain", race.run_spool_drain)
                supervise("entry watch", race.run_entry_watch)
                supervise("gc keeper", GcKeeper().run)
                if relay is not None:
                    supervise("redis relay", relay.run)
                if car_relay is not None:
                    supervise("car watches from edges", car_relay.run)
                if results_for_edges is not None:
                    supervise("results for edges", results_for_edges.run)
                if settings.rmonitor_port is not None:
                    rmonitor = RMonitorServer(
                        host=settings.rmonitor_host, port=settings.rmonitor_port, clock=run_clock
                    )
                    race.rmonitor = rmonitor
                    supervise("rmonitor output", lambda: _serve_rmonitor(rmonitor))
                for url in settings.decoders:
                    resume = race.mapper.resume(url, len(settings.decoders))
                    adapter = open_adapter(
                        url,
                        race.on_detection,
                        clock=run_clock,
                        on_state=race.on_decoder_state,
                        silence_timeout_s=settings.decoder_silence_timeout_s,
                        last_passing_number=None if resume is None else resume.number,
                        epoch=0 if resume is None else resume.epoch,
                        epoch_span_us=None if resume is None else resume.span_us,
                    )
                    race.on_decoder_state(adapter.state)
                    supervise(f"decoder {url}", adapter.run)
                alert = unreportable_alert(race.entries, settings.decoders, run_clock.now_us())
                if alert is not None and race.engine is not None:
                    log.warning("%s", alert.text)
                    if not still_open(alert, race.engine.alerts()):
                        running.append(tasks.create_task(_journal(race, alert)))
                yield
                await cancel_all(running)
            # a clean shutdown (every task stopped): the next start restores this
            # checkpoint and replays nothing
            try:
                await race.journal.copy_written()
                await race.checkpoint_now()
            except Exception:  # a shortcut only: the journal has every event
                log.exception("checkpoint at shutdown failed")
        finally:
            if relay is not None:
                await relay.close()
            if results_for_edges is not None:
                await results_for_edges.close()
            await db_engine.dispose()

    app = FastAPI(
        title="racecontrol",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's own docs pages load from a CDN: _serve_assets has ours
        redoc_url=None,
        openapi_url=OPENAPI_URL,
    )
    # inside the session cookie's middleware; the body-size cap is outermost (added last)
    app.add_middleware(CsrfGuard, secret_key=settings.secret_key)
    app.add_middleware(
        LoginCookies,
        secret_key=settings.secret_key,
        max_age=settings.session_max_age_s,
        mode=settings.secure_cookies,
    )
    _serve_assets(app, renderer)
    # outermost: the client address and scheme as a trusted proxy says (none by default),
    # for the login throttle and the cookies' Secure flag
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.forwarded_allow_ips))
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(results.router)
    app.include_router(results.pages)
    app.include_router(season.router)
    app.include_router(season.pages)
    app.include_router(stewards_api.router)
    app.include_router(websockets.router)
    app.include_router(charts.router)
    app.include_router(charts.pages)
    app.include_router(health.router)
    app.add_exception_handler(WriteTimedOut, _write_timed_out)
    app.add_exception_handler(RejectedInput, _input_rejected)
    app.add_exception_handler(TextRefused, _text_refused)
    app.add_middleware(BodyLimit)
    # outermost: the spectators' websocket skips the middlewares (server.web.live_socket)
    app.add_middleware(PublicSocket, handler=race_live)
    return app
