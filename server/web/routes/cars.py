"""A car's page for spectators and teams: ``/live/cars/{number}`` (no login).

Strategy: the live page with the car's panel open (``car.html``); the panel then follows
the car over ``/ws/live`` (``server.web.car_watch``). A number that is no car of the
timed session (or no session yet) is a 404.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import HTMLResponse

from server.web import contexts
from server.web.car_page import car_context
from server.web.csrf import CsrfTokenDep
from server.web.deps import StateDep

router = APIRouter(include_in_schema=False)


@router.get("/live/cars/{number}")
async def car_page(number: str, state: StateDep, csrf: CsrfTokenDep) -> HTMLResponse:
    car = car_context(state.race, number)
    if car is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such car in the session")
    context = contexts.live(state.race) | {"car": car, "csrf_token": csrf}
    return HTMLResponse(state.renderer.page("car.html", context))
