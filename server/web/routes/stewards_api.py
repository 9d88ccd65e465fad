"""The stewards' JSON API: incidents, decisions and amendments, voided laps, the grid.

Strategy: every write is an input event journaled and applied through the race service,
like a flag; the engine decides whether it applies (``CommandRefused`` with a
``Refusal``), and the refusal becomes a 4xx with the reason in words: nothing changed.
Incident ids are ``<session>-<n>`` (``<session>-auto-...`` for the rule set's proposals),
so a decision names its session without one in the path. Reports and voided laps are
race control's or the stewards'; decisions are the chief steward's (role ``steward``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from server.engine.events import Decision, IncidentDecided, IncidentReported, InputEvent, LapVoided
from server.engine.outbound import (
    CommandRefused,
    DecisionRecorded,
    IncidentRecorded,
    LapVoidRecorded,
    OutEvent,
)
from server.engine.refusals import Refusal
from server.engine.stewards import Incident, describe
from server.service.race_service import (
    GridResult,
    GridUnavailable,
    NoActiveSession,
    RaceService,
)
from server.web import actions
from server.web.auth import ActorDep, ControlOrStewardRole, StewardRole
from server.web.deps import RaceDep

router = APIRouter(prefix="/api/v1", tags=["stewards"])

TIME_PATTERN = r"^\d{1,2}:[0-5]\d:[0-5]\d$"
Text = Annotated[str, Field(min_length=1, max_length=500)]


class IncidentIn(BaseModel):
    at: Annotated[
        str,
        Field(pattern=TIME_PATTERN, description="when it happened, HH:MM:SS (session time)"),
    ]
    place: Annotated[str, Field(min_length=1, max_length=100, examples=["Turn 3"])]
    cars: Annotated[list[Annotated[str, Field(min_length=1, max_length=16)]], Field(min_length=1)]
    description: Text
    contact: bool = False


class DecisionIn(BaseModel):
    decision: Decision
    value: Annotated[
        int | None,
        Field(ge=0, description="seconds (time_penalty), laps (lap_penalty), places"),
    ] = None
    reason: Text
    cars: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=16)]],
        Field(description="the cars it applies to; empty: every car of the incident"),
    ] = []
    amend: bool = Field(default=False, description="replace the decision already made")


class VoidIn(BaseModel):
    number: Annotated[str, Field(min_length=1, max_length=16)]
    lap: Annotated[int, Field(ge=1)]
    reason: Text


class DecisionOut(BaseModel):
    decision: str
    value: int | None
    text: str
    cars: list[str]
    reason: str
    by: str
    at_us: int
    amendment: bool


class IncidentOut(BaseModel):
    id: str
    state: str  # open / decided
    at: str
    place: str
    cars: list[str]
    description: str
    contact: bool
    reported_by: str
    proposed: bool
    decision: DecisionOut | None
    history: list[DecisionOut]

    @classmethod
    def of(cls, incident: Incident) -> IncidentOut:
        history = [
            DecisionOut(
                decision=d.decision.value,
                value=d.value,
                text=describe(d.decision, d.value),
                cars=list(d.cars or incident.cars),
                reason=d.reason,
                by=d.actor,
                at_us=d.at_us,
                amendment=d.amend,
            )
            for d in incident.decisions
        ]
        return cls(
            id=incident.incident_id,
            state="open" if incident.is_open else "decided",
            at=incident.occurred,
            place=incident.place,
            cars=list(incident.cars),
            description=incident.description,
            contact=incident.contact,
            reported_by=incident.reported_by,
            proposed=incident.proposed,
            decision=history[-1] if history else None,
            history=history,
        )


class GridRowOut(BaseModel):
    position: int
    number: str
    class_: str = Field(alias="class")
    team: str
    qualifying_position: int | None
    best_lap_ms: float | None
    best_lap_number: int | None
    sent_back: bool
    reason: str


class GridOut(BaseModel):
    session_id: int
    qualifying_session_id: int
    qualifying: str
    rows: list[GridRowOut]


_STATUS = {
    Refusal.NO_SUCH_INCIDENT: status.HTTP_404_NOT_FOUND,
    Refusal.ALREADY_DECIDED: status.HTTP_409_CONFLICT,
    Refusal.NOT_DECIDED: status.HTTP_409_CONFLICT,
}


def _active(race: RaceService, session_id: int) -> None:
    if session_id != race.session_id:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"session {session_id} is not the timed session: only it takes incidents and voids",
        )


async def _submit(race: RaceService, actor: str, event: InputEvent, action: str) -> list[OutEvent]:
    """Journal and apply ``event``; the engine's refusal is a 4xx with its words."""
    try:
        out = await actions.submit_audited(race, event, actor, action)
    except NoActiveSession as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    refused = next((o for o in out if isinstance(o, CommandRefused)), None)
    if refused is not None:
        code = _STATUS.get(refused.reason, status.HTTP_422_UNPROCESSABLE_CONTENT)
        words = actions.refusal_text(refused.reason, refused.number or "")
        raise HTTPException(code, {"reason": refused.reason.value, "detail": words})
    return out


@router.post("/sessions/{session_id}/incidents", status_code=status.HTTP_201_CREATED)
async def report_incident(
    session_id: int, body: IncidentIn, _role: ControlOrStewardRole, race: RaceDep, actor: ActorDep
) -> dict[str, str]:
    """Report an incident (race control, a corner station, a steward) -> ``{"id"}``."""
    _active(race, session_id)
    event = IncidentReported(
        at_us=race.clock.now_us(),
        occurred=body.at,
        place=body.place.strip(),
        cars=tuple(number.strip() for number in body.cars),
        description=body.description.strip(),
        contact=body.contact,
        actor=actor,
    )
    out = await _submit(race, actor, event, "incident.report")
    recorded = next(o for o in out if isinstance(o, IncidentRecorded))
    return {"id": recorded.incident_id}


@router.get("/sessions/{session_id}/incidents")
async def list_incidents(
    session_id: int, _role: ControlOrStewardRole, race: RaceDep
) -> list[IncidentOut]:
    """A session's incidents with their state (open / decided) and decisions, the rule
    set's proposed penalties included."""
    try:
        incidents = await race.incidents_of(session_id)
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    return [IncidentOut.of(incident) for incident in incidents]


def _session_of(incident_id: str) -> int:
    head = incident_id.partition("-")[0]
    if not head.isdigit():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no incident {incident_id!r}")
    return int(head)


async def _decide(
    incident_id: str, body: DecisionIn, race: RaceService, actor: str, *, amend: bool
) -> IncidentOut:
    session_id = _session_of(incident_id)
    if session_id != race.session_id:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"incident {incident_id} is not of the timed session: load session {session_id}",
        )
    event = IncidentDecided(
        incident_id=incident_id,
        decision=body.decision,
        at_us=race.clock.now_us(),
        reason=body.reason.strip(),
        actor=actor,
        value=body.value,
        cars=tuple(number.strip() for number in body.cars),
        amend=amend,
    )
    action = "incident.amend" if amend else "incident.decide"
    out = await _submit(race, actor, event, action)
    assert any(isinstance(o, DecisionRecorded) for o in out)
    engine = race.engine
    incident = None if engine is None else engine.incident(incident_id)
    if incident is None:  # pragma: no cover - the engine just recorded it
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no incident {incident_id!r}")
    return IncidentOut.of(incident)


@router.post("/incidents/{incident_id}/decision")
async def decide(
    incident_id: str, body: DecisionIn, _role: StewardRole, race: RaceDep, actor: ActorDep
) -> IncidentOut:
    """The chief steward's decision; on a decided incident only with ``"amend": true``."""
    return await _decide(incident_id, body, race, actor, amend=body.amend)


@router.post("/incidents/{incident_id}/amend")
async def amend(
    incident_id: str, body: DecisionIn, _role: StewardRole, race: RaceDep, actor: ActorDep
) -> IncidentOut:
    """Replace the decision of a decided incident (the reason says why)."""
    return await _decide(incident_id, body, race, actor, amend=True)


@router.post("/sessions/{session_id}/laps/void")
async def void_lap(
    session_id: int, body: VoidIn, _role: ControlOrStewardRole, race: RaceDep, actor: ActorDep
) -> dict[str, Any]:
    """Void a lap time (track limits): the lap still counts, but not as a best lap."""
    _active(race, session_id)
    event = LapVoided(body.number.strip(), body.lap, race.clock.now_us(), body.reason, actor)
    out = await _submit(race, actor, event, "lap.void")
    recorded = next(o for o in out if isinstance(o, LapVoidRecorded))
    best = recorded.best_lap_us
    return {
        "number": recorded.number,
        "lap": recorded.lap,
        "voided": True,
        "best_lap_ms": None if best is None else best / 1000,
    }


@router.get(
    "/sessions/{session_id}/grid",
    responses={
        404: {"description": "no such session"},
        409: {"description": "not a race, or its event has no qualifying (the reason says)"},
        503: {"description": "the qualifying standings are being rebuilt; retry"},
    },
)
async def race_grid(session_id: int, race: RaceDep) -> GridOut:
    """The grid of a race: its event's qualifying by best lap (ties to the first to set
    it), cars in a contact incident in practice or qualifying at the back, each row with
    the reason it is where it is."""
    result = await grid_of(race, session_id)
    return GridOut(
        session_id=result.session_id,
        qualifying_session_id=result.qualifying_session_id,
        qualifying=result.qualifying_name,
        rows=[
            GridRowOut.model_validate(
                {
                    "position": row.position,
                    "number": row.number,
                    "class": row.class_name,
                    "team": row.team,
                    "qualifying_position": row.qualifying_position,
                    "best_lap_ms": None if row.best_lap_us is None else row.best_lap_us / 1000,
                    "best_lap_number": row.best_lap_number,
                    "sent_back": row.sent_back,
                    "reason": row.reason,
                }
            )
            for row in result.rows
        ],
    )


async def grid_of(race: RaceService, session_id: int) -> GridResult:
    """The grid or the HTTP answer that says why there is none (shared with the page)."""
    try:
        result = await race.grid(session_id)
    except GridUnavailable as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    if result is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the qualifying standings are being rebuilt; retry shortly",
            headers={"Retry-After": "1"},
        )
    return result


def penalty_lines(penalties: Sequence[Any]) -> list[dict[str, Any]]:
    """A row's penalties as JSON (the standings API)."""
    return [
        {
            "incident": p.incident_id,
            "decision": p.decision,
            "value": p.value,
            "text": describe(p.decision, p.value),
            "state": p.state.value,
            "time_ms": p.time_us / 1000,
            "laps": p.laps,
            "places": p.places,
        }
        for p in penalties
    ]
