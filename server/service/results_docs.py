"""A stored results version as a ``ResultsDocument``: for the API, the page and the CLI.

Strategy: read-only, from the database alone (the version rows, the session and its
event), so the CLI answers without a running server. Missing things are ``LookupError``
with words a user can act on.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from server.db import repository
from server.service.results import ResultsDocument, of_class, rows_of


async def load_document(
    db: AsyncSession,
    session_id: int,
    version: int | None = None,
    class_name: str | None = None,
    part: str = "race",
) -> ResultsDocument:
    """Version ``version`` (None: the latest) of the session's results (``part``
    "sprint": a SprintDuro's sprint), ``class_name``'s rows only if given.
    ``LookupError``: no such session, no results yet, no such version or class."""
    session = await repository.get_session(db, session_id)
    event = await repository.get_event(db, session.event_id)
    stored = await repository.versions(db, session_id, part)
    if not stored and part == "sprint":
        raise LookupError(
            f"session {session_id} has no sprint results: "
            + ("its sprint is not classified yet" if session.type == "sprintduro"
               else "it is not a SprintDuro")
        )  # fmt: skip
    if not stored:
        raise LookupError(f"session {session_id} has no results yet: it has not ended")
    numbers = tuple(row.version for row in stored)
    chosen = (
        stored[-1]
        if version is None
        else next((row for row in stored if row.version == version), None)
    )
    if chosen is None:
        raise LookupError(
            f"session {session_id} has no results version {version}; versions: "
            + ", ".join(str(n) for n in numbers)
        )
    rows = rows_of(chosen.rows)
    if class_name is not None and not any(row.class_name == class_name for row in rows):
        classes = sorted({row.class_name for row in rows})
        raise LookupError(f"no class {class_name!r} in session {session_id}; classes: {classes}")
    return ResultsDocument(
        event=event.name,
        session_id=session_id,
        session=session.name,
        kind=session.type,
        version=chosen.version,
        versions=numbers,
        official=chosen.official,
        reason=chosen.reason,
        note=chosen.note,
        created_at=chosen.created_at,
        official_at=chosen.official_at,
        official_by=chosen.official_by,
        rows=tuple(of_class(rows, class_name)),
        class_name=class_name,
        part=part,
    )
