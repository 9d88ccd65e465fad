"""Past sessions' standings, stored so that reading them never replays a journal.

Strategy: one row per session (``session_results``): the standings as plain JSON and the
journal seq they were computed at. A stored row is current while that seq is still the
session's last one (``last_journal_seq``, an index lookup); otherwise the caller rebuilds
it from the journal, off the event loop. Rows are ``StandingRow`` field for field, enums
as their values, so reading one back gives equal rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.db.journal import last_journal_seq
from server.db.models import SessionResultRow, utcnow
from server.db.sessions import get_session
from server.engine.model import (
    CarState,
    Penalty,
    PenaltyState,
    ProposedPenalty,
    StandingRow,
    Status,
    StintClock,
)
from server.engine.rules import PenaltyKind


@dataclass(frozen=True, slots=True)
class StoredResults:
    seq: int  # the journal seq they were computed at (0: an empty journal)
    standings: list[StandingRow]


def standings_json(rows: Sequence[StandingRow]) -> list[dict[str, Any]]:
    return [_plain(asdict(row)) for row in rows]


def standings_of(data: Sequence[dict[str, Any]]) -> list[StandingRow]:
    """Inverse of :func:`standings_json`."""
    return [_row(item) for item in data]


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _row(data: dict[str, Any]) -> StandingRow:
    values = dict(data)
    values["state"] = CarState(values["state"])
    values["stint_clock"] = StintClock(values["stint_clock"])
    values["penalties_proposed"] = tuple(
        ProposedPenalty(**{**p, "kind": PenaltyKind(p["kind"])})
        for p in values["penalties_proposed"]
    )
    values["penalties"] = tuple(
        Penalty(**{**p, "state": PenaltyState(p["state"])}) for p in values.get("penalties", ())
    )
    values["status"] = Status(values.get("status", Status.RUNNING.value))
    values["last_sectors_us"] = tuple(values["last_sectors_us"])
    values["best_sectors_us"] = tuple(values["best_sectors_us"])
    return StandingRow(**values)


async def save_results(
    db: AsyncSession, session_id: int, seq: int, rows: Sequence[StandingRow]
) -> None:
    """Store (or replace) the session's standings as computed at journal ``seq``."""
    stored = await db.get(SessionResultRow, session_id)
    if stored is None:
        stored = SessionResultRow(session_id=session_id)
        db.add(stored)
    stored.seq, stored.standings, stored.computed_at = seq, standings_json(rows), utcnow()
    await db.commit()


async def current_results(db: AsyncSession, session_id: int) -> StoredResults | None:
    """The stored standings if they are still those of the session's whole journal, else
    None (never stored, or the journal grew since). ``NotFound`` for an unknown session."""
    await get_session(db, session_id)
    stored = await db.get(SessionResultRow, session_id)
    if stored is None or stored.seq != await last_journal_seq(db, session_id):
        return None
    return StoredResults(stored.seq, standings_of(stored.standings))
