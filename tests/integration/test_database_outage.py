"""PostgreSQL goes away mid-race: timing goes on, events are spooled, nothing is lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from server.db.connection import create_engine, sessionmaker
from server.db.journal import JournalStore
from server.db.models import AuditRow
from server.engine.events import PassingDetected
from server.web import contexts
from tests.fixtures.app_server import prepare_database, running_server, wait_until
from tests.fixtures.databases import set_postgres_connections
from timing_adapters.clock import WallClock
from timing_adapters.emulator.server import P3Emulator

ENTRIES = "number,class,team,drivers,transponder\n" + "\n".join(
    f"{n},A,Team {n},Driver {n},{1000 + n}" for n in range(1, 6)
)
S = 1_000_000


@pytest.mark.parametrize("empty_db_url", ["postgres"], indirect=True)
async def test_outage_spools_and_drains_in_order(db_url: str, tmp_path: Path) -> None:
    token = await prepare_database(db_url, ENTRIES, "Outage Cup")
    clock = WallClock()
    emulator = P3Emulator(clock=clock, status_interval_s=0.2)
    port = await emulator.start()
    spool = tmp_path / "spool.jsonl"
    t0 = clock.now_us() + 5 * S
    lap = 0

    def lap_of_everyone() -> None:
        nonlocal lap
        for n in range(1, 6):
            emulator.push_passing(1000 + n, t0 + lap * 60 * S + n * S)
        lap += 1

    try:
        async with (
            running_server(
                db_url, token, decoders=[f"tcp://127.0.0.1:{port}"], spool_path=str(spool)
            ) as srv,
            srv.client() as api,
        ):
            created = await api.post(
                "/api/v1/sessions", json={"event": "Outage Cup", "type": "race", "name": "R"}
            )
            sid = created.json()["id"]
            await api.post(f"/api/v1/sessions/{sid}/flag", json={"flag": "green"})
            await emulator.wait_for_clients(1)
            lap_of_everyone()
            lap_of_everyone()
            await wait_until(lambda: srv.race.journaled == 11)

            await set_postgres_connections(db_url, allowed=False)
            lap_of_everyone()
            lap_of_everyone()
            # timing goes on: the laps are applied, and held in the spool
            await wait_until(lambda: sum(r.laps for r in srv.race.standings()) == 15)
            assert srv.race.database_ok is False
            assert spool.exists() and len(spool.read_text().splitlines()) == 10
            # race control is told, on the decoders panel that every update re-renders
            page = srv.state.renderer.page("control.html", contexts.control(srv.race))
            assert "Database unreachable since" in page
            # and race control keeps working: a flag and a message with an API token answer
            # 200, their events spooled, their audit lines held
            yellow = await api.post(f"/api/v1/sessions/{sid}/flag", json={"flag": "yellow"})
            assert yellow.status_code == 200 and yellow.json()["flag"] == "yellow"
            posted = await api.post("/control/messages", data={"text": "Debris at turn 3"})
            assert posted.status_code == 200, posted.text
            assert srv.race.audit.holding

            await set_postgres_connections(db_url, allowed=True)
            # the drain removes the spool file, then says the database is back
            await wait_until(lambda: not spool.exists() and srv.race.database_ok, timeout=30)
            assert srv.race.database_ok is True
            page = srv.state.renderer.page("control.html", contexts.control(srv.race))
            assert "Database unreachable" not in page
            await wait_until(lambda: not srv.race.audit.holding, timeout=30)
            lap_of_everyone()
            await wait_until(lambda: srv.race.journaled == 28)
            before = (await api.get(f"/api/v1/sessions/{sid}/standings")).json()

        engine = create_engine(db_url)
        journal = await JournalStore(sessionmaker(engine)).read(sid)
        async with sessionmaker(engine)() as db:
            audited = [(r.actor, r.action) for r in await db.scalars(select(AuditRow))]
        await engine.dispose()
        assert ("api", "flag") in audited and ("api", "message") in audited
        passings = [e for _seq, e in journal if isinstance(e, PassingDetected)]
        assert len(passings) == 25  # none lost, none twice
        assert [p.passing_number for p in passings] == sorted(
            p.passing_number or 0 for p in passings
        )

        async with running_server(db_url, token, spool_path=str(spool)) as srv, srv.client() as api:
            after = (await api.get(f"/api/v1/sessions/{sid}/standings")).json()
        assert [(r["number"], r["laps"]) for r in after] == [
            (r["number"], r["laps"]) for r in before
        ]
    finally:
        await emulator.stop()
