"""Who may write: a logged-in user (cookie session) or a bearer token, with a role."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket, status

from server.db import repository
from server.state import app_state

ROLES = ("control", "steward", "timing", "pit", "public")


async def current_role(request: Request) -> str | None:
    """The caller's role from a bearer token, else from the login cookie, else None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        async with app_state(request.app).sessionmaker() as db:
            return await repository.verify_token(db, token.strip())
    role = request.session.get("role")
    return role if isinstance(role, str) else None


def websocket_role(websocket: WebSocket) -> str | None:
    role = websocket.session.get("role") if "session" in websocket.scope else None
    return role if isinstance(role, str) else None


async def require_control(role: Annotated[str | None, Depends(current_role)]) -> str:
    if role is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "log in or send a bearer token (racecontrol token create --role control)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if role != "control":
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {role!r} may not do this")
    return role


ControlRole = Annotated[str, Depends(require_control)]
