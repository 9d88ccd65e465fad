"""``racecontrol replay``: a recording re-scored at ``max`` gives the standings of the live run.

Captures: vmindru/ambp3client ``test_server/amb.out`` (Apache-2.0), a karting track's P3
decoder on 2019-03-02; racemap/mylaps-to-racemap-forwarder's T&S log (MIT); both copied into
tests/data. The RMonitor race is written by ``tests/timing_adapters/rmonitor_race.py``.
"""

from __future__ import annotations

from typing import Any

from server.cli.commands import replay
from server.db import repository
from server.db.connection import create_engine, sessionmaker
from server.engine.model import StandingRow
from server.web.routes.api import StandingOut
from tests.fixtures.app_server import prepare_database, running_server, wait_until
from tests.integration.test_capture_replay import CAPTURE, ENTRIES, SPEED, HeldClock
from timing_adapters.capture import read_hex_capture
from timing_adapters.emulator.server import P3Emulator
from timing_adapters.p3 import P3Decoder, Passing

EVENT = "Karting 2019-03-02"


async def stored_standings(db_url: str, session_id: int) -> list[StandingRow]:
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            stored = await repository.current_results(db, session_id)
    finally:
        await engine.dispose()
    assert stored is not None, "the replay stores its standings"
    return stored.standings


def comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = ("position", "number", "laps", "best_lap_ms", "best_lap_number", "last_lap_ms")
    return [{key: row[key] for key in keys} for row in rows]


def as_api(rows: list[StandingRow]) -> list[dict[str, Any]]:
    return [StandingOut.of(row).model_dump(by_alias=True) for row in rows]


async def test_p3_capture_replayed_at_max_gives_the_live_standings(db_url: str) -> None:
    frames = read_hex_capture(CAPTURE)
    passings = [r for f in frames for r in P3Decoder().receive(f) if isinstance(r, Passing)]
    token = await prepare_database(db_url, ENTRIES, EVENT)
    # the live run, as tests/integration/test_capture_replay.py does it: the emulator plays
    # the capture over TCP to the running server, green 10 s before the first passing
    green_at = passings[0].rtc_time_us - 10_000_000
    clock = HeldClock(green_at, SPEED)
    emulator = P3Emulator(clock=clock, status_interval_s=0.5)
    port = await emulator.start()
    try:
        async with (
            running_server(db_url, token, decoders=[f"tcp://127.0.0.1:{port}"], clock=clock) as srv,
            srv.client() as api,
        ):
            created = await api.post(
                "/api/v1/sessions", json={"event": EVENT, "type": "practice", "name": "Live"}
            )
            live_id = created.json()["id"]
            await api.post(f"/api/v1/sessions/{live_id}/flag", json={"flag": "green"})
            await emulator.wait_for_clients(1)
            clock.release()
            await emulator.play_capture(frames, realtime=True)

            async def all_in() -> bool:
                assert srv.race.engine is not None
                return srv.race.mapper.passings == len(passings)

            await wait_until(all_in)
            live = (await api.get(f"/api/v1/sessions/{live_id}/standings")).json()
    finally:
        await emulator.stop()
    assert sum(row["laps"] for row in live) == 80

    # the same capture replayed at max: green at its first crossing by default
    line = await replay(db_url, CAPTURE, "p3", EVENT, "Replay", kind="practice")
    replay_id = int(line.split()[1].rstrip(":"))
    assert replay_id != live_id
    assert line == f"session {replay_id}: 84 passings, 80 laps, 3 cars, 0 bad lines"
    assert comparable(as_api(await stored_standings(db_url, replay_id))) == comparable(live)

    # and with the live run's green, given as a time of day in the capture's clock
    hms = "{:02d}:{:02d}:{:02d}".format(*_hms(green_at))
    line = await replay(db_url, CAPTURE, "p3", EVENT, "Replay 2", kind="practice", green=hms)
    second = int(line.split()[1].rstrip(":"))
    assert comparable(as_api(await stored_standings(db_url, second))) == comparable(live)


def _hms(at_us: int) -> tuple[int, int, int]:
    seconds = at_us // 1_000_000 % 86_400
    return seconds // 3600, seconds // 60 % 60, seconds % 60

