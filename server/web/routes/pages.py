"""HTML pages: the spectators' live timing, race control, the pit lane, login.

Strategy: pages render the same templates and contexts as the websocket messages
(``server.web.contexts``). The control and pit routers (their commands and panels) are
included here, so the app includes one router for all the pages. A password login gets
the user's role; a pit PIN login gets role "pit" for the event being timed only. Each
login is a row (``server.web.auth``); attempts are counted per account or event and per
client address before the secret is checked (``attempt_login``), so parallel guesses get
429 after the free tries.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import repository
from server.web import contexts
from server.web.auth import (
    LoginRefused,
    RoleDep,
    attempt_login,
    client_address,
    end_login,
    login_now,
)
from server.web.csrf import CsrfTokenDep
from server.web.deps import DbDep, StateDep
from server.web.routes import (
    cars,
    control,
    event,
    event_series,
    logins,
    pit,
    sessions_list,
    stewards_pages,
    team,
)
from server.web.state import AppState

log = logging.getLogger("racecontrol.web")
router = APIRouter(include_in_schema=False)
router.include_router(event.router)
router.include_router(event_series.router)
router.include_router(control.router)
router.include_router(logins.router)
router.include_router(pit.router)
router.include_router(stewards_pages.router)
router.include_router(team.router)
router.include_router(sessions_list.router)
router.include_router(cars.router)


def _local(target: str, default: str) -> str:
    """Only local paths: never redirect a login to another site."""
    return target if target.startswith("/") and not target.startswith("//") else default


@router.get("/")
async def index() -> Response:
    return RedirectResponse("/live")


@router.get("/live")
async def live(state: StateDep, csrf: CsrfTokenDep) -> HTMLResponse:
    context = contexts.live(state.race) | {"csrf_token": csrf}
    return HTMLResponse(state.renderer.page("live.html", context))


@router.get("/control")
async def control_page(state: StateDep, role: RoleDep, csrf: CsrfTokenDep) -> Response:
    if role != "control":
        return RedirectResponse("/login?next=/control", status_code=303)
    context = contexts.control(state.race) | {"csrf_token": csrf}
    return HTMLResponse(state.renderer.page("control.html", context))


def _login_page(
    state: AppState,
    next: str,
    error: str | None,
    code: int = 200,
    headers: dict[str, str] | None = None,
    csrf: str = "",
) -> HTMLResponse:
    context = {"next": next, "error": error, "event_name": state.race.event_name}
    context["csrf_token"] = csrf
    page = state.renderer.page("login.html", context)
    return HTMLResponse(page, status_code=code, headers=headers)


def _refused(state: AppState, next: str, refused: LoginRefused, wrong: str) -> HTMLResponse:
    message = refused.message or wrong
    return _login_page(state, next, message, refused.status_code, refused.headers)


async def _start(
    request: Request, state: AppState, db: AsyncSession, user: str, role: str, event: str | None
) -> None:
    """A new login row and a cookie naming it; an earlier login of this browser ends."""
    earlier = request.session.get("sid")
    if isinstance(earlier, str):
        await end_login(state, earlier)
    request.session.clear()  # nothing of an earlier (PIN) login carries over
    sid = await repository.start_login(
        db,
        user=user,
        role=role,
        event=event,
        now=login_now(state),
        lifetime=timedelta(seconds=state.settings.session_max_age_s),
    )
    request.session.update({"sid": sid, "user": user, "role": role})
    if event is not None:
        request.session["event"] = event


@router.get("/login")
async def login_form(state: StateDep, csrf: CsrfTokenDep, next: str = "/control") -> HTMLResponse:
    return _login_page(state, next, None, csrf=csrf)


UNREACHABLE = "The database is unreachable: logins wait for it. Try again in a moment."


@router.post("/login")
async def login(
    request: Request,
    state: StateDep,
    db: DbDep,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/control",
) -> Response:
    try:
        return await _password_login(request, state, db, name, password, next)
    except (SQLAlchemyError, OSError) as exc:
        log.warning("password login while the database is unreachable: %s", exc)
        return _login_page(state, next, UNREACHABLE, 503, {"Retry-After": "5"})


async def _password_login(
    request: Request, state: AppState, db: AsyncSession, name: str, password: str, next: str
) -> Response:
    client = client_address(request)
    found: list[str] = []

    async def check() -> bool:
        role = await repository.verify_user(db, name, password, state.hash_gate)
        found.extend([] if role is None else [role.value])
        return role is not None

    refused = await attempt_login(
        state,
        db,
        keys=[repository.user_key(name), repository.address_key(client)],
        what="passwords",
        actor=name[:100] or "?",
        detail={"user": name, "client": client},
        check=check,
    )
    if refused is not None:
        return _refused(state, next, refused, "Unknown name or wrong password.")
    await _start(request, state, db, name, found[0], None)
    return RedirectResponse(_local(next, "/control"), status_code=303)


@router.post("/login/pin")
async def login_pin(
    request: Request, state: StateDep, db: DbDep, pin: Annotated[str, Form(max_length=12)]
) -> Response:
    try:
        return await _pin_login(request, state, db, pin)
    except (SQLAlchemyError, OSError) as exc:
        log.warning("PIN login while the database is unreachable: %s", exc)
        return _login_page(state, "/pit", UNREACHABLE, 503, {"Retry-After": "5"})


async def _pin_login(request: Request, state: AppState, db: AsyncSession, pin: str) -> Response:
    client = client_address(request)
    event = state.race.event_name
    if not event:
        return _login_page(state, "/pit", "No event is being timed yet.", 409)
    actor = f"pin:{event}"

    async def check() -> bool:
        return await repository.verify_pit_pin(db, event, pin.strip(), state.hash_gate)

    refused = await attempt_login(
        state,
        db,
        keys=[repository.pin_key(event), repository.address_key(client)],
        what="PINs",
        actor=actor,
        detail={"event": event, "client": client},
        check=check,
    )
    if refused is not None:
        return _refused(state, "/pit", refused, "Wrong PIN.")
    await repository.audit(db, actor, "login.pin", {"client": client})
    await _start(request, state, db, actor, "pit", event)
    return RedirectResponse("/pit", status_code=303)


@router.post("/logout")
async def logout(request: Request, state: StateDep) -> Response:
    """Ends the login itself, not only this browser's cookie: a copy stops working too."""
    sid = request.session.get("sid")
    if isinstance(sid, str):
        await end_login(state, sid)
    request.session.clear()
    return RedirectResponse("/live", status_code=303)
