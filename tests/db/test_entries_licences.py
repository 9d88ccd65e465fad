"""Licences and medicals from the entry list: flagged on the event date, to race control."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository
from server.db.entries import load_entries
from server.service.entries_import import EntriesImportError, import_entries
from tests.fixtures.app_server import running_server

EVENT_DAY = date(2026, 5, 16)
ENTRIES = (
    "number,class,team,drivers,transponder,licence_expires,medical_expires\n"
    # Ann fine; Bob's licence expired the day before; Cy has no medical on file
    "7,A,Seven,Ann;Bob;Cy,1007,2026-12-31;2026-05-15;2027-01-01,2026-12-31;2026-12-31;\n"
    # a date exactly on the event day is still valid
    "8,B,Eight,Di,1008,2026-05-16,2026-05-16\n"
)


async def test_flagged_on_the_event_date(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    report = await import_entries(db_sessionmaker, ENTRIES, "Licence Cup", EVENT_DAY)
    async with db_sessionmaker() as db:
        entries = {e.number: e for e in await load_entries(db, report.event_id, EVENT_DAY)}
        later = {e.number: e for e in await load_entries(db, report.event_id, date(2026, 6, 1))}
        undated = await load_entries(db, report.event_id)
    assert entries["7"].flagged_drivers == ("Bob", "Cy")
    assert entries["8"].flagged_drivers == ()
    assert later["8"].flagged_drivers == ("Di",)
    assert all(e.flagged_drivers == () for e in undated)


async def test_an_entry_list_without_licence_columns_flags_nobody(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    text = "number,class,team,drivers,transponder\n9,A,Nine,Ed;Flo,1009\n"
    report = await import_entries(db_sessionmaker, text, "Plain Cup")
    async with db_sessionmaker() as db:
        (entry,) = await load_entries(db, report.event_id, EVENT_DAY)
    assert entry.flagged_drivers == ()


async def test_a_drivers_latest_licence_record_counts_at_every_event(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # Spring: Ed's licence runs to May; Summer's list renews it to next year; Autumn's
    # list has no licence columns, yet Ed and Flo are checked on the record they have
    header = "number,class,team,drivers,transponder,licence_expires,medical_expires\n"
    await import_entries(
        db_sessionmaker,
        header + "9,A,Nine,Ed;Flo,1009,2026-05-31;2026-05-31,2027-01-01;\n",
        "Spring",
    )
    await import_entries(
        db_sessionmaker, header + "9,A,Nine,Ed,1009,2027-05-31,2027-01-01\n", "Summer"
    )
    autumn = await import_entries(
        db_sessionmaker,
        "number,class,team,drivers,transponder\n9,A,Nine,Ed;Flo;Gil,1009\n",
        "Autumn",
    )
    async with db_sessionmaker() as db:
        (entry,) = await load_entries(db, autumn.event_id, date(2026, 9, 1))
    # Ed: renewed at Summer; Flo: Spring's licence expired, no medical; Gil: no record
    assert entry.flagged_drivers == ("Flo",)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("7,A,S,Ann;Bob,1,2026-01-01,2026-01-01", "1 dates for 2 drivers"),
        ("7,A,S,Ann,1,31/12/2026,2026-01-01", "not a date"),
    ],
)
async def test_bad_licence_dates_are_reported(
    db_sessionmaker: async_sessionmaker[AsyncSession], row: str, message: str
) -> None:
    text = "number,class,team,drivers,transponder,licence_expires,medical_expires\n" + row
    with pytest.raises(EntriesImportError, match=message):
        await import_entries(db_sessionmaker, text, "Bad Cup")


async def test_race_control_is_alerted_to_a_flagged_starting_driver(
    db_url: str, db_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    flagged_starter = (
        "number,class,team,drivers,transponder,licence_expires,medical_expires\n"
        "5,A,Five,Gus;Hal,1005,2020-01-01;2030-01-01,2030-01-01;2030-01-01\n"
    )
    await import_entries(db_sessionmaker, flagged_starter, "Alert Cup", date.today())
    async with db_sessionmaker() as db:
        token = await repository.create_token(db, "control", "t")
    async with running_server(db_url, token) as srv, srv.client() as api:
        created = await api.post(
            "/api/v1/sessions",
            json={"event": "Alert Cup", "type": "race", "name": "R", "length_minutes": 60},
        )
        sid = created.json()["id"]
        await api.post(f"/api/v1/sessions/{sid}/flag", json={"flag": "green"})
        assert srv.race.engine is not None
        kinds = {(a.kind, a.number) for a in srv.race.engine.alerts()}
        assert any(kind.startswith("licence") and number == "5" for kind, number in kinds)
