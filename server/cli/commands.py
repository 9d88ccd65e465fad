"""What each CLI subcommand does (kept apart from argument parsing)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from server.app import create_app
from server.cli.entries_import import EntriesImportError
from server.cli.entries_import import import_entries as _import_entries
from server.cli.preflight import (
    UserError,
    check_database_url,
    check_decoder_urls,
    ensure_migrated,
    listening_socket,
    load_settings,
    port_problem,
    with_secret_key,
)
from server.cli.track_import import TrackImportError
from server.cli.track_import import import_track as _import_track
from server.db import repository
from server.db.connection import create_engine, sessionmaker
from server.db.migrate import upgrade
from timing_adapters.registry import CODE_FORMS, code_form


def uvicorn_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    # one worker: the engine lives in this process. No permessage-deflate: it costs
    # ~250 KB per connection and the same pre-rendered message goes to every client.
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ws_per_message_deflate=False,
        log_level="info",
        workers=1,
        # SIGTERM ends within 10 s: open websockets and slow requests get 5 s, then are closed
        timeout_graceful_shutdown=5,
    )


def serve(args: argparse.Namespace) -> None:
    overrides: dict[str, object] = {}
    if args.db:
        overrides["database_url"] = args.db
    if args.decoder:
        overrides["decoders"] = args.decoder
    if args.host:
        overrides["host"] = args.host
    if args.port:
        overrides["port"] = args.port
    if args.redis:
        overrides["redis_url"] = args.redis
    if args.redis_prefix:
        overrides["redis_prefix"] = args.redis_prefix
    settings = load_settings(**overrides)
    check_database_url(settings.database_url)
    check_decoder_urls(settings.decoders)
    asyncio.run(ensure_migrated(settings.database_url))
    try:
        http = listening_socket(settings.host, settings.port)
    except OSError as exc:
        raise UserError(
            f"HTTP port {settings.port} on {settings.host} {port_problem(exc)}; "
            "give another --port (or RACECONTROL_PORT)"
        ) from None
    fatal: list[str] = []

    def stop(reason: str) -> None:  # a task that keeps failing: exit non-zero, be restarted
        fatal.append(reason)
        server.should_exit = True

    with http:
        settings = with_secret_key(settings)  # after the checks: a refusal leaves no file
        app = create_app(settings, on_fatal=stop)
        server = uvicorn.Server(uvicorn_config(app, settings.host, settings.port))
        server.run(sockets=[http])
    if fatal:
        raise UserError(f"stopped so that it can be restarted: {fatal[0]}")
    if not server.started:
        raise UserError("the server did not start (see the log above)")


def edge(args: argparse.Namespace) -> None:
    """Spectators' live timing from Redis (``server.web.edge``): no database, no engine."""
    from server.web.edge import create_edge_app

    if not str(args.redis).startswith(("redis://", "rediss://", "unix://")):
        raise UserError(f"--redis {args.redis!r}: give a URL like redis://127.0.0.1:6379/0")
    try:
        http = listening_socket(args.host, args.port)
    except OSError as exc:
        raise UserError(
            f"HTTP port {args.port} on {args.host} {port_problem(exc)}; give another --port"
        ) from None
    with http:
        app = create_edge_app(args.redis, args.redis_prefix)
        server = uvicorn.Server(uvicorn_config(app, args.host, args.port))
        server.run(sockets=[http])


def db_upgrade(url: str) -> None:
    check_database_url(url)
    upgrade(url)
    print(f"database at {url} is up to date")


async def add_user(url: str, name: str, password: str, role: str) -> None:
    if not password:
        raise UserError("an empty password is not allowed")
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as db:
            await repository.add_user(db, name, password, role)
    finally:
        await engine.dispose()


async def create_token(url: str, role: str, label: str) -> str:
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as db:
            return await repository.create_token(db, role, label)
    finally:
        await engine.dispose()


async def set_pit_pin(url: str, event: str, pin: str | None) -> str:
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as db:
            return await repository.set_pit_pin(db, event, pin)
    except (LookupError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    finally:
        await engine.dispose()


async def import_entries(
    url: str, path: Path, event: str, on_date: date | None = None, decoder: str | None = None
) -> str:
    """``decoder``: the URL of the decoder that will time the event (its codes only)."""
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    if decoder is not None:
        check_decoder_urls([decoder])
    forms = CODE_FORMS if decoder is None else (code_form(decoder),)
    engine = create_engine(url)
    try:
        report = await _import_entries(sessionmaker(engine), path, event, on_date, code_forms=forms)
    except EntriesImportError as exc:
        raise UserError(f"{path}: nothing imported:\n{exc}") from exc
    finally:
        await engine.dispose()
    return str(report)


async def import_track(url: str, path: Path, event: str) -> str:
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    engine = create_engine(url)
    try:
        return await _import_track(sessionmaker(engine), path, event)
    except TrackImportError as exc:
        raise UserError(f"{path}: nothing imported:\n{exc}") from exc
    finally:
        await engine.dispose()


def demo(args: argparse.Namespace) -> None:
    from server.cli.demo import run_demo

    asyncio.run(run_demo(args))


def emulate(args: argparse.Namespace) -> None:
    from server.cli.demo import run_emulator

    asyncio.run(run_emulator(args))
