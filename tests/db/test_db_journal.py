"""The journal: exact round trips, order, sequence numbers and group commit."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.db import repository
from server.db.journal import JournalStore
from server.engine.events import (
    Entry,
    EntryChanged,
    EntryListSet,
    Flag,
    FlagChanged,
    InputEvent,
    LoopRole,
    PassingDetected,
)

CAR = Entry("07", "GT", "Seven Racing", ("Ann", "Bob"), ("07", "0707"), ("Bob",))

EVENTS: list[InputEvent] = [
    FlagChanged(at_us=0, flag=Flag.GREEN),
    PassingDetected(at_us=61_234_567, transponder="0012345", decoder_id="D1", passing_number=1),
    PassingDetected(at_us=61_234_999, transponder="7", decoder_id="D1", passing_number=None),
    PassingDetected(
        at_us=2**40, transponder="07", decoder_id="pit", passing_number=2**31, loop=LoopRole.PIT_IN
    ),
    PassingDetected(at_us=2**40 + 5, transponder="07", decoder_id="pit", loop=LoopRole.PIT_OUT),
    FlagChanged(at_us=3_600_000_000, flag=Flag.YELLOW),
    FlagChanged(at_us=3_700_000_000, flag=Flag.RED),
    FlagChanged(at_us=3_800_000_000, flag=Flag.CHECKERED),
    EntryListSet(at_us=0, entries=(CAR, Entry("8", "Cup", "Eight", transponders=("8",)))),
    EntryChanged(at_us=3_900_000_000, entry=Entry("9", "Cup", "Nine", ("Cy",)), actor="import"),
]


async def _session(sm: async_sessionmaker[AsyncSession], name: str = "Race") -> int:
    """A new session; its journal holds its (empty) entry list, read past it here."""
    async with sm() as db:
        return (await repository.create_session(db, "Journal Cup", "race", name, 240)).id


async def _read(journal: JournalStore, session_id: int) -> list[tuple[int, InputEvent]]:
    first, *rest = await journal.read(session_id)
    assert first[1] == EntryListSet(at_us=0, entries=())
    return rest


async def test_round_trip_of_every_event_type(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    journal = JournalStore(db_sessionmaker)
    session_id = await _session(db_sessionmaker)
    seqs = await journal.append(session_id, EVENTS, recorded_at_us=123)
    assert len(seqs) == len(EVENTS)
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert await _read(journal, session_id) == list(zip(seqs, EVENTS, strict=True))


async def test_appends_keep_order_and_sequence_across_batches(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    journal = JournalStore(db_sessionmaker)
    session_id = await _session(db_sessionmaker)
    seqs: list[int] = []
    for event_in in EVENTS:
        seqs += await journal.append(session_id, [event_in], recorded_at_us=event_in.at_us)
    assert seqs == sorted(seqs)
    assert [e for _seq, e in await _read(journal, session_id)] == EVENTS
    tail = await journal.read(session_id, after_seq=seqs[4])
    assert tail == list(zip(seqs[5:], EVENTS[5:], strict=True))


async def test_a_burst_of_500_is_one_transaction(
    db_engine: AsyncEngine, db_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    journal = JournalStore(db_sessionmaker)
    session_id = await _session(db_sessionmaker)
    burst = [
        PassingDetected(
            at_us=1_000 * i, transponder=str(1000 + i % 60), decoder_id="D1", passing_number=i
        )
        for i in range(500)
    ]
    commits: list[object] = []

    def count_commit(connection: object) -> None:
        commits.append(connection)

    event.listen(db_engine.sync_engine, "commit", count_commit)
    try:
        seqs = await journal.append(session_id, burst, recorded_at_us=42)
    finally:
        event.remove(db_engine.sync_engine, "commit", count_commit)
    assert len(commits) == 1
    assert len(seqs) == 500 and seqs == sorted(seqs) and len(set(seqs)) == 500
    assert await _read(journal, session_id) == list(zip(seqs, burst, strict=True))


async def test_sessions_have_separate_journals(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    journal = JournalStore(db_sessionmaker)
    first, second = await _session(db_sessionmaker, "R1"), await _session(db_sessionmaker, "R2")
    await journal.append(first, EVENTS[:3], recorded_at_us=1)
    await journal.append(second, EVENTS[3:], recorded_at_us=2)
    await journal.append(first, EVENTS[3:4], recorded_at_us=3)
    assert [e for _s, e in await _read(journal, first)] == [*EVENTS[:3], EVENTS[3]]
    assert [e for _s, e in await _read(journal, second)] == EVENTS[3:]
    assert await journal.append(first, [], recorded_at_us=4) == []


async def test_an_unknown_session_is_refused_and_nothing_is_written(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    journal = JournalStore(db_sessionmaker)
    with pytest.raises(IntegrityError):
        await journal.append(9999, EVENTS, recorded_at_us=1)
    assert await journal.read(9999) == []
