"""Who may write: a logged-in user (cookie session) or a bearer token, with a role.

Strategy: the cookie session holds ``user`` (who, for the audit log and the journal's
``actor``), ``role`` and, for a pit PIN login, ``event``: a PIN opens the pit page of
that event only, so a PIN left in a phone stops working when the next event starts.
Race control (``control``) may do everything a pit marshal may, and everything the
timekeeper (``timing``: passing corrections and the decoders' state) may. A steward
reads what the public reads here (stewards' decisions are their own pages).

The cookie is signed (Starlette's session cookie, ``Secure`` per request by
:class:`LoginCookies`) but the signature alone no longer makes a login: it carries a
random ``sid`` whose row (``login_sessions``) must still exist, and :class:`LoginCheck`
fills ``user``, ``role`` and ``event`` from that row on every request and websocket, so
a deleted row (logout, a PIN change, a user's removal) ends the login at once, copies of
the cookie included. Rows and tokens the database confirmed are cached for an outage,
like the tokens were already. Password and PIN attempts are counted per account, event
and client address before the secret is checked (:func:`attempt_login`), under one lock
per process, and the hash checks go through the app's :class:`HashGate`.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Request, WebSocket, WebSocketDisconnect, status
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from server.db import repository
from server.db.accounts import HashBusy, LoginRecord, VerifiedToken, session_hash
from server.web.deps import RaceDep, StateDep
from server.web.state import AppState

log = logging.getLogger("racecontrol.auth")

ROLES = ("control", "steward", "timing", "pit", "public")
PIT_ROLES = frozenset({"pit", "control"})
CONTROL_ROLES = frozenset({"control"})
# timing (the timekeeper) corrects passings and watches the decoders; nothing else
TIMING_ROLES = frozenset({"control", "timing"})
CONTROL_OR_STEWARD_ROLES = frozenset({"control", "steward"})


async def current_role(request: Request, state: StateDep) -> str | None:
    """The caller's role from a bearer token, else from the login cookie, else None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        return await _token_role(state, token.strip())
    role = request.session.get("role")
    return role if isinstance(role, str) else None


def login_now(state: AppState) -> datetime:
    """Now, by the app's clock (tests drive it): login expiry and throttle waits."""
    return datetime.fromtimestamp(state.login_clock.now_us() / 1_000_000, UTC)


async def _token_role(state: AppState, token: str) -> str | None:
    """The token's role from the database; while it is unreachable, from the tokens this
    process saw verified (timing goes on in an outage, and so do the API's writes).
    Unknown, revoked and expired tokens have none."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    record: VerifiedToken | None
    try:
        # a session of its own, closed at once: in the route's session (DbDep) this
        # read's transaction would stay open across the command the route journals
        async with state.sessionmaker() as db:
            record = await repository.token_record(db, token)
    except (SQLAlchemyError, OSError):
        record = state.verified_tokens.get(digest)
    else:
        if record is None:
            state.verified_tokens.pop(digest, None)  # revoked: forgotten here too
        else:
            state.verified_tokens[digest] = record
    if record is None or not record.valid_at(login_now(state)):
        return None
    return record.role.value


async def login_of(state: AppState, session_id: str) -> LoginRecord | None:
    """The live login behind a cookie's ``sid``: from the database, or while it is
    unreachable from the logins it confirmed; None once ended or expired."""
    digest = session_hash(session_id)
    if digest in state.ended_sessions:
        return None
    record: LoginRecord | None
    try:
        async with state.sessionmaker() as db:
            record = await repository.login_record(db, session_id)
    except (SQLAlchemyError, OSError):
        record = state.verified_sessions.get(digest)
    else:
        if record is None:
            state.verified_sessions.pop(digest, None)
        else:
            state.verified_sessions[digest] = record
    if record is None or login_now(state) >= record.expires_at:
        return None
    return record


async def end_login(state: AppState, session_id: str) -> None:
    """Logout: the row goes, and this process refuses the id from now on (its open
    websockets close at their next message; while the database is unreachable, that is
    what ends the login)."""
    digest = session_hash(session_id)
    state.verified_sessions.pop(digest, None)
    state.ended_sessions.add(digest)
    try:
        async with state.sessionmaker() as db:
            await repository.end_login(db, session_id)
    except (SQLAlchemyError, OSError) as exc:
        log.warning("logout while the database is unreachable (%s): refused here", exc)


class LoginCheck:
    """ASGI: a session cookie counts only while its login row lives; the row, not the
    cookie, says who it is. A cookie without a live ``sid`` is emptied (and so dropped).
    A websocket opened by a login is closed (1008) at its first message after the login
    ends: at once for a logout in this process, within ``recheck_s`` for an end the
    database tells of (``racecontrol user remove``, a new PIN from the CLI)."""

    def __init__(self, app: ASGIApp, recheck_s: float = 30.0) -> None:
        self.app = app
        self.recheck_s = recheck_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = scope.get("session")
        if (
            scope["type"] in ("http", "websocket")
            and isinstance(session, dict)
            and session
            and not str(scope.get("path", "")).startswith("/static/")
        ):
            state = getattr(scope["app"].state, "racecontrol", None)
            sid = session.get("sid")
            record = None
            if isinstance(state, AppState) and isinstance(sid, str):
                record = await login_of(state, sid)
            keep = {k: v for k, v in session.items() if k not in ("user", "role", "event")}
            session.clear()
            if record is not None:
                session.update(keep)
                session.update(record.as_session())
                if scope["type"] == "websocket" and isinstance(state, AppState):
                    assert isinstance(sid, str)
                    send = self._closing_when_ended(state, sid, send)
        await self.app(scope, receive, send)

    def _closing_when_ended(self, state: AppState, sid: str, send: Send) -> Send:
        digest = session_hash(sid)
        next_check = login_now(state).timestamp() + self.recheck_s

        async def checked(message: MutableMapping[str, Any]) -> None:
            nonlocal next_check
            if message["type"] == "websocket.send":
                ended = digest in state.ended_sessions
                now = login_now(state).timestamp()
                if not ended and now >= next_check:
                    next_check = now + self.recheck_s
                    ended = await login_of(state, sid) is None
                if ended:
                    await send({"type": "websocket.close", "code": 1008, "reason": "logged out"})
                    raise WebSocketDisconnect(1008, "logged out")
            await send(message)

        return checked


class LoginCookies:
    """ASGI: Starlette's signed session cookie, ``Secure`` when ``mode`` is "on", or
    "auto" and the request came over HTTPS (scheme as a trusted proxy said it)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret_key: str,
        max_age: int,
        mode: Literal["auto", "on", "off"] = "auto",
    ) -> None:
        checked = LoginCheck(app)
        self.mode = mode
        self._plain = SessionMiddleware(
            checked, secret_key, max_age=max_age, same_site="strict", https_only=False
        )
        self._secure = SessionMiddleware(
            checked, secret_key, max_age=max_age, same_site="strict", https_only=True
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        secure = self.mode == "on" or (
            self.mode == "auto" and scope.get("scheme") in ("https", "wss")
        )
        await (self._secure if secure else self._plain)(scope, receive, send)


def actor_of(request: Request) -> str:
    """Who is acting: the logged-in name ("pin:<event>" for a PIN login), else "api"."""
    user = request.session.get("user")
    return user if isinstance(user, str) and user else "api"


RoleDep = Annotated[str | None, Depends(current_role)]  # None: not logged in
ActorDep = Annotated[str, Depends(actor_of)]


def websocket_role(websocket: WebSocket) -> str | None:
    role = websocket.session.get("role") if "session" in websocket.scope else None
    return role if isinstance(role, str) else None


def may_pit(role: str | None, pin_event: object, active_event: str) -> bool:
    """Whether a caller may use the pit page: race control, a pit user, or a PIN login
    of the event being timed."""
    if role not in PIT_ROLES:
        return False
    return pin_event is None or pin_event == active_event


def websocket_may_pit(websocket: WebSocket, race: RaceDep) -> bool:
    session = websocket.session if "session" in websocket.scope else {}
    return may_pit(websocket_role(websocket), session.get("event"), race.event_name)


def _refuse_unless(role: str | None, allowed: frozenset[str]) -> str:
    if role is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "log in or send a bearer token (racecontrol token create --role control)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if role not in allowed:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {role!r} may not do this")
    return role


async def require_control(role: RoleDep) -> str:
    return _refuse_unless(role, CONTROL_ROLES)


async def require_timing(role: RoleDep) -> str:
    """Race control or timing: corrections to the timing and the decoders' state."""
    return _refuse_unless(role, TIMING_ROLES)


async def require_control_or_steward(role: RoleDep) -> str:
    """Race control, or the chief steward: incidents, the queue, voided laps, signing
    results official."""
    return _refuse_unless(role, CONTROL_OR_STEWARD_ROLES)


async def require_pit(request: Request, role: RoleDep, race: RaceDep) -> str:
    if role is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "log in or enter the pit PIN")
    if not may_pit(role, request.session.get("event"), race.event_name):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {role!r} may not do this here")
    return role


STEWARD_ROLES = frozenset({"steward"})  # decisions: the chief steward


async def require_steward(role: RoleDep) -> str:
    return _refuse_unless(role, STEWARD_ROLES)


ControlRole = Annotated[str, Depends(require_control)]
TimingRole = Annotated[str, Depends(require_timing)]
StewardRole = Annotated[str, Depends(require_steward)]
ControlOrStewardRole = Annotated[str, Depends(require_control_or_steward)]
PitRole = Annotated[str, Depends(require_pit)]
WebsocketMayPit = Annotated[bool, Depends(websocket_may_pit)]


@dataclass(frozen=True)
class LoginRefused:
    """A login attempt not checked, or checked and wrong: the status and what to say."""

    status_code: int
    message: str
    retry_after_s: float | None = None

    @property
    def headers(self) -> dict[str, str]:
        if self.retry_after_s is None:
            return {}
        return {"Retry-After": str(max(1, math.ceil(self.retry_after_s)))}


def _minutes(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def client_address(request: Request) -> str:
    """The client's address: the peer, or what a trusted proxy said it was (the
    ``ProxyHeadersMiddleware`` believes only ``forwarded_allow_ips``)."""
    return request.client.host if request.client else "?"


async def attempt_login(
    state: AppState,
    db: AsyncSession,
    *,
    keys: Sequence[str],
    what: str,
    actor: str,
    detail: dict[str, object],
    check: Callable[[], Awaitable[bool]],
) -> LoginRefused | None:
    """Count the attempt against ``keys`` (refusing it while a key waits or is locked),
    then run ``check``; a wrong secret is audited, a right one uncounted. None: logged in."""
    policy = state.throttle_policy
    async with state.login_lock:  # check-and-count is one step: parallel tries queue here
        refused, locked = await repository.count_attempt(db, keys, login_now(state), policy)
    if refused is not None:
        log.info("login attempt refused: %s waits or is locked", refused.key)
        if refused.retry_after_s is None:
            return LoginRefused(429, f"Too many wrong {what}: locked until race control lifts it.")
        wait = refused.retry_after_s
        return LoginRefused(429, f"Too many wrong {what}: wait {_minutes(wait)}.", wait)
    try:
        ok = await check()
    except HashBusy:
        async with state.login_lock:
            await repository.undo_attempt(db, keys, policy)  # not checked: not a try
        return LoginRefused(429, "Too many logins at once: try again in a moment.", 1.0)
    if ok:
        async with state.login_lock:
            await repository.undo_attempt(db, keys, policy)
        return None
    await repository.audit(db, actor, "login.failed", {**detail, "keys": list(keys)})
    for key in locked:
        await repository.audit(db, actor, "login.locked", {**detail, "key": key})
    return LoginRefused(401, "")
