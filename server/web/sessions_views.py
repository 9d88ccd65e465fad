"""What ``/live/sessions`` lists: the sessions of the event being timed, each with its
results and, for a race, its grid.

Strategy: pure, like ``server.web.views``: the caller reads the rows (sessions, their
latest results versions) and passes them in; each session becomes a dict of strings and
links. Results are "official" once signed, "provisional" until then, and a session that
has not ended has none yet; a race links its grid when its event has a qualifying.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from server.db.models import ResultVersionRow, SessionRow
from server.engine.events import SessionKind
from server.web.formatting import KIND_LABELS

_RACES = (SessionKind.RACE.value, SessionKind.SPRINTDURO.value)


def _results(version: ResultVersionRow | None, session_id: int, part: str) -> dict[str, Any]:
    if version is None:
        return {"state": "none", "text": "no results yet", "url": ""}
    official = version.official and version.official_at is not None
    url = f"/results/{session_id}"
    if part != "race":
        url = f"/api/v1/sessions/{session_id}/results?part={part}&format=pdf"
    return {
        "state": "official" if official else "provisional",
        "text": ("official" if official else "provisional") + f" · version {version.version}",
        "url": url,
    }


def sessions_view(
    sessions: Sequence[SessionRow],
    latest: Mapping[int, ResultVersionRow | None],
    sprints: Mapping[int, ResultVersionRow | None],
    timed_id: int | None,
    timed_finished: bool,
) -> list[dict[str, Any]]:
    """The event's sessions, oldest first; ``latest`` and ``sprints`` hold each session's
    latest results version of its race and of its sprint (a SprintDuro's first part)."""
    has_qualifying = any(s.type == SessionKind.QUALIFYING.value for s in sessions)
    out = []
    for s in sessions:
        kind = SessionKind(s.type)
        live = s.id == timed_id and not timed_finished
        out.append(
            {
                "id": s.id,
                "name": s.name or KIND_LABELS[kind],
                "kind_label": KIND_LABELS[kind],
                "live": live,
                "results": _results(latest.get(s.id), s.id, "race"),
                "sprint": _results(sprints.get(s.id), s.id, "sprint")
                if kind is SessionKind.SPRINTDURO
                else None,
                "grid_url": f"/live/sessions/{s.id}/grid"
                if s.type in _RACES and has_qualifying
                else "",
            }
        )
    return out
