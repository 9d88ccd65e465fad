"""Half a race, a server restart, and the standings come back identical from the journal."""

from __future__ import annotations

from tests.fixtures.app_server import prepare_database, running_server, wait_until
from timing_adapters.clock import ScaledClock
from timing_adapters.emulator.scenario import generate_race
from timing_adapters.emulator.server import P3Emulator

SPEED = 200.0  # a 20-minute race in 6 s


async def test_standings_survive_a_restart(db_url: str) -> None:
    scenario = generate_race(seed=7, cars=30, length_s=20 * 60)
    half = [p for p in scenario.passings if p.offset_us < 10 * 60 * 1_000_000]
    token = await prepare_database(db_url, scenario.entries_csv(), "Restart Cup")
    clock = ScaledClock(SPEED)
    emulator = P3Emulator(clock=clock, status_interval_s=0.2)
    port = await emulator.start()
    decoders = [f"tcp://127.0.0.1:{port}"]
    try:
        async with (
            running_server(db_url, token, decoders=decoders, clock=clock) as srv,
            srv.client() as api,
        ):
            created = await api.post(
                "/api/v1/sessions",
                json={"event": "Restart Cup", "type": "race", "name": "Race", "length_minutes": 60},
            )
            session_id = created.json()["id"]
            await api.post(f"/api/v1/sessions/{session_id}/flag", json={"flag": "green"})
            await emulator.wait_for_clients(1)
            await emulator.play(half)
            # every passing and the green flag journaled and applied
            await wait_until(lambda: srv.race.journaled == len(half) + 1)
            before = (await api.get(f"/api/v1/sessions/{session_id}/standings")).json()
            applied_before = srv.race.engine.rejected_counts() if srv.race.engine else {}
        assert sum(r["laps"] for r in before) > 100

        async with running_server(db_url, token, clock=clock) as srv, srv.client() as api:
            after = (await api.get(f"/api/v1/sessions/{session_id}/standings")).json()
            assert srv.race.session_id == session_id
            assert srv.race.engine is not None
            assert srv.race.engine.rejected_counts() == applied_before
        strip = ("state",)  # a car may be STOPPED after the pause; the timing is the same
        assert [{k: v for k, v in r.items() if k not in strip} for r in after] == [
            {k: v for k, v in r.items() if k not in strip} for r in before
        ]
    finally:
        await emulator.stop()
