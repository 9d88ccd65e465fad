"""Who may do what, route by route: every route of the OpenAPI schema, every page route that
is not in it and every websocket, asked by every kind of caller, against ONE table.

A caller is allowed when the answer is not 401, 403 or a redirect to the login page (for a
websocket: when the snapshot arrives rather than a 1008 close). Writes are sent without a
body, so an allowed caller gets a 4xx about the body and nothing changes; the logout goes
last. A route that is not in the table, or an entry without a route, fails the test.
"""

from __future__ import annotations

import json
from base64 import b64encode
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

import httpx
import websockets
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from itsdangerous import TimestampSigner
from starlette.routing import Mount, Route

from server.app import create_app
from server.db import repository
from server.db.connection import create_engine, sessionmaker
from server.settings import Settings
from server.web.csrf import csrf_token
from server.web.live_socket import PUBLIC_SOCKET_PATH
from tests.fixtures.app_server import RunningServer
from tests.fixtures.browser import SQLITE_DB, race_databases
from tests.fixtures.pit_desk import browser_client, log_in, log_in_pin, race_desk

PASSWORD = "matrix-pass-1"
ROLES = ("control", "steward", "timing", "pit")
CALLERS = (
    "anonymous",
    "pin",
    *(f"cookie:{role}" for role in ROLES),
    *(f"token:{role}" for role in ROLES),
    "forged-cookie",  # signed with another key, claiming race control
    "unknown-token",  # a bearer token the database never issued
    "expired-token",  # race control's, past its expiry
    "revoked-token",  # race control's, revoked
    "revoked-session",  # race control's cookie, copied before its logout
)
EVERYONE = frozenset(CALLERS)
NO_FORGERY = EVERYONE - {"forged-cookie"}  # a write with a cookie that does not verify
CONTROL = frozenset({"cookie:control", "token:control"})
TIMING = CONTROL | {"cookie:timing", "token:timing"}
PIT = CONTROL | {"pin", "cookie:pit", "token:pit"}
STEWARD = frozenset({"cookie:steward", "token:steward"})
CONTROL_OR_STEWARD = CONTROL | STEWARD
# websockets read the login cookie only (a browser sends no bearer token)
PIT_SOCKET = frozenset({"cookie:control", "pin", "cookie:pit"})
CONTROL_SOCKET = frozenset({"cookie:control"})
STEWARDS_SOCKET = frozenset({"cookie:control", "cookie:steward"})

# THE table: "METHOD path" (as routed; WS for a websocket) -> who may
ALLOWED: dict[str, frozenset[str]] = {
    # public pages and documents
    "GET /": EVERYONE,
    "GET /live": EVERYONE,
    "GET /live/cars/{number}": EVERYONE,
    "GET /login": EVERYONE,
    "GET /healthz": EVERYONE,
    "GET /api/v1/openapi.json": EVERYONE,
    "GET /api/v1/docs": EVERYONE,
    "GET /api/v1/redoc": EVERYONE,
    "GET /results/{session_id}": EVERYONE,
    "GET /api/v1/series/{name}/standings": EVERYONE,
    "GET /api/v1/series/{name}/trophies": EVERYONE,
    "GET /series/{name}": EVERYONE,
    "GET /series/{name}/drivers/{driver}": EVERYONE,
    "GET /api/v1/sessions/{session_id}/results": EVERYONE,
    "POST /api/v1/sessions/{session_id}/official": CONTROL_OR_STEWARD,
    "GET /api/v1/sessions/{session_id}/grid": EVERYONE,
    "GET /live/sessions/{session_id}/grid": EVERYONE,
    "GET /live/sessions": EVERYONE,  # the event's sessions, results and grids
    "GET /live/teams/{number}": EVERYONE,  # a team's pit wall, read-only
    "GET /api/v1/sessions/{session_id}/incidents": CONTROL_OR_STEWARD,
    "POST /api/v1/sessions/{session_id}/incidents": CONTROL_OR_STEWARD,
    "POST /api/v1/sessions/{session_id}/laps/void": CONTROL_OR_STEWARD,
    "POST /api/v1/incidents/{incident_id}/decision": STEWARD,
    "POST /api/v1/incidents/{incident_id}/amend": STEWARD,
    "GET /stewards": CONTROL_OR_STEWARD,
    "POST /stewards/decide": STEWARD,
    "POST /control/incidents": CONTROL_OR_STEWARD,
    "POST /control/laps/void": CONTROL_OR_STEWARD,
    "GET /control/cars/{number}/laps": CONTROL_OR_STEWARD,
    "WS /ws/stewards": STEWARDS_SOCKET,
    "GET /control/event": CONTROL,
    "POST /control/event/sessions": CONTROL,
    "POST /control/event/sessions/{session_id}/time": CONTROL,
    "POST /control/event/entries": CONTROL,
    "POST /control/event/entries/upload": CONTROL,
    "POST /control/event/entries/class": CONTROL,
    "POST /control/event/series": CONTROL,
    "POST /control/event/series/classes": CONTROL,
    "POST /control/event/series/classes/upload": CONTROL,
    "POST /control/event/series/equivalency": CONTROL,
    "POST /control/event/series/equivalency/upload": CONTROL,
    "POST /control/event/series/events": CONTROL,
    # On the Move is a steward's award: the chief steward, or race control on their word
    "POST /control/event/series/award": CONTROL_OR_STEWARD,
    "GET /static": EVERYONE,
    "GET /api/v1/sessions": EVERYONE,
    "GET /api/v1/sessions/{session_id}/standings": EVERYONE,
    "GET /api/v1/sessions/{session_id}/charts": EVERYONE,
    "GET /live/charts": EVERYONE,
    # logins: anyone may try (a forged cookie too: a login replaces it)
    "POST /login": EVERYONE,
    "POST /login/pin": EVERYONE,
    "POST /logout": NO_FORGERY,
    # race control
    "POST /api/v1/sessions": CONTROL,
    "POST /api/v1/sessions/{session_id}/flag": CONTROL,
    "GET /control": CONTROL,
    "GET /control/snapshots": CONTROL,
    "POST /control/flag": CONTROL,
    "POST /control/clock": CONTROL,
    "POST /control/alerts/ack": CONTROL,
    "GET /control/logins": CONTROL,
    "POST /control/logins/lift": CONTROL,
    "POST /control/messages": CONTROL,
    "POST /control/driver-change": CONTROL,
    "POST /control/retire": CONTROL,
    "GET /control/cars/{number}": CONTROL,
    "GET /control/crossings": CONTROL,
    # timing: corrections and the decoders
    "POST /control/corrections/add": TIMING,
    "POST /control/corrections/undo": TIMING,
    "GET /control/gaps": TIMING,
    "POST /control/flag/undo": CONTROL,
    "POST /control/alerts/ack-kind": CONTROL,
    "GET /control/messages/edit": CONTROL,
    "POST /control/messages/edit": CONTROL,
    "POST /control/messages/retract": CONTROL,
    "POST /control/corrections/delete": TIMING,
    "POST /control/corrections/assign": TIMING,
    "GET /api/v1/decoders": TIMING,
    # the pit lane
    "GET /pit": PIT,
    "POST /pit/driver-change": PIT,
    "POST /pit/solo-exit": PIT,
    "POST /pit/in": PIT,
    "POST /pit/out": PIT,
    # websockets (a browser's: the login cookie, never a bearer token)
    "WS /ws/live": EVERYONE,
    "WS /ws/live/teams/{number}": EVERYONE,
    "WS /ws/charts": EVERYONE,
    "WS /ws/control": CONTROL_SOCKET,
    "WS /ws/pit": PIT_SOCKET,
}


def routes_of_the_app(openapi: dict[str, dict[str, object]]) -> set[str]:
    """Every route: the schema's, the page routes (not in it) and the websockets."""
    found = {
        f"{method.upper()} {path}"
        for path, methods in openapi["paths"].items()
        for method in methods
    }
    app = create_app(Settings(database_url="sqlite+aiosqlite://", rmonitor_port=None))
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIWebSocketRoute):
            found.add(f"WS {context.path}")
        elif isinstance(route, APIRoute | Route):
            found |= {f"{m} {context.path}" for m in context.methods or () if m != "HEAD"}
        elif isinstance(route, Mount):
            found.add(f"GET {route.path}")
    # the spectators' websocket is served ahead of the routes (server.web.live_socket)
    found.add(f"WS {PUBLIC_SOCKET_PATH}")
    return found


async def add_callers(db_url: str) -> dict[str, str]:
    """A user of each role but control (the desk's), a token of each, and race control's
    expired and revoked tokens; the tokens."""
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            for role in ROLES[1:]:
                await repository.add_user(db, f"matrix-{role}", PASSWORD, role)
            tokens = {role: await repository.create_token(db, role, "matrix") for role in ROLES}
            long_ago = datetime(2000, 1, 1, tzinfo=UTC)
            tokens["expired"] = await repository.create_token(db, "control", "old", long_ago)
            tokens["revoked"] = await repository.create_token(db, "control", "gone")
            await repository.revoke_token(db, "gone")
            return tokens
    finally:
        await engine.dispose()


@asynccontextmanager
async def callers(
    srv: RunningServer, tokens: dict[str, str]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    async with AsyncExitStack() as stack:
        clients: dict[str, httpx.AsyncClient] = {}
        for name in CALLERS:
            client = await stack.enter_async_context(browser_client(srv))
            kind, _, role = name.partition(":")
            if name == "pin":
                await log_in_pin(client)
            elif kind == "cookie" and role == "control":
                await log_in(client)
            elif kind == "cookie":
                await log_in(client, f"matrix-{role}", PASSWORD)
            elif kind == "token":
                client.headers["Authorization"] = f"Bearer {tokens[role]}"
            elif name == "forged-cookie":
                claim = b64encode(json.dumps({"user": "rc", "role": "control"}).encode())
                value = TimestampSigner("not-the-key").sign(claim).decode()
                client.cookies.set("session", value)
                client.headers["X-CSRF-Token"] = csrf_token("not-the-key", value)
            elif name == "unknown-token":
                client.headers["Authorization"] = "Bearer rc_never-issued-token"
            elif name in ("expired-token", "revoked-token"):
                client.headers["Authorization"] = f"Bearer {tokens[kind.split('-')[0]]}"
            elif name == "revoked-session":
                async with browser_client(srv) as session:
                    await log_in(session)
                    copied = dict(session.cookies)
                    token = session.headers["X-CSRF-Token"]
                    assert (await session.post("/logout")).status_code == 303
                for key, value in copied.items():
                    client.cookies.set(key, value)
                client.headers["X-CSRF-Token"] = token
            clients[name] = client
        yield clients


def concrete(path: str, session_id: int) -> str:
    return (
        path.replace("{session_id}", str(session_id))
        .replace("{number}", "7")
        .replace("{name}", "Club")
        .replace("{driver}", "Ann")
        .replace("{incident_id}", f"{session_id}-1")
        .replace("/static", "/static/app.css")
    )


async def allowed_http(client: httpx.AsyncClient, method: str, path: str) -> bool:
    answer = await client.request(method, path)
    assert answer.status_code < 500, (method, path, answer.status_code, answer.text)
    to_login = answer.status_code == 303 and answer.headers["location"].startswith("/login")
    return answer.status_code not in (401, 403) and not to_login


async def allowed_websocket(srv: RunningServer, client: httpx.AsyncClient, path: str) -> bool:
    headers = {"Origin": srv.base_url}
    if client.cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    if "Authorization" in client.headers:
        headers["Authorization"] = client.headers["Authorization"]
    async with websockets.connect(f"{srv.ws_url}{path}", additional_headers=headers) as ws:
        try:
            await ws.recv()
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1008
            return False
        return True


@race_databases(SQLITE_DB)
async def test_every_route_against_the_table(db_url: str) -> None:
    tokens = await add_callers(db_url)
    async with race_desk(db_url) as desk:
        srv = desk.srv
        async with browser_client(srv) as anonymous:
            openapi = (await anonymous.get("/api/v1/openapi.json")).json()
        routes = routes_of_the_app(openapi)
        assert routes - set(ALLOWED) == set(), "a route without an entry in ALLOWED"
        assert set(ALLOWED) - routes == set(), "an entry in ALLOWED without a route"
        seen: dict[str, set[str]] = {route: set() for route in ALLOWED}
        async with callers(srv, tokens) as clients:
            for route in sorted(ALLOWED, key=lambda r: r == "POST /logout"):  # logout last
                method, path = route.split(" ", 1)
                url = concrete(path, desk.session_id)
                for name, client in clients.items():
                    if method == "WS":
                        ok = await allowed_websocket(srv, client, url)
                    else:
                        ok = await allowed_http(client, method, url)
                    if ok:
                        seen[route].add(name)
        wrong = {
            route: {"allowed": sorted(seen[route]), "expected": sorted(ALLOWED[route])}
            for route in ALLOWED
            if seen[route] != ALLOWED[route]
        }
        assert wrong == {}
