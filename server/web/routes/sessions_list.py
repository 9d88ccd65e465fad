"""``/live/sessions``: the sessions of the event being timed, with results and grids.

Strategy: a public page, read from the database on each request (a few rows per event:
the sessions and each one's latest results version); the list itself is built by
``server.web.sessions_views``. Linked from ``/live``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from server.db import repository
from server.web.deps import DbDep, StateDep
from server.web.sessions_views import sessions_view

router = APIRouter(include_in_schema=False)


@router.get("/live/sessions")
async def sessions_page(state: StateDep, db: DbDep) -> HTMLResponse:
    """The event's practice, qualifying and race sessions, each with its results page
    (official or provisional) or "no results yet", and a race's grid."""
    race = state.race
    event = await repository.find_event(db, race.event_name) if race.event_name else None
    sessions = [] if event is None else await repository.list_sessions(db, event.id)
    latest = {s.id: await repository.latest_version(db, s.id) for s in sessions}
    sprints = {
        s.id: await repository.latest_version(db, s.id, "sprint")
        for s in sessions
        if s.type == "sprintduro"
    }
    status = race.status()
    context = {
        "event_name": race.event_name,
        "sessions": sessions_view(
            sessions, latest, sprints, race.session_id, status is not None and status.finished
        ),
    }
    return HTMLResponse(state.renderer.page("sessions.html", context))
