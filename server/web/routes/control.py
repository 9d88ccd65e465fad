"""Race control's commands and panels: flags by station, the race clock, alerts,
messages, timing corrections, driver changes with override, a car's detail, and the
classifications kept with the session.

Strategy: each command is a form post of a few lines: build the input event (server
clock, actor, reason), journal and apply it through the race service, audit it, and
answer with a one-line fragment for the form (or 204 when the websocket update is the
answer). A refusal is the engine's (``submit`` hands back what it said); whether an added
passing changed the car's timing is read from the state after it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.engine.events import (
    AlertAcknowledged,
    CarRetired,
    CorrectionReverted,
    Flag,
    FlagChanged,
    FlagReverted,
    InputEvent,
    PassingAdded,
    PassingDeleted,
    RaceControlMessageEdited,
    RaceControlMessagePosted,
    RaceControlMessageRetracted,
    SessionClockPaused,
    SessionClockResumed,
    TransponderAssigned,
)
from server.engine.outbound import OutEvent
from server.engine.race import RaceEngine
from server.service.race_service import NoActiveSession, RaceService
from server.web import actions
from server.web.auth import ActorDep, ControlRole, RoleDep, TimingRole
from server.web.car_views import car_detail_view, crossings_view, gaps_view, snapshots_view
from server.web.chart_views import car_timeline_of
from server.web.control_views import messages_view
from server.web.csrf import CsrfTokenDep
from server.web.deps import EngineDep, RaceDep, StateDep
from server.web.formatting import format_time_of_day, parse_time_of_day
from server.web.limits import INT64_MAX, Name, Text
from server.web.rendering import Renderer
from server.web.routes.pit import render_outcome

router = APIRouter(prefix="/control", include_in_schema=False)
Number = Annotated[Name, Form(min_length=1, max_length=16)]
Reason = Annotated[Text, Form(min_length=1, max_length=200)]
# a race-clock time (µs since the epoch): a signed 64-bit integer, checked against "now"
Instant = Annotated[int, Form(ge=0, le=INT64_MAX)]
TimeUs = Instant
# a message leaves every page after this many minutes (empty: until retracted)
ExpiresMin = Annotated[int | None, Form(ge=1, le=24 * 60)]
CORRECTION_KINDS = "^(PassingAdded|PassingDeleted|TransponderAssigned)$"
Outcome = actions.Outcome


async def _submit(race: RaceService, actor: str, event: InputEvent, action: str) -> list[OutEvent]:
    try:
        return await actions.submit_audited(race, event, actor, action)
    except NoActiveSession as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


def _fragment(renderer: Renderer, outcome: Outcome) -> HTMLResponse:
    return HTMLResponse(render_outcome(renderer, outcome))


def _known_car(race: RaceService, number: str) -> None:
    if all(entry.number != number for entry in race.entries):
        raise HTTPException(422, f"car {number} is not entered")


@router.post("/flag")
async def flag(
    _role: ControlRole,
    _engine: EngineDep,
    state: StateDep,
    actor: ActorDep,
    flag: Annotated[Flag, Form()],
    station: Annotated[Name | None, Form(max_length=40)] = None,
) -> HTMLResponse:
    """Any flag for the timed session; with a station, a local yellow (or its clearing)."""
    race = state.race
    where = (station or "").strip() or None
    await _submit(race, actor, FlagChanged(race.clock.now_us(), flag, where), "flag")
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
    return _fragment(state.renderer, Outcome(ok, text))


@router.post("/flag/undo")
async def undo_flag(
    _role: ControlRole,
    _engine: EngineDep,
    state: StateDep,
    actor: ActorDep,
    flag_at_us: TimeUs,
) -> HTMLResponse:
    """Undo the latest session flag (within 10 s): a journaled reversal."""
    race = state.race
    event = FlagReverted(flag_at_us, race.clock.now_us(), actor)
    refusal = actions.refusal_of(await _submit(race, actor, event, "flag.undo"))
    if refusal is not None:
        return _fragment(state.renderer, actions.refused(race, event, refusal))
    current = race.status()
    shown = "none" if current is None else current.flag.value.replace("_", " ")
    return _fragment(state.renderer, Outcome(True, f"flag undone: {shown} again"))


@router.post("/clock")
async def clock(
    _role: ControlRole,
    _engine: EngineDep,
    race: RaceDep,
    actor: ActorDep,
    action: Annotated[str, Form(pattern="^(pause|resume)$")],
) -> Response:
    now = race.clock.now_us()
    event = SessionClockPaused(now, actor) if action == "pause" else SessionClockResumed(now, actor)
    await _submit(race, actor, event, f"clock.{action}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/alerts/ack")
async def acknowledge(
    _role: ControlRole,
    _engine: EngineDep,
    race: RaceDep,
    actor: ActorDep,
    alert_id: Annotated[Name, Form(max_length=300)],
) -> Response:
    event = AlertAcknowledged(alert_id, race.clock.now_us(), actor)
    await _submit(race, actor, event, "alert.ack")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/alerts/ack-kind")
async def acknowledge_kind(
    _role: ControlRole,
    engine: EngineDep,
    race: RaceDep,
    actor: ActorDep,
    kind: Annotated[str, Form(min_length=1, max_length=64)],
) -> Response:
    """Acknowledge every open alert of one kind (twelve identical stint alerts at once)."""
    for alert in engine.alerts():
        if alert.kind == kind and not alert.acknowledged:
            event = AlertAcknowledged(alert.id, race.clock.now_us(), actor)
            await _submit(race, actor, event, "alert.ack")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _expiry(now_us: int, minutes: int | None) -> int | None:
    return None if minutes is None else now_us + minutes * 60 * 1_000_000


def _words(text: str) -> str:
    words = " ".join(text.split())
    if not words:
        raise HTTPException(422, "the message is empty")
    return words


@router.post("/messages")
async def post_message(
    _role: ControlRole,
    _engine: EngineDep,
    state: StateDep,
    actor: ActorDep,
    text: Annotated[Text, Form(min_length=1, max_length=200)],
    number: Annotated[Name, Form(max_length=16)] = "",
    expires_min: ExpiresMin = None,
) -> HTMLResponse:
    race = state.race
    if number:
        _known_car(race, number)
    now = race.clock.now_us()
    expires = _expiry(now, expires_min)
    event = RaceControlMessagePosted(now, _words(text), number or None, actor, expires)
    await _submit(race, actor, event, "message")
    until = "" if expires_min is None else f" for {expires_min} min"
    return _fragment(state.renderer, Outcome(True, f"posted to every page{until}"))


@router.get("/messages/edit")
async def message_editor(
    _role: ControlRole,
    engine: EngineDep,
    state: StateDep,
    posted_at_us: Annotated[int, Query(ge=0, le=INT64_MAX)],
) -> HTMLResponse:
    """The form that edits the message posted at ``posted_at_us`` (shown outside the
    ticker, which live updates replace), filled with its text."""
    shown = engine.messages(state.race.clock.now_us())
    message = next((m for m in shown if m.at_us == posted_at_us), None)
    if message is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such message on the pages now")
    view = messages_view([message], 1)[0]
    return HTMLResponse(state.renderer.page("_message_edit.html", {"m": view}))


@router.post("/messages/edit")
async def edit_message(
    _role: ControlRole,
    _engine: EngineDep,
    state: StateDep,
    actor: ActorDep,
    posted_at_us: TimeUs,
    text: Annotated[Text, Form(min_length=1, max_length=200)],
    expires_min: ExpiresMin = None,
) -> HTMLResponse:
    race = state.race
    now = race.clock.now_us()
    event = RaceControlMessageEdited(
        posted_at_us, now, _words(text), actor, _expiry(now, expires_min)
    )
    refusal = actions.refusal_of(await _submit(race, actor, event, "message.edit"))
    if refusal is not None:
        return _fragment(state.renderer, actions.refused(race, event, refusal))
    return _fragment(state.renderer, Outcome(True, "message changed on every page"))


@router.post("/messages/retract")
async def retract_message(
    _role: ControlRole,
    _engine: EngineDep,
    state: StateDep,
    actor: ActorDep,
    posted_at_us: TimeUs,
) -> HTMLResponse:
    race = state.race
    event = RaceControlMessageRetracted(posted_at_us, race.clock.now_us(), actor)
    refusal = actions.refusal_of(await _submit(race, actor, event, "message.retract"))
    if refusal is not None:
        return _fragment(state.renderer, actions.refused(race, event, refusal))
    return _fragment(state.renderer, Outcome(True, "message retracted from every page"))


def _timing_of(race: RaceService, engine: RaceEngine, number: str) -> tuple[object, ...]:
    """What a car's passings show (its laps and crossings), to tell if a correction did."""
    row = next((r for r in race.standings() if r.number == number), None)
    laps = tuple(lap.at_us for lap in engine.laps_of(number))
    return (laps, None if row is None else (row.laps, row.last_crossing_us))


@router.post("/corrections/add")
async def add_passing(
    _role: TimingRole,
    engine: EngineDep,
    state: StateDep,
    actor: ActorDep,
    number: Number,
    reason: Reason,
    time: Annotated[str, Form(max_length=20)] = "",
    at_us: Annotated[int | None, Form(ge=0, le=2**63 - 1)] = None,
) -> HTMLResponse:
    """A missed passing: at a time of day typed to the millisecond, or else at the
    point picked between two of the car's crossings (``at_us``)."""
    race, renderer = state.race, state.renderer
    _known_car(race, number)
    now = race.clock.now_us()
    if time.strip():
        try:
            at = parse_time_of_day(time, now)
        except ValueError as exc:
            return _fragment(renderer, Outcome(False, str(exc), "bad_time"))
    elif at_us is not None:
        at = at_us
    else:
        return _fragment(renderer, Outcome(False, "pick between which laps, or a time", "no_time"))
    if at > now:
        return _fragment(renderer, Outcome(False, "that time has not come yet", "future"))
    before = _timing_of(race, engine, number)
    await _submit(race, actor, PassingAdded(number, at, reason, actor), "correction.add")
    text = f"passing of car {number} at {format_time_of_day(at, millis=True)} added"
    if _timing_of(race, engine, number) == before:  # recorded, but filtered like a double read
        text += ", but it changes nothing (too close to another crossing?)"
    return _fragment(renderer, Outcome(True, text))


@router.post("/corrections/undo")
async def undo_correction(
    _role: TimingRole,
    _engine: EngineDep,
    state: StateDep,
    actor: ActorDep,
    kind: Annotated[str, Form(pattern=CORRECTION_KINDS)],
    number: Number,
    correction_at_us: TimeUs,
) -> HTMLResponse:
    """Undo a correction: a journaled reversal, the state rebuilt without it."""
    race = state.race
    _known_car(race, number)
    event = CorrectionReverted(kind, number, correction_at_us, race.clock.now_us(), actor)
    refusal = actions.refusal_of(await _submit(race, actor, event, "correction.undo"))
    if refusal is not None:
        return _fragment(state.renderer, actions.refused(race, event, refusal))
    return _fragment(state.renderer, Outcome(True, f"correction of car {number} undone"))


@router.post("/corrections/delete")
async def delete_passing(
    _role: TimingRole,
    _engine: EngineDep,
    state: StateDep,
    actor: ActorDep,
    number: Number,
    crossing_at_us: Instant,
    reason: Reason,
) -> HTMLResponse:
    race = state.race
    _known_car(race, number)
    if crossing_at_us > race.clock.now_us():  # checked before it is journaled
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "crossing_at_us is after the race clock's now: pick a crossing that happened",
        )
    event = PassingDeleted(number, crossing_at_us, race.clock.now_us(), reason, actor)
    out = await _submit(race, actor, event, "correction.delete")
    when = format_time_of_day(crossing_at_us, millis=True)
    if actions.refusal_of(out) is not None:  # the engine found no such passing
        return _fragment(state.renderer, Outcome(False, f"no passing of car {number} at {when}"))
    return _fragment(state.renderer, Outcome(True, f"passing of car {number} at {when} deleted"))


@router.post("/corrections/assign")
async def assign_transponder(
    _role: TimingRole,
    _engine: EngineDep,
    state: StateDep,
    actor: ActorDep,
    transponder: Annotated[Name, Form(min_length=1, max_length=32)],
    number: Number,
    reason: Reason,
) -> HTMLResponse:
    race = state.race
    _known_car(race, number)
    code = transponder.strip()
    event = TransponderAssigned(code, number, race.clock.now_us(), reason, actor)
    await _submit(race, actor, event, "correction.assign")
    text = f"transponder {code} now counts for car {number}"
    return _fragment(state.renderer, Outcome(True, text))


@router.post("/driver-change")
async def driver_change(
    _role: ControlRole,
    _engine: EngineDep,
    state: StateDep,
    actor: ActorDep,
    number: Number,
    driver: Annotated[Name, Form(min_length=1, max_length=200)],
    override: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """A driver change entered (or forced past the rest rule) by race control."""
    forced = override.lower() in ("1", "true", "on", "yes")
    outcome = await actions.confirm_driver_change(
        state.race, number, driver, actor, override=forced
    )
    return _fragment(state.renderer, outcome)


@router.post("/retire")
async def retire(
    _role: ControlRole,
    _engine: EngineDep,
    state: StateDep,
    actor: ActorDep,
    number: Number,
    reason: Reason,
) -> Response:
    race = state.race
    _known_car(race, number)
    event = CarRetired(number, race.clock.now_us(), reason, actor)
    refusal = actions.refusal_of(await _submit(race, actor, event, "car.retire"))
    if refusal is not None:  # already retired, or classified
        return _fragment(state.renderer, actions.refused(race, event, refusal))
    return _fragment(state.renderer, Outcome(True, f"car {number} retired"))


@router.get("/cars/{number}")
async def car_detail(
    _role: ControlRole, engine: EngineDep, state: StateDep, number: str
) -> HTMLResponse:
    now = state.race.clock.now_us()
    try:
        detail = engine.car_detail(number, now)
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"car {number} is not entered") from exc
    view = car_detail_view(detail, state.race.status(), now)
    context = {"car": view, "timeline": car_timeline_of(engine, detail, now)}
    return HTMLResponse(state.renderer.page("_car_detail.html", context))


@router.get("/crossings")
async def crossings(
    _role: ControlRole, engine: EngineDep, state: StateDep, number: str = ""
) -> HTMLResponse:
    """``<option>``s of the car's latest crossings, for the delete-a-passing form."""
    try:
        laps = engine.laps_of(number)
    except KeyError:
        laps = []
    context = {"crossings": crossings_view(laps)}
    return HTMLResponse(state.renderer.page("_crossings.html", context))


@router.get("/gaps")
async def gaps(
    _role: TimingRole, engine: EngineDep, state: StateDep, number: str = ""
) -> HTMLResponse:
    """``<option>``s of the gaps between the car's crossings (newest first), each placing
    a missed passing half way, for the add-a-passing form."""
    try:
        laps = engine.laps_of(number)
    except KeyError:
        laps = []
    context = {"gaps": gaps_view(laps)}
    return HTMLResponse(state.renderer.page("_gaps.html", context))


@router.get("/snapshots")
async def snapshots(role: RoleDep, state: StateDep, csrf: CsrfTokenDep) -> Response:
    if role != "control":
        return RedirectResponse("/login?next=/control/snapshots", status_code=303)
    race = state.race
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
        "csrf_token": csrf,
    }
    return HTMLResponse(state.renderer.page("snapshots.html", context))
