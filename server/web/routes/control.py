"""Race control's commands and panels: flags by station, the race clock, alerts,
messages, timing corrections, driver changes with override, a car's detail, and the
classifications kept with the session.

Strategy: each command is a form post of a few lines: build the input event (server
clock, actor, reason), journal and apply it through the race service, audit it, and
answer with a one-line fragment for the form (or 204 when the websocket update is the
answer). Corrections are checked against the state after they were applied, since the
race service does not hand back the engine's verdict.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.engine.events import (
    AlertAcknowledged,
    CarRetired,
    Flag,
    FlagChanged,
    InputEvent,
    PassingAdded,
    PassingDeleted,
    RaceControlMessagePosted,
    SessionClockPaused,
    SessionClockResumed,
    TransponderAssigned,
)
from server.engine.model import CarState
from server.service.race_service import NoActiveSession, RaceService
from server.web import actions, contexts
from server.web.auth import ControlRole, actor_of, current_role
from server.web.car_views import car_detail_view, crossings_view, snapshots_view
from server.web.formatting import format_time_of_day, parse_time_of_day
from server.web.routes.pit import render_outcome
from server.web.state import app_state

router = APIRouter(prefix="/control", include_in_schema=False)
Number = Annotated[str, Form(min_length=1, max_length=16)]
Reason = Annotated[str, Form(min_length=1, max_length=200)]
Outcome = actions.Outcome


def _race(request: Request) -> RaceService:
    race = app_state(request.app).race
    if race.engine is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "no session is being timed")
    return race


async def _submit(request: Request, event: InputEvent, action: str) -> None:
    state = app_state(request.app)
    try:
        actor = actor_of(request)
        await actions.submit_audited(state.race, state.sessionmaker, event, actor, action)
    except NoActiveSession as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


def _fragment(request: Request, outcome: Outcome) -> HTMLResponse:
    return HTMLResponse(render_outcome(request, outcome))


def _known_car(race: RaceService, number: str) -> None:
    if all(entry.number != number for entry in race.entries):
        raise HTTPException(422, f"car {number} is not entered")


@router.post("/flag")
async def flag(
    request: Request,
    _role: ControlRole,
    flag: Annotated[Flag, Form()],
    station: Annotated[str | None, Form(max_length=40)] = None,
) -> HTMLResponse:
    """Any flag for the timed session; with a station, a local yellow (or its clearing)."""
    race = _race(request)
    where = (station or "").strip() or None
    await _submit(request, FlagChanged(race.clock.now_us(), flag, where), "flag")
    current = race.status()
    if where is not None:
        shown = current is not None and where in current.local_yellows
        ok = shown == (flag is Flag.LOCAL_YELLOW)
        text = f"local yellow at {where}" if flag is Flag.LOCAL_YELLOW else f"{where} cleared"
    else:
        ok = current is not None and current.flag is flag
        text = f"flag {flag.value.replace('_', ' ')}"
    if not ok and current is not None:
        text = f"{text} not shown under the {current.flag.value.replace('_', ' ')} flag"
    return _fragment(request, Outcome(ok, text))


@router.post("/clock")
async def clock(
    request: Request, _role: ControlRole, action: Annotated[str, Form(pattern="^(pause|resume)$")]
) -> Response:
    race = _race(request)
    actor, now = actor_of(request), race.clock.now_us()
    event = SessionClockPaused(now, actor) if action == "pause" else SessionClockResumed(now, actor)
    await _submit(request, event, f"clock.{action}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/alerts/ack")
async def acknowledge(
    request: Request, _role: ControlRole, alert_id: Annotated[str, Form(max_length=300)]
) -> Response:
    race = _race(request)
    event = AlertAcknowledged(alert_id, race.clock.now_us(), actor_of(request))
    await _submit(request, event, "alert.ack")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/messages")
async def post_message(
    request: Request,
    _role: ControlRole,
    text: Annotated[str, Form(min_length=1, max_length=200)],
    number: Annotated[str, Form(max_length=16)] = "",
) -> HTMLResponse:
    race = _race(request)
    if number:
        _known_car(race, number)
    words = " ".join(text.split())
    event = RaceControlMessagePosted(race.clock.now_us(), words, number or None, actor_of(request))
    await _submit(request, event, "message")
    return _fragment(request, Outcome(True, "posted to every page"))


def _timing_of(race: RaceService, number: str) -> tuple[object, ...]:
    """What a car's passings show (its laps and crossings), to tell if a correction did."""
    assert race.engine is not None
    row = next((r for r in race.standings() if r.number == number), None)
    laps = tuple(lap.at_us for lap in race.engine.laps_of(number))
    return (laps, None if row is None else (row.laps, row.last_crossing_us))


@router.post("/corrections/add")
async def add_passing(
    request: Request,
    _role: ControlRole,
    number: Number,
    time: Annotated[str, Form(max_length=20)],
    reason: Reason,
) -> HTMLResponse:
    race = _race(request)
    _known_car(race, number)
    now = race.clock.now_us()
    try:
        at = parse_time_of_day(time, now)
    except ValueError as exc:
        return _fragment(request, Outcome(False, str(exc), "bad_time"))
    if at > now:
        return _fragment(request, Outcome(False, "that time has not come yet", "future"))
    before = _timing_of(race, number)
    await _submit(request, PassingAdded(number, at, reason, actor_of(request)), "correction.add")
    text = f"passing of car {number} at {format_time_of_day(at, millis=True)} added"
    if _timing_of(race, number) == before:  # recorded, but filtered like a double read
        text += ", but it changes nothing (too close to another crossing?)"
    return _fragment(request, Outcome(True, text))


@router.post("/corrections/delete")
async def delete_passing(
    request: Request,
    _role: ControlRole,
    number: Number,
    crossing_at_us: Annotated[int, Form()],
    reason: Reason,
) -> HTMLResponse:
    race = _race(request)
    _known_car(race, number)
    before = _timing_of(race, number)
    event = PassingDeleted(number, crossing_at_us, race.clock.now_us(), reason, actor_of(request))
    await _submit(request, event, "correction.delete")
    when = format_time_of_day(crossing_at_us, millis=True)
    if _timing_of(race, number) == before:  # the engine found no such passing
        return _fragment(request, Outcome(False, f"no passing of car {number} at {when}"))
    return _fragment(request, Outcome(True, f"passing of car {number} at {when} deleted"))


@router.post("/corrections/assign")
async def assign_transponder(
    request: Request,
    _role: ControlRole,
    transponder: Annotated[str, Form(min_length=1, max_length=32)],
    number: Number,
    reason: Reason,
) -> HTMLResponse:
    race = _race(request)
    _known_car(race, number)
    code = transponder.strip()
    event = TransponderAssigned(code, number, race.clock.now_us(), reason, actor_of(request))
    await _submit(request, event, "correction.assign")
    return _fragment(request, Outcome(True, f"transponder {code} now counts for car {number}"))


@router.post("/driver-change")
async def driver_change(
    request: Request,
    _role: ControlRole,
    number: Number,
    driver: Annotated[str, Form(min_length=1, max_length=200)],
    override: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """A driver change entered (or forced past the rest rule) by race control."""
    state = app_state(request.app)
    _race(request)
    outcome = await actions.confirm_driver_change(
        state.race,
        state.sessionmaker,
        contexts.session_rules(state.race),
        number,
        driver,
        actor_of(request),
        override=override.lower() in ("1", "true", "on", "yes"),
    )
    return _fragment(request, outcome)


@router.post("/retire")
async def retire(request: Request, _role: ControlRole, number: Number, reason: Reason) -> Response:
    race = _race(request)
    _known_car(race, number)
    event = CarRetired(number, race.clock.now_us(), reason, actor_of(request))
    await _submit(request, event, "car.retire")
    assert race.engine is not None
    retired = race.engine.car_detail(number).state is CarState.RETIRED
    text = f"car {number} retired" if retired else f"car {number} not retired (finished?)"
    return _fragment(request, Outcome(retired, text))


@router.get("/cars/{number}")
async def car_detail(request: Request, _role: ControlRole, number: str) -> HTMLResponse:
    race = _race(request)
    assert race.engine is not None
    now = race.clock.now_us()
    try:
        detail = race.engine.car_detail(number, now)
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"car {number} is not entered") from exc
    view = car_detail_view(detail, race.status(), now)
    html = app_state(request.app).renderer.page("_car_detail.html", {"car": view})
    return HTMLResponse(html)


@router.get("/crossings")
async def crossings(request: Request, _role: ControlRole, number: str = "") -> HTMLResponse:
    """``<option>``s of the car's latest crossings, for the delete-a-passing form."""
    race = _race(request)
    assert race.engine is not None
    try:
        laps = race.engine.laps_of(number)
    except KeyError:
        laps = []
    renderer = app_state(request.app).renderer
    return HTMLResponse(renderer.page("_crossings.html", {"crossings": crossings_view(laps)}))


@router.get("/snapshots")
async def snapshots(request: Request) -> Response:
    if await current_role(request) != "control":
        return RedirectResponse("/login?next=/control/snapshots", status_code=303)
    race = app_state(request.app).race
    engine, current = race.engine, race.status()
    views = (
        []
        if engine is None
        else snapshots_view(engine.snapshots(), engine.sprint_standings(), current)
    )
    context = {
        "event_name": race.event_name,
        "session_name": "" if current is None else current.name,
        "snapshots": views,
    }
    return HTMLResponse(app_state(request.app).renderer.page("snapshots.html", context))
