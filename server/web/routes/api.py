"""JSON API under /api/v1: sessions, flags, standings, decoders."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from server.db import repository
from server.engine.events import Flag, FlagChanged, SessionKind
from server.engine.lengths import length_refusal
from server.engine.model import StandingRow
from server.engine.rule_spec import rules_from_spec
from server.service.race_service import NoActiveSession
from server.web.actions import refusal_of, refusal_text
from server.web.auth import ActorDep, ControlRole, TimingRole
from server.web.deps import DbDep, RaceDep
from server.web.limits import Id, Name, parse_json
from server.web.routes.stewards_api import penalty_lines

router = APIRouter(prefix="/api/v1", tags=["timing"])


class SessionIn(BaseModel):
    event: Name = Field(min_length=1, max_length=200)
    type: SessionKind
    name: Name = Field(min_length=1, max_length=200)
    length_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    rules: dict[str, Any] | None = Field(
        default=None,
        description='the rule set: {"preset": "img"} plus RuleSet fields to override; '
        "stored resolved (every field), so later preset changes never touch this session",
        examples=[{"preset": "img", "max_stint_us": 7_200_000_000}],
    )


class SessionOut(BaseModel):
    id: int
    event: str
    type: SessionKind
    name: str
    length_minutes: int | None
    active: bool


class FlagIn(BaseModel):
    flag: Annotated[
        Flag,
        Field(
            description="green, yellow (full-course), code_60 or safety_car (when the rule "
            "set uses them), red, checkered; local_yellow with a station"
        ),
    ]
    station: Annotated[
        Name | None,
        Field(max_length=40, description="a corner station: local flags only"),
    ] = None


class StandingOut(BaseModel):
    position: int
    number: str
    class_: str = Field(alias="class")
    class_position: int
    team: str
    laps: int
    last_lap_ms: float | None
    best_lap_ms: float | None
    best_lap_number: int | None
    gap_ms: float | None
    gap_laps: int
    interval_ms: float | None
    interval_laps: int
    in_pit: bool
    state: str
    status: str = Field(description="running, DNS, DNF, DSQ or EXCL")
    penalties: list[dict[str, Any]] = Field(
        description="the stewards' decisions on the car: applied, pending, served, converted"
    )

    @classmethod
    def of(cls, row: StandingRow) -> StandingOut:
        def ms(us: int | None) -> float | None:
            return None if us is None else us / 1000

        return cls.model_validate(
            {
                "position": row.position,
                "number": row.number,
                "class": row.class_name,
                "class_position": row.class_position,
                "team": row.team,
                "laps": row.laps,
                "last_lap_ms": ms(row.last_lap_us),
                "best_lap_ms": ms(row.best_lap_us),
                "best_lap_number": row.best_lap_number,
                "gap_ms": ms(row.gap_us),
                "gap_laps": row.gap_laps,
                "interval_ms": ms(row.interval_us),
                "interval_laps": row.interval_laps,
                "in_pit": row.in_pit,
                "state": row.state.value,
                "status": row.status.value,
                "penalties": penalty_lines(row.penalties),
            }
        )


@router.get("/sessions")
async def list_sessions(race: RaceDep, db: DbDep) -> list[SessionOut]:
    rows = await repository.list_sessions(db)
    return [
        SessionOut(
            id=row.id,
            event=(await repository.get_event(db, row.event_id)).name,
            type=SessionKind(row.type),
            name=row.name,
            length_minutes=row.length_minutes,
            active=row.id == race.session_id,
        )
        for row in rows
    ]


@router.post("/sessions", status_code=status.HTTP_201_CREATED)
async def create_session(
    body: SessionIn, _role: ControlRole, race: RaceDep, db: DbDep
) -> SessionOut:
    """Create a session of an event and make it the one being timed. Its length must be
    one its rule set allows (IMG races 1 to 4 h, other presets up to 24 h; practice and
    qualifying from 10 minutes): anything else is a 422 that says the range."""
    try:
        why = length_refusal(body.type, rules_from_spec(body.rules), body.length_minutes)
    except ValueError as exc:  # an unknown preset or rule field, a bad value
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    if why is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, why)
    try:
        row = await repository.create_session(
            db, body.event, body.type.value, body.name, body.length_minutes, body.rules
        )
    except ValueError as exc:  # an unknown preset or rule field, a bad value
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    await repository.audit(db, "api", "session.create", body.model_dump(mode="json"))
    await race.load_session(row.id)
    return SessionOut(
        id=row.id,
        event=body.event,
        type=body.type,
        name=body.name,
        length_minutes=body.length_minutes,
        active=True,
    )


@router.post("/sessions/{session_id}/flag")
async def change_flag(
    request: Request,
    session_id: Id,
    _role: ControlRole,
    race: RaceDep,
    db: DbDep,
    actor: ActorDep,
) -> dict[str, Any]:
    """Show a flag (JSON ``{"flag": "green"}`` or a form post from the control page)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        payload: Any = parse_json(await request.body())
    else:
        payload = dict(await request.form())
    try:
        body = FlagIn.model_validate(payload)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
    if session_id != race.session_id:
        raise HTTPException(status.HTTP_409_CONFLICT, "only the active session takes flags")
    station = (body.station or "").strip() or None
    event = FlagChanged(at_us=race.clock.now_us(), flag=body.flag, station=station)
    try:
        out = await race.submit(event)
    except NoActiveSession as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    refusal = refusal_of(out)
    detail = asdict(event) | {"outcome": "refused" if refusal else "shown", "reason": refusal}
    await race.audit.record(actor, "flag", detail)
    if refusal is not None:  # the engine refused it: nothing changed
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"flag {body.flag.value} refused: {refusal_text(refusal)} ({refusal.value})",
        )
    current = race.status()
    return {"session_id": session_id, "flag": current.flag.value if current else None}


REBUILD_RETRY_AFTER_S = 1


@router.get(
    "/sessions/{session_id}/standings",
    responses={
        404: {"description": "no such session"},
        503: {
            "description": "a past session's standings are being rebuilt from its journal "
            "(in the background); retry after the Retry-After header's seconds"
        },
    },
)
async def standings(race: RaceDep, session_id: Id) -> list[StandingOut]:
    """Standings in order. The timed session's are live; a past session's are the ones
    stored when it ended (or last rebuilt): a request never replays a journal. When none
    are stored (or they are older than the journal), the answer is 503 with Retry-After
    while a background task rebuilds them off the event loop."""
    if session_id == race.session_id:
        rows = race.standings()
    else:
        try:
            past = await race.past_standings(session_id)
        except LookupError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        if past is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"the standings of session {session_id} are being rebuilt; retry shortly",
                headers={"Retry-After": str(REBUILD_RETRY_AFTER_S)},
            )
        rows = past
    return [StandingOut.of(row) for row in rows]


@router.get("/decoders")
async def decoders(_role: TimingRole, race: RaceDep) -> list[dict[str, Any]]:
    """Each decoder connection: connected, last STATUS, noise, passings, bad frames
    (addresses and errors: race control and timing only)."""
    return [asdict(s) for s in race.decoders.values()]
