"""The sessions list of /live/sessions, from rows: results, a SprintDuro's sprint, grids."""

from __future__ import annotations

from datetime import UTC, datetime

from server.db.models import ResultVersionRow, SessionRow
from server.web.sessions_views import sessions_view

SIGNED = datetime(2026, 6, 13, 15, tzinfo=UTC)


def session(session_id: int, kind: str, name: str = "") -> SessionRow:
    return SessionRow(id=session_id, event_id=1, type=kind, name=name)


def version(
    session_id: int, number: int, *, official: bool, part: str = "race"
) -> ResultVersionRow:
    return ResultVersionRow(
        session_id=session_id,
        part=part,
        version=number,
        official=official,
        official_at=SIGNED if official else None,
        rows=[],
    )


def test_each_session_says_where_its_results_stand_and_races_link_their_grid() -> None:
    rows = [session(1, "practice", "FP1"), session(2, "qualifying"), session(3, "sprintduro")]
    latest = {1: version(1, 2, official=True), 2: None, 3: version(3, 1, official=False)}
    sprints = {3: version(3, 1, official=False, part="sprint")}
    listed = sessions_view(rows, latest, sprints, timed_id=3, timed_finished=True)
    assert [(s["name"], s["kind_label"], s["live"]) for s in listed] == [
        ("FP1", "Practice", False),
        ("Qualifying", "Qualifying", False),
        ("SprintDuro", "SprintDuro", False),  # timed, but finished: not "running now"
    ]
    assert [s["results"]["text"] for s in listed] == [
        "official · version 2",
        "no results yet",
        "provisional · version 1",
    ]
    assert [s["results"]["url"] for s in listed] == ["/results/1", "", "/results/3"]
    assert listed[2]["sprint"]["url"] == "/api/v1/sessions/3/results?part=sprint&format=pdf"
    assert listed[0]["sprint"] is None
    assert [s["grid_url"] for s in listed] == ["", "", "/live/sessions/3/grid"]


def test_without_a_qualifying_a_race_has_no_grid_and_the_timed_one_is_running() -> None:
    listed = sessions_view([session(5, "race", "Race")], {5: None}, {}, 5, timed_finished=False)
    assert listed[0]["live"] is True and listed[0]["grid_url"] == ""
