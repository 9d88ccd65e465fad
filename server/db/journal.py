"""The journal: every input event of a session, durable before anything acts on it.

Strategy: ``append`` writes a whole batch in ONE transaction (group commit), so a
burst of passings costs one fsync, and returns the sequence numbers the database
assigned, in the batch's order. The payload is the event's ``to_record`` dict minus its
``type`` (which has its own column), so ``read`` rebuilds exactly the events that were
appended. Sequence numbers are global, increasing, never reused; they order a
session's events because one process (the race service) is the only writer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import JournalRow
from server.engine.events import InputEvent, from_record, to_record

_SQLITE_INSERT = (
    "INSERT INTO journal (session_id, type, payload, at_us, recorded_at_us) VALUES (?, ?, ?, ?, ?)"
)

_SQLITE_READ = (
    "SELECT seq, type, payload FROM journal WHERE session_id = ? AND seq > ? ORDER BY seq"
)


def _sqlite_params(row: dict[str, Any]) -> tuple[int, str, str, int, int]:
    payload = json.dumps(row["payload"])  # what SQLAlchemy's JSON type writes
    return row["session_id"], row["type"], payload, row["at_us"], row["recorded_at_us"]


def journal_row(
    session_id: int,
    event: InputEvent,
    recorded_at_us: int,
    record: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The journal's row for ``event``; ``record``: its ``to_record``, if already made."""
    payload = to_record(event) if record is None else dict(record)
    return {
        "session_id": session_id,
        "type": payload.pop("type"),
        "payload": payload,
        "at_us": event.at_us,
        "recorded_at_us": recorded_at_us,
    }


class JournalStore:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def append(
        self,
        session_id: int,
        events: Sequence[InputEvent],
        recorded_at_us: int,
        records: Sequence[dict[str, Any]] | None = None,
    ) -> list[int]:
        """Journal ``events`` atomically; their sequence numbers, in the same order.
        ``records``: their ``to_record`` dicts when the caller made them already."""
        if not events:
            return []
        if records is None:
            rows = [journal_row(session_id, event, recorded_at_us) for event in events]
        else:
            pairs = zip(events, records, strict=True)
            rows = [journal_row(session_id, e, recorded_at_us, r) for e, r in pairs]
        async with self._sessionmaker() as db, db.begin():
            connection = await db.connection()
            if connection.dialect.name == "sqlite":
                # SQLite cannot order a multi-row RETURNING, so SQLAlchemy would insert row
                # by row. But a SQLite writer holds the database's only write lock from its
                # first insert to its commit: the batch gets consecutive seqs ending at max.
                # one executemany of plain tuples, the payload serialised as the JSON
                # column would: the ORM's bulk insert cost a burst ~3x as much (ingest)
                await connection.exec_driver_sql(_SQLITE_INSERT, [_sqlite_params(r) for r in rows])
                last = await connection.scalar(select(func.max(JournalRow.seq)))
                assert last is not None
                return list(range(last - len(rows) + 1, last + 1))
            # sort_by_parameter_order: RETURNING of a multi-row INSERT is otherwise unordered
            statement = insert(JournalRow).returning(JournalRow.seq, sort_by_parameter_order=True)
            result = await db.execute(statement, rows)
            return list(result.scalars())

    async def last_seq(self, session_id: int) -> int:
        """The seq of the session's latest event (0: none yet); an index lookup."""
        async with self._sessionmaker() as db:
            return await last_journal_seq(db, session_id)

    async def read(self, session_id: int, after_seq: int = 0) -> list[tuple[int, InputEvent]]:
        """The session's events in journal order (only those after ``after_seq``, if given)."""
        statement = (
            select(JournalRow.seq, JournalRow.type, JournalRow.payload)
            .where(JournalRow.session_id == session_id, JournalRow.seq > after_seq)
            .order_by(JournalRow.seq)
        )
        async with self._sessionmaker() as db:
            connection = await db.connection()
            if connection.dialect.name == "sqlite":
                # the rows as the driver gives them, each payload parsed once: a restart's
                # replay reads the whole journal (the ORM's rows and JSON type cost ~3x)
                rows = await connection.exec_driver_sql(_SQLITE_READ, (session_id, after_seq))
                typed = cast("Iterable[tuple[int, str, str]]", rows)  # untyped raw SQL
                return [(seq, _event(kind, json.loads(payload))) for seq, kind, payload in typed]
            result = await db.execute(statement)
            return [(seq, _event(kind, payload)) for seq, kind, payload in result]


def _event(kind: str, payload: dict[str, Any]) -> InputEvent:
    payload["type"] = kind
    return from_record(payload)


async def last_journal_seq(db: AsyncSession, session_id: int) -> int:
    """The seq of the session's latest event (0: none yet); an index lookup, no read."""
    statement = select(func.max(JournalRow.seq)).where(JournalRow.session_id == session_id)
    return int(await db.scalar(statement) or 0)
