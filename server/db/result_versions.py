"""Numbered versions of a finished session's results (docs/results.md).

Strategy: plain async functions over an ``AsyncSession``; each write commits. A version
is never rewritten except to sign it official (once); a later change is a new row with
the next number. ``add_version`` numbers it from the latest one in the same
transaction, and the unique (session, version) constraint refuses a second writer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import ResultVersionRow

PARTS = ("race", "sprint")  # a SprintDuro's endurance result is its "race" part


async def versions(db: AsyncSession, session_id: int, part: str = "race") -> list[ResultVersionRow]:
    """The session's versions of ``part``, oldest first."""
    statement = (
        select(ResultVersionRow)
        .where(ResultVersionRow.session_id == session_id, ResultVersionRow.part == part)
        .order_by(ResultVersionRow.version)
    )
    return list(await db.scalars(statement))


async def latest_version(
    db: AsyncSession, session_id: int, part: str = "race"
) -> ResultVersionRow | None:
    statement = (
        select(ResultVersionRow)
        .where(ResultVersionRow.session_id == session_id, ResultVersionRow.part == part)
        .order_by(ResultVersionRow.version.desc())
        .limit(1)
    )
    return await db.scalar(statement)


async def add_version(
    db: AsyncSession,
    session_id: int,
    rows: list[dict[str, Any]],
    *,
    reason: str,
    actor: str,
    seq: int,
    at: datetime,
    part: str = "race",
) -> ResultVersionRow:
    """The next version of the session's results (of ``part``: its race, or a
    SprintDuro's sprint, numbered on their own). A part whose results were signed
    official stays official: a later version is an amendment of official results."""
    if part not in PARTS:
        raise ValueError(f"results part {part!r} is not one of {PARTS}")
    latest = await latest_version(db, session_id, part)
    row = ResultVersionRow(
        session_id=session_id,
        part=part,
        version=1 if latest is None else latest.version + 1,
        reason=reason,
        actor=actor,
        seq=seq,
        created_at=at,
        rows=rows,
        official=latest is not None and latest.official,
    )
    db.add(row)
    await db.commit()
    return row


async def sign_official(
    db: AsyncSession, version: ResultVersionRow, actor: str, note: str, at: datetime
) -> ResultVersionRow:
    merged = await db.merge(version)
    merged.official, merged.official_at, merged.official_by = True, at, actor
    merged.note = note
    await db.commit()
    return merged


async def version_marks(db: AsyncSession) -> dict[tuple[int, str], tuple[int, int]]:
    """Per (session, part): the latest version number and how many versions are signed,
    which is what changes when its page of results must be published again."""
    statement = select(
        ResultVersionRow.session_id,
        ResultVersionRow.part,
        func.max(ResultVersionRow.version),
        func.count(ResultVersionRow.official_at),
    ).group_by(ResultVersionRow.session_id, ResultVersionRow.part)
    rows = await db.execute(statement)
    return {(sid, part): (latest, signed) for sid, part, latest, signed in rows}
