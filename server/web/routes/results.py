"""Results: sign them official, export a version (JSON, CSV, PDF), the public page.

Strategy: the versions are stored by the race service (``RaceService._version_results``);
these routes only read them (``load_document``) or ask the service to sign the latest
one, so a request never replays a journal. Exports are public, like the live page.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from server.service.race_service import ResultsRefused
from server.service.results import ResultsDocument, to_csv, to_json
from server.service.results_docs import load_document
from server.service.results_pdf import to_pdf
from server.web.auth import ActorDep, ControlOrStewardRole
from server.web.deps import DbDep, RaceDep, StateDep
from server.web.results_publish import results_page_html

router = APIRouter(prefix="/api/v1", tags=["results"])
pages = APIRouter(include_in_schema=False)


class OfficialIn(BaseModel):
    note: str = Field(default="", max_length=2000, description="what the steward signs with")


def _headers(doc: ResultsDocument, filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Results-Version": str(doc.version),
        "X-Results-Official": "true" if doc.official else "false",
        "X-Results-Signed-At": doc.signed_at.isoformat(),
    }


@router.post(
    "/sessions/{session_id}/official",
    responses={404: {"description": "no such session"}, 409: {"description": "not now"}},
)
async def mark_official(
    session_id: int, body: OfficialIn, _role: ControlOrStewardRole, race: RaceDep, actor: ActorDep
) -> dict[str, Any]:
    """Sign the session's latest results version official (race control or the chief
    steward). Refused (409) while the session runs, before it has results, or when the
    latest version is official already."""
    try:
        signed = await race.mark_official(session_id, actor, body.note)
    except ResultsRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    await race.audit.record(
        actor, "results.official", {"session_id": session_id, "version": signed.version}
    )
    return {
        "session_id": session_id,
        "version": signed.version,
        "official": True,
        "official_at": None if signed.official_at is None else signed.official_at.isoformat(),
        "official_by": signed.official_by,
        "note": signed.note,
    }


@router.get(
    "/sessions/{session_id}/results",
    responses={404: {"description": "no such session, version or class; no results yet"}},
)
async def results(
    session_id: int,
    db: DbDep,
    format: Literal["json", "csv", "pdf"] = "json",  # named as in the brief
    class_: Annotated[str | None, Query(alias="class", max_length=100)] = None,
    version: Annotated[int | None, Query(ge=1)] = None,
    part: Literal["race", "sprint"] = "race",
) -> Response:
    """A version of the session's results (the latest by default): JSON (with
    ``version``, ``official`` and ``signed_at``), CSV or an A4 PDF; ``class`` keeps one
    class, with the gaps within it; ``part=sprint``: a SprintDuro's sprint, whose
    versions are numbered on their own."""
    try:
        doc = await load_document(db, session_id, version, class_, part)
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    stem = f"results-{session_id}" + ("-sprint" if part == "sprint" else "")
    stem += f"-v{doc.version}" + (f"-{class_}" if class_ else "")
    if format == "csv":
        return Response(to_csv(doc), media_type="text/csv", headers=_headers(doc, stem + ".csv"))
    if format == "pdf":
        data = to_pdf(doc)
        return Response(data, media_type="application/pdf", headers=_headers(doc, stem + ".pdf"))
    return JSONResponse(to_json(doc))


@pages.get("/results/{session_id}")
async def results_page(
    session_id: int, state: StateDep, db: DbDep, version: Annotated[int | None, Query(ge=1)] = None
) -> HTMLResponse:
    """The public results of a session: overall, then each class."""
    try:
        return HTMLResponse(await results_page_html(db, state.renderer, session_id, version))
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
