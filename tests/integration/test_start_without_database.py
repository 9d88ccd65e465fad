"""The server starts while PostgreSQL refuses connections, from the local copy of the timed
session and its spool: /live shows the race, /control and /healthz say the database is
unreachable, timing goes on into the spool, and everything reaches the database, once, in
order, when it is back."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.db.connection import create_engine, sessionmaker
from server.db.journal import JournalStore
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
async def test_serve_starts_from_the_spool_while_the_database_is_down(
    db_url: str, tmp_path: Path
) -> None:
    token = await prepare_database(db_url, ENTRIES, "Cold Start Cup")
    clock = WallClock()
    emulator = P3Emulator(clock=clock, status_interval_s=0.2)
    port = await emulator.start()
    decoders = [f"tcp://127.0.0.1:{port}"]
    spool = tmp_path / "spool.jsonl"
    t0 = clock.now_us() + 5 * S
    lap = 0

    def lap_of_everyone() -> None:
        nonlocal lap
        for n in range(1, 6):
            emulator.push_passing(1000 + n, t0 + lap * 60 * S + n * S)
        lap += 1

    def laps(race_standings: list[object]) -> int:
        return sum(getattr(row, "laps", 0) for row in race_standings)

    try:
        async with (
            running_server(db_url, token, decoders=decoders, spool_path=str(spool)) as srv,
            srv.client() as api,
        ):
            created = await api.post(
                "/api/v1/sessions", json={"event": "Cold Start Cup", "type": "race", "name": "R"}
            )
            sid = created.json()["id"]
            await api.post(f"/api/v1/sessions/{sid}/flag", json={"flag": "green"})
            await emulator.wait_for_clients(1)
            lap_of_everyone()
            lap_of_everyone()
            await wait_until(lambda: srv.race.journaled == 11)
            await wait_until(lambda: laps(srv.race.standings()) == 5)
            await set_postgres_connections(db_url, allowed=False)
            lap_of_everyone()  # into the spool
            await wait_until(lambda: laps(srv.race.standings()) == 10)
            assert srv.race.database_ok is False and spool.exists()

        # the server is restarted while the database still refuses connections
        async with (
            running_server(db_url, token, decoders=decoders, spool_path=str(spool)) as srv,
            srv.client() as api,
        ):
            assert srv.race.session_id == sid and srv.race.database_ok is False
            assert laps(srv.race.standings()) == 10  # rebuilt from the copy and the spool
            live = await api.get("/live")
            assert live.status_code == 200 and "Team 3" in live.text
            health = await api.get("/healthz")
            body = health.json()
            assert body["database"]["ok"] is False and body["database"]["spooling"] is True
            assert body["database"]["status"] == 503 and body["database"]["down_since"]
            page = srv.state.renderer.page("control.html", contexts.control(srv.race))
            assert "Database unreachable since" in page
            # the runner resumes at the last passing number the copy and the spool hold
            await emulator.wait_for_clients(1)
            lap_of_everyone()
            await wait_until(lambda: laps(srv.race.standings()) == 15)
            assert srv.race.decoders[decoders[0]].duplicates == 0

            await set_postgres_connections(db_url, allowed=True)
            # the drain removes the spool, then says the database is back: wait for both
            await wait_until(lambda: not spool.exists() and srv.race.database_ok, timeout=30)
            assert srv.race.database_ok is True
            lap_of_everyone()
            await wait_until(lambda: laps(srv.race.standings()) == 20)

        engine = create_engine(db_url)
        journal = await JournalStore(sessionmaker(engine)).read(sid)
        await engine.dispose()
        passings = [e for _seq, e in journal if isinstance(e, PassingDetected)]
        numbers = [p.passing_number for p in passings]
        assert numbers == list(range(1, 26))  # none lost, none twice, in order
    finally:
        await set_postgres_connections(db_url, allowed=True)
        await emulator.stop()
