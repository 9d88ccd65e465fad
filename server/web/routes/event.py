"""``/control/event``: race control plans the weekend in the browser, no CLI needed.

Strategy: plain HTML forms, post-redirect-get. Sessions are created with a type, a
scheduled start, a length the rule set allows (``length_refusal``, the same check as the
API) and a rule-set preset; "time it" makes one the timed session. The entry list is
uploaded as CSV or edited a car at a time, both through the CSV import
(``import_entries``: the same checks, all or nothing), whose ``on_imported`` hook is the
race service's ``entries_changed``: a change during a session is journaled as
``EntryChanged`` (``server/engine/entry_events.py``). A refused form answers 422 with
the page and the reason.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import repository
from server.engine.events import SessionKind
from server.engine.lengths import allowed_minutes, length_refusal
from server.engine.rules import PRESETS, preset
from server.service.entries_import import COLUMNS, EntriesImportError, import_entries
from server.service.series_settings import series_panel
from server.web.auth import ActorDep, ControlRole, RoleDep
from server.web.deps import DbDep, StateDep
from server.web.state import AppState

router = APIRouter(prefix="/control/event", include_in_schema=False)
Text = Annotated[str, Form(min_length=1, max_length=200)]


async def render_page(
    state: AppState,
    db: AsyncSession,
    event: str,
    message: str | None,
    error: str | None,
    code: int = 200,
    *,
    chosen_series: str = "",
) -> HTMLResponse:
    race = state.race
    sessions = []
    events = {}
    for row in await repository.list_sessions(db):
        if row.event_id not in events:
            events[row.event_id] = (await repository.get_event(db, row.event_id)).name
        sessions.append(
            {"row": row, "event": events[row.event_id], "timed": row.id == race.session_id}
        )
    entries = []
    chosen = await repository.find_event(db, event) if event else None
    if chosen is not None:
        entries = await repository.load_entries(
            db, chosen.id, chosen.date or datetime.now(UTC).date()
        )
    context = {
        "event": event,
        "sessions": sessions,
        "entries": entries,
        "kinds": [kind.value for kind in SessionKind],
        "presets": sorted(PRESETS),
        "message": message,
        "error": error,
        "limits": {kind.value: allowed_minutes(kind, preset("img")) for kind in SessionKind},
        # the season's settings (docs/season.md): server/web/routes/event_series.py
        **await series_panel(db, event, chosen_series),
    }
    return HTMLResponse(state.renderer.page("control_event.html", context), status_code=code)


@router.get("")
async def event_page(
    state: StateDep,
    db: DbDep,
    role: RoleDep,
    event: Annotated[str, Query(max_length=200)] = "",
    message: Annotated[str | None, Query(max_length=2000)] = None,
    series: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    if role != "control":
        return RedirectResponse("/login?next=/control/event", status_code=303)
    event = event or state.race.event_name
    return await render_page(state, db, event, message, None, chosen_series=series)


def _back(event: str, message: str) -> RedirectResponse:
    return RedirectResponse(
        "/control/event?" + urlencode({"event": event, "message": message}), status_code=303
    )


@router.post("/sessions")
async def create_session(
    state: StateDep,
    db: DbDep,
    _role: ControlRole,
    actor: ActorDep,
    event: Text,
    type: Annotated[SessionKind, Form()],
    name: Text,
    length_minutes: Annotated[int, Form(ge=1, le=24 * 60)],
    rules: Annotated[str, Form(max_length=40)] = "img",
    scheduled_start: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        rule_set = preset(rules)
        start = (
            datetime.fromisoformat(scheduled_start).replace(tzinfo=UTC)
            if scheduled_start.strip()
            else None
        )
    except (KeyError, ValueError) as exc:
        bad = str(exc).strip("'\"")
        return await render_page(state, db, event, None, bad, status.HTTP_422_UNPROCESSABLE_CONTENT)
    why = length_refusal(type, rule_set, length_minutes)
    if why is not None:
        return await render_page(state, db, event, None, why, status.HTTP_422_UNPROCESSABLE_CONTENT)
    row = await repository.create_session(
        db, event, type.value, name, length_minutes, {"preset": rules}
    )
    row.scheduled_start = start
    await db.commit()
    detail = {"id": row.id, "event": event, "type": type.value, "name": name}
    await repository.audit(db, actor, "session.create", detail | {"length": length_minutes})
    return _back(event, f"session {name!r} created (id {row.id})")


@router.post("/sessions/{session_id}/time")
async def time_session(
    session_id: int, state: StateDep, db: DbDep, _role: ControlRole, actor: ActorDep
) -> Response:
    """Make the session the timed one (what the live page shows, what decoders time)."""
    try:
        row = await repository.get_session(db, session_id)
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    event = (await repository.get_event(db, row.event_id)).name
    await state.race.load_session(session_id)
    await repository.audit(db, actor, "session.time", {"id": session_id})
    return _back(event, f"session {row.name!r} is now timed")


async def _import(state: AppState, db: AsyncSession, event: str, text: str, actor: str) -> Response:
    race = state.race

    async def journal_changes() -> None:
        await race.entries_changed(actor)

    try:
        report = await import_entries(state.sessionmaker, text, event, on_imported=journal_changes)
    except EntriesImportError as exc:
        return await render_page(
            state, db, event, None, str(exc), status.HTTP_422_UNPROCESSABLE_CONTENT
        )
    await repository.audit(db, actor, "entries.edit", {"event": event, "report": str(report)})
    return _back(event, str(report))


@router.post("/entries/upload")
async def upload_entries(
    state: StateDep,
    db: DbDep,
    _role: ControlRole,
    actor: ActorDep,
    event: Text,
    file: Annotated[UploadFile, File()],
) -> Response:
    data = await file.read(2_000_001)
    if len(data) > 2_000_000:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "an entry list is at most 2 MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return await render_page(
            state,
            db,
            event,
            None,
            "the file is not UTF-8 text",
            status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    return await _import(state, db, event, text if "\n" in text else text + "\n", actor)


@router.post("/entries")
async def edit_entry(
    state: StateDep,
    db: DbDep,
    _role: ControlRole,
    actor: ActorDep,
    event: Text,
    number: Annotated[str, Form(min_length=1, max_length=16)],
    class_name: Annotated[str, Form(min_length=1, max_length=100)],
    team: Text,
    drivers: Annotated[str, Form(max_length=200)] = "",
    transponder: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Enter a car, or change one (by number): its class, team, drivers (";"-separated)
    and transponder."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerow(
        [number.strip(), class_name.strip(), team.strip(), drivers, transponder.strip()]
    )
    return await _import(state, db, event, out.getvalue(), actor)
