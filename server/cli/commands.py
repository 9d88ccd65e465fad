"""What each CLI subcommand does (kept apart from argument parsing)."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from server.app import create_app
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
from server.service.entries_import import EntriesImportError
from server.service.entries_import import import_entries as _import_entries
from server.service.results import to_csv, to_json
from server.service.results_docs import load_document
from server.service.results_pdf import to_pdf
from timing_adapters.registry import CODE_FORMS, code_form


def uvicorn_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    # one worker: the engine lives in this process. No permessage-deflate: it costs
    # ~250 KB per connection and the same pre-rendered message goes to every client.
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ws_per_message_deflate=False,
        # X-Forwarded-* are the app's to judge (RACECONTROL_FORWARDED_ALLOW_IPS); uvicorn's
        # own default would believe any process on 127.0.0.1
        proxy_headers=False,
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
        app = create_edge_app(args.redis, args.redis_prefix, args.watch_ttl)
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


async def remove_user(url: str, name: str) -> int:
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as db:
            ended = await repository.remove_user(db, name)
            await repository.audit(db, "cli", "user.remove", {"user": name, "ended": ended})
            return ended
    except LookupError as exc:
        raise UserError(str(exc)) from exc
    finally:
        await engine.dispose()


async def create_token(url: str, role: str, label: str, expires_in: timedelta | None = None) -> str:
    engine = create_engine(url)
    expires_at = None if expires_in is None else datetime.now(UTC) + expires_in
    try:
        async with sessionmaker(engine)() as db:
            return await repository.create_token(db, role, label, expires_at)
    finally:
        await engine.dispose()


async def revoke_token(url: str, which: str) -> int:
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as db:
            gone = await repository.revoke_token(db, which)
            await repository.audit(db, "cli", "token.revoke", {"token": which, "revoked": gone})
            return gone
    except LookupError as exc:
        raise UserError(f"{exc}; see: racecontrol token list") from exc
    finally:
        await engine.dispose()


async def list_tokens(url: str) -> str:
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as db:
            rows = await repository.list_tokens(db)
    finally:
        await engine.dispose()
    lines = ["id\trole\tlabel\texpires"]
    for row in rows:
        expires = "never" if row.expires_at is None else row.expires_at.isoformat(" ", "seconds")
        lines.append(f"{row.id}\t{row.role}\t{row.label}\t{expires}")
    return "\n".join(lines)


async def list_logins(url: str) -> str:
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as db:
            rows = await repository.throttled_keys(db)
    finally:
        await engine.dispose()
    lines = ["key\tfailures\tlocked\tlast"]
    for row in rows:
        last = row.last_at.isoformat(" ", "seconds")
        lines.append(f"{row.key}\t{row.failures}\t{'yes' if row.locked else 'no'}\t{last}")
    return "\n".join(lines)


async def lift_logins(url: str, key: str | None) -> int:
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as db:
            lifted = await repository.lift_lockouts(db, key)
            await repository.audit(db, "cli", "login.lift", {"key": key or "*", "lifted": lifted})
    finally:
        await engine.dispose()
    if key is not None and lifted == 0:
        raise UserError(f"no failed logins counted for {key!r}; see: racecontrol login list")
    return lifted


async def set_pit_pin(url: str, event: str, pin: str | None) -> str:
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as db:
            return await repository.set_pit_pin(db, event, pin)
    except (LookupError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    finally:
        await engine.dispose()


async def results(
    url: str, session_id: int, format: str, version: int | None, class_name: str | None
) -> bytes:
    """A stored version of a session's results as CSV, JSON or PDF bytes."""
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as db:
            doc = await load_document(db, session_id, version, class_name)
    except LookupError as exc:
        raise UserError(str(exc).strip("'\"")) from exc
    finally:
        await engine.dispose()
    if format == "pdf":
        return to_pdf(doc)
    if format == "json":
        return (json.dumps(to_json(doc), indent=2) + "\n").encode()
    return to_csv(doc).encode()


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


async def replay(
    url: str,
    path: Path,
    fmt: str,
    event: str,
    session: str | None,
    *,
    kind: str = "race",
    length_minutes: int | None = None,
    speed: float | None = None,
    green: str | None = None,
    session_id: int | None = None,
) -> str:
    """``racecontrol replay``: a recording re-scored into a new (or the given) session;
    the one-line summary."""
    from server.db.sessions import create_session
    from server.service.replay import Format, green_time, read_recording, replay_recording

    if not path.is_file():
        raise UserError(f"{path}: no such file")
    recording = read_recording(path.read_bytes(), Format(fmt), f"{fmt}+file://{path.name}")
    try:
        green_at = None if green is None else green_time(recording, green)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    engine = create_engine(url)
    try:
        makers = sessionmaker(engine)
        if session_id is None:
            if not session:
                raise UserError("give --session NAME (or --session-id of an existing session)")
            async with makers() as db:
                try:
                    row = await create_session(db, event, kind, session, length_minutes)
                except ValueError as exc:
                    raise UserError(str(exc)) from None
                session_id = row.id
        else:
            async with makers() as db:
                try:
                    await repository.get_session(db, session_id)
                except LookupError:
                    raise UserError(f"--session-id {session_id}: no such session") from None
        summary = await replay_recording(
            makers, session_id, recording, speed=speed, green_at_us=green_at
        )
    finally:
        await engine.dispose()
    return summary.line()


def demo(args: argparse.Namespace) -> None:
    from server.cli.demo import run_demo

    asyncio.run(run_demo(args))


def emulate(args: argparse.Namespace) -> None:
    from server.cli.demo import run_emulator

    asyncio.run(run_emulator(args))
