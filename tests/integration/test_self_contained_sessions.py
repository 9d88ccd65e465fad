"""A session is a self-contained record: its results come from its own rows and journal.

Real servers (uvicorn) on SQLite and PostgreSQL, restarted between the halves of each
test; passings are submitted as the decoder ingest would, on a clock the test sets, so
every standing is deterministic.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from server.db.connection import create_engine, sessionmaker
from server.db.journal import JournalStore
from server.db.models import JournalRow, SessionResultRow
from server.engine import (
    EntryChanged,
    EntryListSet,
    Flag,
    FlagChanged,
    InputEvent,
    PassingDetected,
    PitInMarked,
    PitOutMarked,
    RaceEngine,
    SessionConfig,
)
from server.engine.rules import MINUTE_US, PRESETS
from server.service import race_service
from server.service.entries_import import import_entries
from tests.fixtures.app_server import RunningServer, prepare_database, running_server, wait_until

S = 1_000_000
EVENT = "Record Cup"
ENTRIES = (
    "number,class,team,drivers,transponder\n"
    "1,A,One Racing,Ann;Bob,T101\n"
    "2,A,Two Racing,Cy,T102\n"
    "3,B,Three Racing,Di;Ed,T103\n"
)
# car 1 changes class, cars 2 and 3 swap transponders, car 3 loses a driver
CHANGED = (
    "number,class,team,drivers,transponder\n"
    "1,B,One Racing,Ann;Bob,T101\n"
    "2,A,Two Racing,Cy,T103\n"
    "3,B,Three Racing,Di,T102\n"
)


class SetClock:
    """The server's clock, set by the test (session time base, microseconds)."""

    def __init__(self, at_us: int = 0) -> None:
        self.at_us = at_us

    def now_us(self) -> int:
        return self.at_us


async def _create(srv: RunningServer, rules: dict[str, Any] | None = None) -> int:
    async with srv.client() as api:
        body = {"event": EVENT, "type": "race", "name": "Race", "length_minutes": 60}
        answer = await api.post("/api/v1/sessions", json={**body, "rules": rules})
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])


async def _feed(srv: RunningServer, clock: SetClock, events: list[InputEvent]) -> None:
    for event in events:
        clock.at_us = max(clock.at_us, event.at_us)
        await srv.race.submit(event)


def _seen(transponder: str, at_s: float) -> PassingDetected:
    return PassingDetected(at_us=round(at_s * S), transponder=transponder, decoder_id="D1")


def _race(until_s: int, *transponders: str) -> list[InputEvent]:
    """Green at 1 s, then each transponder every 100 s (a few seconds apart)."""
    events: list[InputEvent] = [FlagChanged(S, flag=Flag.GREEN)]
    for start in range(10, until_s, 100):
        events += [_seen(code, start + 3 * i) for i, code in enumerate(transponders)]
    return events


async def _standings(srv: RunningServer, session_id: int) -> list[dict[str, Any]]:
    async with srv.client() as api:
        answer = await api.get(f"/api/v1/sessions/{session_id}/standings")
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()
    return rows


async def _journal(db_url: str, session_id: int) -> list[InputEvent]:
    engine = create_engine(db_url)
    try:
        return [e for _seq, e in await JournalStore(sessionmaker(engine)).read(session_id)]
    finally:
        await engine.dispose()


async def test_results_survive_a_changed_entry_list_and_a_restart(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, EVENT)
    clock = SetClock()
    async with running_server(db_url, token, clock=clock) as srv:
        session_id = await _create(srv)
        await _feed(srv, clock, _race(400, "T101", "T102", "T103"))
        async with srv.client() as api:
            await api.post(f"/api/v1/sessions/{session_id}/flag", json={"flag": "checkered"})
        await _feed(srv, clock, [_seen("T101", 420), _seen("T102", 423), _seen("T103", 426)])
        assert srv.race.engine is not None and srv.race.engine.status().finished
        before = await _standings(srv, session_id)
        # the organiser re-imports a corrected list while the server runs
        db = sessionmaker(create_engine(db_url))
        await import_entries(db, CHANGED, EVENT, on_imported=srv.race.entries_changed)
        assert await _standings(srv, session_id) == before
    assert [r["class"] for r in before] == ["A", "A", "B"]
    assert [r["laps"] for r in before] == [4, 4, 3]  # car 3 crossed as the flag came out

    async with running_server(db_url, token, clock=clock) as srv:
        assert srv.race.session_id == session_id
        assert await _standings(srv, session_id) == before
    journal = await _journal(db_url, session_id)
    assert isinstance(journal[0], EntryListSet) and len(journal[0].entries) == 3
    assert not any(isinstance(e, EntryChanged) for e in journal)  # finished: nothing to do


async def test_a_preset_changed_in_code_does_not_change_a_past_session(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await prepare_database(db_url, ENTRIES, EVENT)
    clock = SetClock()
    wcma = PRESETS["wcma"]
    stop = [PitInMarked("1", 150 * S, "marshal"), PitOutMarked("1", 210 * S, "marshal")]
    async with running_server(db_url, token, clock=clock) as srv:
        session_id = await _create(srv, {"preset": "wcma"})
        events = _race(400, "T101", "T102")
        await _feed(srv, clock, sorted([*events, *stop], key=lambda e: e.at_us))
        assert srv.race.engine is not None
        rows_before = srv.race.engine.standings()
        before = await _standings(srv, session_id)
    penalties = [p for r in rows_before for p in r.penalties_proposed]
    assert [p.number for p in penalties] == ["1"]  # a 60 s stop under wcma's 5 min

    # the series changes its rules in code: a 30 s minimum stop, no penalty
    monkeypatch.setitem(PRESETS, "wcma", replace(wcma, min_stop_us=MINUTE_US // 2))
    async with running_server(db_url, token, clock=clock) as srv:
        assert srv.race.engine is not None
        assert srv.race.engine.config.rules == wcma
        assert srv.race.engine.standings() == rows_before
        assert await _standings(srv, session_id) == before
        fresh = await _create(srv, {"preset": "wcma"})  # a new session gets the new rules
        assert srv.race.engine is not None and srv.race.session_id == fresh
        assert srv.race.engine.config.rules.min_stop_us == MINUTE_US // 2


async def test_entry_changes_during_a_session_are_journaled_and_applied(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, EVENT)
    clock = SetClock()
    swapped = ENTRIES.replace("1,A,One Racing,Ann;Bob,T101", "1,A,One Racing,Ann;Bob,T901")
    async with running_server(db_url, token, clock=clock) as srv:
        session_id = await _create(srv)
        await _feed(srv, clock, _race(250, "T101", "T102"))  # crossings at 10, 110, 210
        clock.at_us = 250 * S
        db = sessionmaker(create_engine(db_url))
        await import_entries(db, swapped, EVENT, on_imported=srv.race.entries_changed)
        # the new transponder scores from the change on; the old one is nobody's
        await _feed(srv, clock, [_seen("T901", 310), _seen("T101", 312), _seen("T901", 410)])
        assert srv.race.engine is not None
        assert "T101" in srv.race.engine.unknown_transponders()
        # an import from another process (the CLI) reaches the service by its watch
        moved = swapped.replace("2,A,Two Racing", "2,B,Two Racing")
        await import_entries(db, moved, EVENT)
        await wait_until(lambda: srv.race.entries[1].class_name == "B")
        before = await _standings(srv, session_id)
    one = next(r for r in before if r["number"] == "1")
    two = next(r for r in before if r["number"] == "2")
    assert (one["laps"], one["last_lap_ms"]) == (4, 100_000.0)
    assert two["class"] == "B"
    journal = await _journal(db_url, session_id)
    changes = [e for e in journal if isinstance(e, EntryChanged)]
    assert [(c.entry.number, c.entry.transponders, c.at_us) for c in changes[:1]] == [
        ("1", ("T901",), 250 * S)
    ]
    assert [(c.entry.number, c.entry.class_name, c.actor) for c in changes[1:]] == [
        ("2", "B", "import")
    ]

    async with running_server(db_url, token, clock=clock) as srv:
        assert await _standings(srv, session_id) == before
    assert await _journal(db_url, session_id) == journal  # the restart journaled nothing


async def test_past_standings_are_read_not_replayed(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await prepare_database(db_url, ENTRIES, EVENT)
    clock = SetClock()
    reads: list[int] = []
    replay_threads: list[str] = []
    real_read, real_replayed = JournalStore.read, race_service.replayed

    async def counted_read(self: JournalStore, session_id: int, after_seq: int = 0) -> Any:
        reads.append(session_id)
        return await real_read(self, session_id, after_seq)

    def watched_replayed(
        config: SessionConfig, events: list[InputEvent], now_us: int
    ) -> RaceEngine:
        replay_threads.append(threading.current_thread().name)
        return real_replayed(config, events, now_us)

    monkeypatch.setattr(JournalStore, "read", counted_read)
    monkeypatch.setattr(race_service, "replayed", watched_replayed)
    async with running_server(db_url, token, clock=clock) as srv:
        first = await _create(srv)
        await _feed(srv, clock, _race(400, "T101", "T102", "T103"))
        before = await _standings(srv, first)
        await _create(srv)  # the first session ends: its standings are stored
        reads.clear()
        assert await _standings(srv, first) == before
        assert reads == []  # read from the stored row, no journal read, no replay

        # a row missing (a session from before results were stored): rebuilt off the loop
        engine = create_engine(db_url)
        async with sessionmaker(engine)() as db, db.begin():
            await db.execute(delete(SessionResultRow))
        replay_threads.clear()
        async with srv.client() as api:
            answer = await api.get(f"/api/v1/sessions/{first}/standings")
            assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"

            async def rebuilt() -> bool:
                again = await api.get(f"/api/v1/sessions/{first}/standings")
                return again.status_code == 200 and again.json() == before

            await wait_until(rebuilt)
            assert (await api.get("/api/v1/sessions/999/standings")).status_code == 404
        async with sessionmaker(engine)() as db:
            assert await db.scalar(select(func.count()).select_from(SessionResultRow)) == 1
        await engine.dispose()
    assert reads == [first]  # one rebuild, then the stored row again
    assert replay_threads and threading.main_thread().name not in replay_threads


async def test_a_journal_from_before_entries_were_journaled_still_loads(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, EVENT)
    clock = SetClock()
    async with running_server(db_url, token, clock=clock) as srv:
        session_id = await _create(srv)
        await _feed(srv, clock, _race(300, "T101", "T102", "T103"))
        before = await _standings(srv, session_id)
    engine = create_engine(db_url)
    async with sessionmaker(engine)() as db, db.begin():  # as an older version wrote it
        await db.execute(delete(JournalRow).where(JournalRow.type == "EntryListSet"))
    await engine.dispose()
    for _restart in range(2):
        async with running_server(db_url, token, clock=clock) as srv:
            assert await _standings(srv, session_id) == before
    journal = await _journal(db_url, session_id)
    assert [type(e) for e in journal].count(EntryListSet) == 1  # journaled once
    assert isinstance(journal[-1], EntryListSet)
