"""Events (race weekends) and their sessions.

Strategy: plain async functions over an ``AsyncSession``. Each write is a unit of work
and commits (``async with sessionmaker() as db: await create_session(db, ...)`` is
enough); the session factory does not expire objects on commit, so returned rows stay
readable. A missing row is :class:`NotFound` (a ``LookupError``) for the functions that
return a row; ``latest_session`` returns None when there is no session yet, which is
normal on a fresh database. A session is self-contained: its rule set is stored
resolved (every field, see ``server/engine/rule_spec.py``), its minimum lap copied from
the event, and its entry list journaled as its first event (``EntryListSet``), all in
the transaction that creates it, so nothing outside it can change its results later.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.entries import load_entries
from server.db.journal import journal_row
from server.db.models import EventRow, JournalRow, SessionRow, utcnow
from server.engine.events import EntryListSet, SessionKind
from server.engine.model import SessionConfig
from server.engine.rule_spec import resolved_spec, rules_from_spec

_US_PER_MINUTE = 60_000_000


class NotFound(LookupError):
    """No row with that id."""


async def ensure_event(db: AsyncSession, name: str) -> EventRow:
    """The event called ``name``, added (flushed, not committed) if missing."""
    if not name.strip():
        raise ValueError("an event needs a name")
    event = await db.scalar(select(EventRow).where(EventRow.name == name))
    if event is None:
        event = EventRow(name=name)
        db.add(event)
        await db.flush()
    return event


async def get_or_create_event(db: AsyncSession, name: str) -> EventRow:
    event = await ensure_event(db, name)
    await db.commit()
    return event


async def find_event(db: AsyncSession, name: str) -> EventRow | None:
    """The event called ``name``, or None."""
    return await db.scalar(select(EventRow).where(EventRow.name == name))


async def get_event(db: AsyncSession, event_id: int) -> EventRow:
    event = await db.get(EventRow, event_id)
    if event is None:
        raise NotFound(f"no event {event_id}")
    return event


async def create_session(
    db: AsyncSession,
    event_name: str,
    type: SessionKind | str,  # named after the column (and the brief), shadows the builtin
    name: str,
    length_minutes: int | None = None,
    rules: dict[str, Any] | None = None,
) -> SessionRow:
    """A new session of ``event_name`` (created if missing); ``type`` is a SessionKind.

    ``rules`` is ``{"preset": "img", <RuleSet field>: <JSON value>, ...}`` (None: IMG);
    an unknown preset or field, or a value of the wrong type, is a ``ValueError``. The
    event's entries (licences judged on the event date, else today) are journaled as the
    session's first event, in the same transaction.
    """
    kind = SessionKind(type)  # ValueError on anything else, before touching the database
    if length_minutes is not None and length_minutes <= 0:
        raise ValueError(f"length_minutes must be positive, not {length_minutes}")
    spec = resolved_spec(rules_from_spec(rules))
    event = await ensure_event(db, event_name)
    created_at = utcnow()
    session = SessionRow(
        event_id=event.id,
        type=kind.value,
        name=name,
        length_minutes=length_minutes,
        rules=spec,
        min_lap_ms=event.min_lap_ms,
        created_at=created_at,
    )
    db.add(session)
    await db.flush()
    await journal_entry_list(db, session, event.date or created_at.date())
    await db.commit()
    return session


async def journal_entry_list(db: AsyncSession, session: SessionRow, on_date: date) -> None:
    """Journal the event's entries as they are now as ``session``'s entry list (not
    committed). At time 0: it is where the session starts, before any other event."""
    entries = await load_entries(db, session.event_id, on_date)
    recorded_at_us = int(utcnow().timestamp() * 1_000_000)
    entry_list = EntryListSet(at_us=0, entries=tuple(entries))
    await db.execute(insert(JournalRow), [journal_row(session.id, entry_list, recorded_at_us)])


async def get_session(db: AsyncSession, session_id: int) -> SessionRow:
    session = await db.get(SessionRow, session_id)
    if session is None:
        raise NotFound(f"no session {session_id}")
    return session


async def list_sessions(db: AsyncSession, event_id: int | None = None) -> list[SessionRow]:
    """Sessions oldest first (all events, or one)."""
    statement = select(SessionRow).order_by(SessionRow.created_at, SessionRow.id)
    if event_id is not None:
        statement = statement.where(SessionRow.event_id == event_id)
    return list(await db.scalars(statement))


async def latest_session(db: AsyncSession) -> SessionRow | None:
    """The newest session (what the live page shows), or None on a fresh database."""
    statement = select(SessionRow).order_by(SessionRow.created_at.desc(), SessionRow.id.desc())
    return await db.scalar(statement.limit(1))


async def set_session_state(db: AsyncSession, session_id: int, state: str) -> SessionRow:
    session = await get_session(db, session_id)
    session.state = state
    await db.commit()
    return session


async def session_config(db: AsyncSession, session_id: int) -> SessionConfig:
    """The engine's configuration for a session (times converted to microseconds), from
    the session row alone."""
    session = await get_session(db, session_id)
    minutes = session.length_minutes
    return SessionConfig(
        session_id=session.id,
        kind=SessionKind(session.type),
        name=session.name,
        length_us=None if minutes is None else minutes * _US_PER_MINUTE,
        min_lap_us=session.min_lap_ms * 1000,
        rules=rules_from_spec(session.rules),
    )
