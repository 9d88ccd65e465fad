"""HTML pages: the spectators' live timing, race control, the pit lane, login.

Strategy: pages render the same templates and contexts as the websocket messages
(``server.web.contexts``). The control and pit routers (their commands and panels) are
included here, so the app includes one router for all the pages. A password login gets
the user's role; a pit PIN login gets role "pit" for the event being timed only, and
guesses are throttled per client address.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.db import repository
from server.web import contexts
from server.web.auth import RoleDep, Throttle
from server.web.deps import DbDep, StateDep
from server.web.routes import control, pit, stewards_pages
from server.web.state import AppState

router = APIRouter(include_in_schema=False)
router.include_router(control.router)
router.include_router(pit.router)
router.include_router(stewards_pages.router)


def _pin_throttle(request: Request) -> Throttle:
    throttle = getattr(request.app.state, "pin_throttle", None)
    if not isinstance(throttle, Throttle):
        throttle = Throttle()
        request.app.state.pin_throttle = throttle
    return throttle


def _local(target: str, default: str) -> str:
    """Only local paths: never redirect a login to another site."""
    return target if target.startswith("/") and not target.startswith("//") else default


@router.get("/")
async def index() -> Response:
    return RedirectResponse("/live")


@router.get("/live")
async def live(state: StateDep) -> HTMLResponse:
    return HTMLResponse(state.renderer.page("live.html", contexts.live(state.race)))


@router.get("/control")
async def control_page(state: StateDep, role: RoleDep) -> Response:
    if role != "control":
        return RedirectResponse("/login?next=/control", status_code=303)
    return HTMLResponse(state.renderer.page("control.html", contexts.control(state.race)))


def _login_page(state: AppState, next: str, error: str | None, code: int = 200) -> HTMLResponse:
    context = {"next": next, "error": error, "event_name": state.race.event_name}
    return HTMLResponse(state.renderer.page("login.html", context), status_code=code)


@router.get("/login")
async def login_form(state: StateDep, next: str = "/control") -> HTMLResponse:
    return _login_page(state, next, None)


@router.post("/login")
async def login(
    request: Request,
    state: StateDep,
    db: DbDep,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/control",
) -> Response:
    role = await repository.verify_user(db, name, password)
    if role is None:
        return _login_page(state, next, "Unknown name or wrong password.", 401)
    request.session.clear()  # nothing of an earlier (PIN) login carries over
    request.session.update({"user": name, "role": role})
    return RedirectResponse(_local(next, "/control"), status_code=303)


@router.post("/login/pin")
async def login_pin(
    request: Request, state: StateDep, db: DbDep, pin: Annotated[str, Form(max_length=12)]
) -> Response:
    client = request.client.host if request.client else "?"
    throttle = _pin_throttle(request)
    event = state.race.event_name
    if throttle.blocked(client):
        return _login_page(state, "/pit", "Too many wrong PINs: wait a minute.", 429)
    if not event:
        return _login_page(state, "/pit", "No event is being timed yet.", 409)
    ok = await repository.verify_pit_pin(db, event, pin.strip())
    if ok:
        await repository.audit(db, f"pin:{event}", "login.pin", {"client": client})
    if not ok:
        throttle.failed(client)
        return _login_page(state, "/pit", "Wrong PIN.", 401)
    request.session.clear()
    request.session.update({"user": f"pin:{event}", "role": "pit", "event": event})
    return RedirectResponse("/pit", status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/live", status_code=303)
