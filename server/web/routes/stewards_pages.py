"""The stewards' pages and form commands: the ``/stewards`` queue and its decisions, race
control's incident report and lap void forms, and the public printable grid.

Strategy: the same input events as the JSON API, from form posts; the answer is a
one-line fragment for the form (the engine's refusal in words, or what was recorded),
and the websocket update redraws the queue. Nothing here checks a rule.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.engine.events import Decision, IncidentDecided, IncidentReported, InputEvent, LapVoided
from server.engine.outbound import IncidentRecorded, LapVoidRecorded, OutEvent
from server.engine.refusals import Refusal
from server.engine.stewards import describe
from server.service.race_service import NoActiveSession, RaceService
from server.web import actions, contexts
from server.web.auth import (
    CONTROL_OR_STEWARD_ROLES,
    ActorDep,
    ControlOrStewardRole,
    RoleDep,
    StewardRole,
)
from server.web.deps import EngineDep, RaceDep, StateDep
from server.web.routes.pit import render_outcome
from server.web.routes.stewards_api import TIME_PATTERN, grid_of
from server.web.stewards_views import grid_view, laps_view

router = APIRouter(include_in_schema=False)
Outcome = actions.Outcome
Text = Annotated[str, Form(min_length=1, max_length=500)]


async def _outcome(
    race: RaceService, actor: str, event: InputEvent, action: str, done: str
) -> tuple[Outcome, list[OutEvent]]:
    try:
        out = await actions.submit_audited(race, event, actor, action)
    except NoActiveSession:
        return Outcome(False, actions.refusal_text(Refusal.NO_SESSION)), []
    refusal = actions.refusal_of(out)
    if refusal is not None:
        number = next((getattr(o, "number", None) or "" for o in out), "")
        return Outcome(False, actions.refusal_text(refusal, number), refusal), out
    return Outcome(True, done), out


@router.get("/stewards")
async def stewards_page(state: StateDep, role: RoleDep) -> Response:
    """The queue of open incidents (the chief steward decides; race control may view)."""
    if role not in CONTROL_OR_STEWARD_ROLES:
        return RedirectResponse("/login?next=/stewards", status_code=303)
    context = contexts.stewards(state.race, may_decide=role == "steward")
    context["award_session_id"] = state.race.session_id  # On the Move (event_series.py)
    return HTMLResponse(state.renderer.page("stewards.html", context))


def _cars(text: str) -> tuple[str, ...]:
    return tuple(part for part in (p.strip() for p in text.replace(";", ",").split(",")) if part)


@router.post("/stewards/decide")
async def decide(
    _role: StewardRole,
    _engine: EngineDep,
    state: StateDep,
    actor: ActorDep,
    incident_id: Annotated[str, Form(min_length=1, max_length=80)],
    decision: Annotated[Decision, Form()],
    reason: Text,
    value: Annotated[str, Form(max_length=9)] = "",
    cars: Annotated[str, Form(max_length=100)] = "",
    amend: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    race = state.race
    number = value.strip()
    if number and not number.isdigit():
        outcome = Outcome(False, "the value must be a whole number (seconds, laps or places)")
        return HTMLResponse(render_outcome(state.renderer, outcome))
    amount = int(number) if number else None
    event = IncidentDecided(
        incident_id,
        decision,
        race.clock.now_us(),
        reason.strip(),
        actor,
        amount,
        _cars(cars),
        amend,
    )
    done = f"{incident_id}: {describe(decision, amount)}" + (" (amended)" if amend else "")
    action = "incident.amend" if amend else "incident.decide"
    outcome, _out = await _outcome(race, actor, event, action, done)
    return HTMLResponse(render_outcome(state.renderer, outcome))


@router.post("/control/incidents")
async def report(
    _role: ControlOrStewardRole,
    _engine: EngineDep,
    state: StateDep,
    actor: ActorDep,
    at: Annotated[str, Form(pattern=TIME_PATTERN)],
    place: Annotated[str, Form(min_length=1, max_length=100)],
    cars: Annotated[str, Form(min_length=1, max_length=100)],
    description: Text,
    contact: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    """Race control's (or a corner station's) incident report."""
    race = state.race
    numbers = _cars(cars)
    if not numbers:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "name at least one car")
    event = IncidentReported(
        race.clock.now_us(), at, place.strip(), numbers, description.strip(), contact, actor
    )
    outcome, out = await _outcome(race, actor, event, "incident.report", "")
    recorded = next((o for o in out if isinstance(o, IncidentRecorded)), None)
    if recorded is not None:
        outcome = Outcome(True, f"incident {recorded.incident_id} reported to the stewards")
    return HTMLResponse(render_outcome(state.renderer, outcome))


@router.post("/control/laps/void")
async def void(
    _role: ControlOrStewardRole,
    _engine: EngineDep,
    race: RaceDep,
    state: StateDep,
    actor: ActorDep,
    number: Annotated[str, Form(min_length=1, max_length=16)],
    lap: Annotated[int, Form(ge=1)],
    reason: Text,
) -> HTMLResponse:
    event = LapVoided(number.strip(), lap, race.clock.now_us(), reason.strip(), actor)
    outcome, out = await _outcome(race, actor, event, "lap.void", "")
    if any(isinstance(o, LapVoidRecorded) for o in out):
        outcome = Outcome(True, f"car {number} lap {lap} voided: not a best lap any more")
    return HTMLResponse(render_outcome(state.renderer, outcome))


@router.get("/control/cars/{number}/laps")
async def laps(
    _role: ControlOrStewardRole, engine: EngineDep, state: StateDep, number: str
) -> HTMLResponse:
    """The car's laps, voided ones struck through (the car dialog loads it)."""
    try:
        records = engine.laps_of(number)
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"car {number} is not entered") from exc
    context = {"number": number, "laps": laps_view(records)}
    return HTMLResponse(state.renderer.page("_laps.html", context))


@router.get("/live/sessions/{session_id}/grid")
async def grid_page(session_id: int, state: StateDep) -> HTMLResponse:
    """The grid of a race, public and printable."""
    result = await grid_of(state.race, session_id)
    context = {
        "event_name": result.event_name,
        "race_name": result.race_name,
        "qualifying_name": result.qualifying_name,
        "rows": grid_view(result.rows),
    }
    return HTMLResponse(state.renderer.page("grid.html", context))
