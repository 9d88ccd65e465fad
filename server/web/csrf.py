"""Cross-site requests: a write with the login cookie must come from our own pages.

Strategy: SameSite alone is not enough (another port of the same host is the same site),
so ``CsrfGuard``, pure ASGI middleware, checks every state-changing request (POST, PUT,
PATCH, DELETE) that is not a bearer-token call:

- its ``Origin`` (or, without one, its ``Referer``) must be this site's: the same host and
  port as the request's ``Host`` header. A request that names another origin is refused
  (403) whatever it carries; one that names none is refused when it carries the session
  cookie or is a login (a login from another site would log the victim in as the
  attacker), and let through otherwise (no cookie: no ambient authority to abuse; the route
  answers 401 by itself);
- with the session cookie (a login form excepted: there is no session yet to bind it to),
  it must carry the session's token, in the ``X-CSRF-Token`` header (htmx sends it from
  the page's ``<meta name="csrf-token">``) or the ``csrf_token`` field of a form.

The token is an HMAC, keyed by the app's session-signing key, of the session cookie's
value: it is independent of what the cookie holds, and a page of another origin can read
neither the cookie nor our pages, so it cannot compute or copy it. Only the part of the
value before its first ``.`` is used: the signed cookie is ``payload.timestamp.signature``
and the signer stamps it anew on every response, while its payload stays the session's.

Websockets (``/ws/*``) have no CSRF token, and a browser sends the cookie with a
cross-site handshake: a handshake whose ``Origin`` is not this site is closed (1008)
before it is accepted, which the client sees as a 403. Bearer-token API calls are exempt:
a browser never adds an ``Authorization`` header by itself.
"""

from __future__ import annotations

import hashlib
import hmac
from http.cookies import CookieError, SimpleCookie
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from fastapi import Depends, Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.web.deps import StateDep
from server.web.page_token import page_token as request_token

SESSION_COOKIE = "session"  # Starlette SessionMiddleware's cookie name
TOKEN_HEADER = "x-csrf-token"
TOKEN_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
LOGIN_PATHS = frozenset({"/login", "/login/pin"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def csrf_token(secret_key: str, cookie_value: str) -> str:
    """The session's token: HMAC-SHA256 (keyed from the session-signing key) of the
    stable part of the session cookie's value; "" without a cookie."""
    if not cookie_value:
        return ""
    stable = cookie_value.split(".", 1)[0]
    key = hashlib.sha256(b"racecontrol csrf\0" + secret_key.encode()).digest()
    return hmac.new(key, stable.encode(), hashlib.sha256).hexdigest()


def session_cookie(headers: Headers) -> str:
    """The raw value of the session cookie ("" when the request has none)."""
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except CookieError:
        return ""
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel is not None else ""


def _endpoint(netloc: str, scheme: str) -> tuple[str, int | None]:
    """(host, port) of a ``host[:port]``, the scheme's default port when none is given."""
    parts = urlsplit(f"//{netloc}")
    try:
        port = parts.port
    except ValueError:
        return "", None
    return parts.hostname or "", port or DEFAULT_PORTS.get(scheme)


def same_origin(source: str, host_header: str, scheme: str) -> bool:
    """Whether ``source`` (an Origin or a Referer) is this site: same host and port as the
    ``Host`` header (80 and 443 match each other: a TLS proxy in front changes the scheme)."""
    parts = urlsplit(source)
    if parts.scheme not in ("http", "https") or not parts.netloc or not host_header:
        return False
    our_host, our_port = _endpoint(host_header, scheme)
    their_host, their_port = _endpoint(parts.netloc, parts.scheme)
    if not our_host or our_host != their_host:
        return False
    return our_port == their_port or {our_port, their_port} <= {80, 443}


def _is_bearer(headers: Headers) -> bool:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def cross_site_websocket(scope: Scope) -> bool:
    """A websocket handshake from another site's page (a browser always sends Origin)."""
    headers = Headers(scope=scope)
    origin = headers.get("origin")
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    return origin is not None and not same_origin(origin, headers.get("host", ""), scheme)


class CsrfGuard:
    """Refuses cross-site writes and websocket handshakes (see the module's text)."""

    def __init__(self, app: ASGIApp, secret_key: str) -> None:
        self.app = app
        self.secret_key = secret_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            if cross_site_websocket(scope):
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1008, "reason": "cross-site"})
                return
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        # every page rendered for this request carries the session's token (base.html)
        cookie = session_cookie(headers)
        request_token.set(csrf_token(self.secret_key, cookie))
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        if _is_bearer(headers):
            await self.app(scope, receive, send)
            return
        login = scope["path"] in LOGIN_PATHS
        source = headers.get("origin") or headers.get("referer")
        if source is not None:
            if not same_origin(source, headers.get("host", ""), scope.get("scheme", "http")):
                await _refuse(scope, receive, send, "cross-site request refused")
                return
        elif cookie or login:
            await _refuse(
                scope, receive, send, "no Origin header: send the request from the site's pages"
            )
            return
        if not cookie or login:
            await self.app(scope, receive, send)
            return
        expected = csrf_token(self.secret_key, cookie)
        given = headers.get(TOKEN_HEADER)
        replay = receive
        if given is None and headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            body, replay = await _read_body(receive)
            fields = parse_qs(body.decode("latin-1"), keep_blank_values=True)
            values = fields.get(TOKEN_FIELD)
            given = values[0] if values else None
        elif given is None and headers.get("content-type", "").startswith("multipart/form-data"):
            # an upload form: csrf.js puts the token in the action's query (a multipart
            # body is not parsed here)
            values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(TOKEN_FIELD)
            given = values[0] if values else None
        if given is None or not hmac.compare_digest(given, expected):
            await _refuse(
                scope, receive, send, "missing or stale CSRF token: reload the page and try again"
            )
            return
        await self.app(scope, replay, send)


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body (the body-size cap outside this middleware bounds it), and a
    ``receive`` that hands it to the app again."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _refuse(scope: Scope, receive: Receive, send: Send, why: str) -> None:
    await JSONResponse({"detail": why}, status_code=403)(scope, receive, send)


def page_token(request: Request, state: StateDep) -> str:
    """The token for the page being rendered (its ``<meta name="csrf-token">``)."""
    return csrf_token(state.settings.secret_key, request.cookies.get(SESSION_COOKIE, ""))


CsrfTokenDep = Annotated[str, Depends(page_token)]
