"""A race's starting grid, as the stewards publish it: from its event's latest qualifying
standings and the contact incidents of the event's practice and qualifying sessions (the
grid rules themselves are the engine's, ``server.engine.grid``).

Strategy: the race service hands over how to read a session's standings (the timed
engine's, else the stored ones, None while they are rebuilt), its contacts and its entries,
so this module holds no race state; a past session's contacts come from its journal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository
from server.engine.events import (
    EntryChanged,
    EntryListSet,
    IncidentReported,
    InputEvent,
    SessionKind,
    entry_list_first,
)
from server.engine.grid import ContactIncident, GridRow, grid
from server.engine.model import Entry, StandingRow


class GridUnavailable(ValueError):
    """No grid: the session is not a race, or its event has no qualifying."""


@dataclass(frozen=True, slots=True)
class GridResult:
    session_id: int
    qualifying_session_id: int
    qualifying_name: str
    rows: list[GridRow]
    event_name: str = ""
    race_name: str = ""


async def race_grid(
    sessionmaker: async_sessionmaker[AsyncSession],
    session_id: int,
    standings_of: Callable[[int], Awaitable[list[StandingRow] | None]],
    contacts_of: Callable[[int, str], Awaitable[list[ContactIncident]]],
    entries_of: Callable[[int], Awaitable[list[Entry]]],
) -> GridResult | None:
    """The grid of race ``session_id``; None while the qualifying standings are being
    rebuilt. ``GridUnavailable`` when there is no grid to give, ``LookupError`` for an
    unknown session."""
    async with sessionmaker() as db:
        session = await repository.get_session(db, session_id)
        if SessionKind(session.type) not in (SessionKind.RACE, SessionKind.SPRINTDURO):
            raise GridUnavailable(f"session {session_id} is a {session.type}, not a race")
        siblings = await repository.list_sessions(db, session.event_id)
        event_name = (await repository.get_event(db, session.event_id)).name
    qualifying = [s for s in siblings if s.type == SessionKind.QUALIFYING.value]
    if not qualifying:
        raise GridUnavailable(
            f"the event of session {session_id} has no qualifying session: no grid yet"
        )
    chosen = qualifying[-1]
    rows = await standings_of(chosen.id)
    if rows is None:
        return None
    contacts: list[ContactIncident] = []
    kinds = (SessionKind.PRACTICE.value, SessionKind.QUALIFYING.value)
    for other in siblings:
        if other.type in kinds:
            contacts += await contacts_of(other.id, other.name)
    entered = [(e.number, e.class_name, e.team) for e in await entries_of(session_id)]
    rows_out = grid(rows, entered, contacts)
    return GridResult(session_id, chosen.id, chosen.name, rows_out, event_name, session.name)


def journal_contacts(events: list[InputEvent], name: str) -> list[ContactIncident]:
    """The contact incidents a session's journal reports (the reports the engine
    recorded: every car entered)."""
    entered: set[str] = set()
    contacts: list[ContactIncident] = []
    for event in entry_list_first(events):
        if isinstance(event, EntryListSet):
            entered |= {entry.number for entry in event.entries}
        elif isinstance(event, EntryChanged):
            entered.add(event.entry.number)
        elif (
            isinstance(event, IncidentReported)
            and event.contact
            and event.cars
            and all(number in entered for number in event.cars)
        ):
            cars = tuple(dict.fromkeys(event.cars))
            contacts.append(ContactIncident(name, event.occurred, event.place, cars))
    return contacts
