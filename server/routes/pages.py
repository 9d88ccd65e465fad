"""HTML pages: the spectators' live timing, race control, login."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server import contexts
from server.auth import current_role
from server.db import repository
from server.state import app_state

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> Response:
    return RedirectResponse("/live")


@router.get("/live")
async def live(request: Request) -> HTMLResponse:
    state = app_state(request.app)
    return HTMLResponse(state.renderer.page("live.html", contexts.live(state.race)))


@router.get("/control")
async def control(request: Request) -> Response:
    state = app_state(request.app)
    if await current_role(request) != "control":
        return RedirectResponse("/login?next=/control", status_code=303)
    return HTMLResponse(state.renderer.page("control.html", contexts.control(state.race)))


@router.get("/login")
async def login_form(request: Request, next: str = "/control") -> HTMLResponse:
    renderer = app_state(request.app).renderer
    return HTMLResponse(renderer.page("login.html", {"next": next, "error": None}))


@router.post("/login")
async def login(
    request: Request,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/control",
) -> Response:
    state = app_state(request.app)
    async with state.sessionmaker() as db:
        role = await repository.verify_user(db, name, password)
    if role is None:
        context = {"next": next, "error": "Unknown name or wrong password."}
        return HTMLResponse(state.renderer.page("login.html", context), status_code=401)
    request.session.update({"user": name, "role": role})
    # only local paths: never redirect a login to another site
    target = next if next.startswith("/") and not next.startswith("//") else "/control"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/live", status_code=303)
