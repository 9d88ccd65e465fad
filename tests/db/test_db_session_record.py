"""What a session keeps of its own: the entry list journaled first, the minimum lap, and
its standings stored with the journal seq they were computed at."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository
from server.db.journal import JournalStore
from server.db.models import EventRow
from server.db.results import standings_json, standings_of
from server.engine import (
    Entry,
    EntryListSet,
    Flag,
    FlagChanged,
    PassingDetected,
    PitInMarked,
    PitOutMarked,
    RaceEngine,
    SessionConfig,
    SessionKind,
)
from server.engine.rules import PRESETS
from server.service.entries_import import import_entries

SM = async_sessionmaker[AsyncSession]
EVENT_DAY = date(2026, 5, 16)
ENTRIES = (
    "number,class,team,drivers,transponder,licence_expires,medical_expires\n"
    "7,A,Seven,Ann;Bob,1007;2007,2026-12-31;2026-05-15,2026-12-31;2026-12-31\n"
    "8,B,Eight,Di,1008,2026-05-16,2026-05-16\n"
)
S = 1_000_000


async def test_the_entry_list_is_the_first_event_of_a_new_session(db_sessionmaker: SM) -> None:
    report = await import_entries(db_sessionmaker, ENTRIES, "Record Cup", EVENT_DAY)
    async with db_sessionmaker() as db, db.begin():
        await db.execute(update(EventRow).values(min_lap_ms=45_000))
    async with db_sessionmaker() as db:
        row = await repository.create_session(db, "Record Cup", "race", "Race", 240)
    assert row.event_id == report.event_id
    journal = await JournalStore(db_sessionmaker).read(row.id)
    assert [event for _seq, event in journal] == [
        EntryListSet(
            at_us=0,
            entries=(
                # Bob's licence expired the day before the event: flagged in the record
                Entry("7", "A", "Seven", ("Ann", "Bob"), ("1007", "2007"), ("Bob",)),
                Entry("8", "B", "Eight", ("Di",), ("1008",)),
            ),
        )
    ]
    # the event changes afterwards; the session keeps what it was created with
    async with db_sessionmaker() as db, db.begin():
        await db.execute(update(EventRow).values(min_lap_ms=90_000))
    async with db_sessionmaker() as db:
        assert (await repository.session_config(db, row.id)).min_lap_us == 45_000_000


async def test_stored_standings_are_current_until_the_journal_grows(db_sessionmaker: SM) -> None:
    config = SessionConfig(1, SessionKind.RACE, length_us=3600 * S, rules=PRESETS["wcma"])
    engine = RaceEngine(config, [Entry("7", "A", "Seven", ("Ann",), ("T7",))])
    for event in (
        FlagChanged(S, Flag.GREEN),
        PassingDetected(10 * S, "T7", "D1"),
        PitInMarked("7", 50 * S, "marshal"),
        PitOutMarked("7", 110 * S, "marshal"),
        PassingDetected(150 * S, "T7", "D1"),
    ):
        engine.apply(event)
    rows = engine.standings()
    assert rows[0].penalties_proposed  # enums and nested records survive the JSON
    assert standings_of(json.loads(json.dumps(standings_json(rows)))) == rows

    journal = JournalStore(db_sessionmaker)
    async with db_sessionmaker() as db:
        session_id = (await repository.create_session(db, "Record Cup", "race", "R", 60)).id
    seq = await journal.last_seq(session_id)
    assert seq > 0  # the entry list
    async with db_sessionmaker() as db:
        assert await repository.current_results(db, session_id) is None
        await repository.save_results(db, session_id, seq, rows)
    async with db_sessionmaker() as db:
        stored = await repository.current_results(db, session_id)
    assert stored is not None and (stored.seq, stored.standings) == (seq, rows)
    await journal.append(session_id, [FlagChanged(2 * S, Flag.YELLOW)], recorded_at_us=1)
    async with db_sessionmaker() as db:
        assert await repository.current_results(db, session_id) is None  # stale now
        await repository.save_results(db, session_id, await journal.last_seq(session_id), [])
        stored = await repository.current_results(db, session_id)
    assert stored is not None and stored.standings == []
