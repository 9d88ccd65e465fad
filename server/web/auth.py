"""Who may write: a logged-in user (cookie session) or a bearer token, with a role.

Strategy: the cookie session holds ``user`` (who, for the audit log and the journal's
``actor``), ``role`` and, for a pit PIN login, ``event``: a PIN opens the pit page of
that event only, so a PIN left in a phone stops working when the next event starts.
Race control (``control``) may do everything a pit marshal may. PIN guesses are
throttled per client address (a 4-digit PIN has only 10,000 values).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket, status
from sqlalchemy.exc import SQLAlchemyError

from server.db import repository
from server.web.deps import RaceDep, StateDep
from server.web.state import AppState

ROLES = ("control", "steward", "timing", "pit", "public")
PIT_ROLES = frozenset({"pit", "control"})


async def current_role(request: Request, state: StateDep) -> str | None:
    """The caller's role from a bearer token, else from the login cookie, else None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        return await _token_role(state, token.strip())
    role = request.session.get("role")
    return role if isinstance(role, str) else None


async def _token_role(state: AppState, token: str) -> str | None:
    """The token's role from the database; while it is unreachable, from the tokens this
    process saw verified (timing goes on in an outage, and so do the API's writes)."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    try:
        # a session of its own, closed at once: in the route's session (DbDep) this
        # read's transaction would stay open across the command the route journals
        async with state.sessionmaker() as db:
            role = await repository.verify_token(db, token)
    except (SQLAlchemyError, OSError):
        return state.verified_tokens.get(digest)
    if role is None:
        state.verified_tokens.pop(digest, None)  # revoked: forgotten here too
        return None
    state.verified_tokens[digest] = role
    return role


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


async def require_control(role: RoleDep) -> str:
    if role is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "log in or send a bearer token (racecontrol token create --role control)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if role != "control":
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {role!r} may not do this")
    return role


async def require_pit(request: Request, role: RoleDep, race: RaceDep) -> str:
    if role is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "log in or enter the pit PIN")
    if not may_pit(role, request.session.get("event"), race.event_name):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {role!r} may not do this here")
    return role


def _require(role: str | None, allowed: frozenset[str]) -> str:
    if role is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "log in or send a bearer token (racecontrol token create --role steward)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if role not in allowed:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {role!r} may not do this")
    return role


STEWARD_ROLES = frozenset({"steward"})  # decisions: the chief steward
INCIDENT_ROLES = frozenset({"control", "steward"})  # reports, the queue, voided laps


async def require_steward(role: RoleDep) -> str:
    return _require(role, STEWARD_ROLES)


async def require_control_or_steward(role: RoleDep) -> str:
    return _require(role, INCIDENT_ROLES)


ControlRole = Annotated[str, Depends(require_control)]
StewardRole = Annotated[str, Depends(require_steward)]
ControlOrStewardRole = Annotated[str, Depends(require_control_or_steward)]
PitRole = Annotated[str, Depends(require_pit)]
WebsocketMayPit = Annotated[bool, Depends(websocket_may_pit)]


class Throttle:
    """At most ``limit`` failures per ``window_s`` per key (bounded memory: oldest keys go)."""

    def __init__(self, limit: int = 5, window_s: float = 60.0, keys: int = 1024) -> None:
        self.limit, self.window_s, self.keys = limit, window_s, keys
        self._failures: OrderedDict[str, list[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if now - t < self.window_s]
        self._failures[key] = times
        self._failures.move_to_end(key)
        while len(self._failures) > self.keys:
            self._failures.popitem(last=False)
        return times

    def blocked(self, key: str, now: float | None = None) -> bool:
        return len(self._recent(key, time.monotonic() if now is None else now)) >= self.limit

    def failed(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._recent(key, now).append(now)
