"""Our RMonitor output, read back by our own RMonitor input: both sides agree on the race."""

from __future__ import annotations

import asyncio
import contextlib

from tests.fixtures.app_server import free_port, prepare_database, running_server, wait_until
from timing_adapters.adapter import Detection
from timing_adapters.clock import ScaledClock
from timing_adapters.emulator.scenario import generate_race
from timing_adapters.emulator.server import P3Emulator
from timing_adapters.rmonitor.adapter import RMonitorAdapter

SPEED = 150.0


def ms(us: int | None) -> int | None:
    return None if us is None else us // 1000


async def test_rmonitor_loopback_after_a_replayed_race(db_url: str) -> None:
    scenario = generate_race(seed=11, cars=30, length_s=15 * 60)
    token = await prepare_database(db_url, scenario.entries_csv(), "RMonitor Cup")
    clock = ScaledClock(SPEED)
    emulator = P3Emulator(clock=clock, status_interval_s=0.2)
    decoder_port = await emulator.start()
    rmonitor_port = free_port()
    detections: list[Detection] = []

    async def collect(detection: Detection) -> None:
        detections.append(detection)

    try:
        async with (
            running_server(
                db_url,
                token,
                decoders=[f"tcp://127.0.0.1:{decoder_port}"],
                clock=clock,
                rmonitor_port=rmonitor_port,
            ) as srv,
            srv.client() as api,
        ):
            created = await api.post(
                "/api/v1/sessions",
                json={
                    "event": "RMonitor Cup",
                    "type": "race",
                    "name": "Race",
                    "length_minutes": 60,
                },
            )
            sid = created.json()["id"]
            scoreboard = RMonitorAdapter(f"rmonitor+tcp://127.0.0.1:{rmonitor_port}", collect)
            following = asyncio.create_task(scoreboard.run())
            await wait_until(lambda: scoreboard.state.connected)
            await api.post(f"/api/v1/sessions/{sid}/flag", json={"flag": "green"})
            await emulator.wait_for_clients(1)
            await emulator.play(scenario.passings)
            await wait_until(lambda: srv.race.journaled == len(scenario.passings) + 1)
            ours = srv.race.standings()

            def theirs_match() -> bool:
                theirs = scoreboard.feed.standings()
                return [(t.registration, t.laps) for t in theirs] == [
                    (r.number, r.laps) for r in ours
                ]

            await wait_until(theirs_match, timeout=10)
            theirs = scoreboard.feed.standings()
            assert [t.position for t in theirs] == [r.position for r in ours]
            assert [(t.best_lap, ms(t.best_lap_time_us)) for t in theirs] == [
                (r.best_lap_number, ms(r.best_lap_us)) for r in ours
            ]
            assert ours[0].laps > 5
            # every lap we completed went out as a $J passing, and came back as one
            laps_out = sum(r.laps for r in ours)
            assert len([d for d in detections if d.loop is None]) >= laps_out
            # a scoreboard that connects now gets the whole picture at once
            late = RMonitorAdapter(f"rmonitor+tcp://127.0.0.1:{rmonitor_port}", collect)
            late_task = asyncio.create_task(late.run())
            await wait_until(
                lambda: [t.registration for t in late.feed.standings()] == [r.number for r in ours]
            )
            for task in (following, late_task):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    finally:
        await emulator.stop()
