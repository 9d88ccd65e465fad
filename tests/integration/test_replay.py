"""``racecontrol replay``: a recording re-scored at ``max`` gives the standings of the live run.

Captures: vmindru/ambp3client ``test_server/amb.out`` (Apache-2.0), a karting track's P3
decoder on 2019-03-02; racemap/mylaps-to-racemap-forwarder's T&S log (MIT); both copied into
tests/data. The RMonitor race is written by ``tests/timing_adapters/rmonitor_race.py``.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from server.cli.commands import replay
from server.db import repository
from server.db.connection import create_engine, sessionmaker
from server.db.journal import JournalStore
from server.engine.events import LoopRole, PassingDetected
from server.engine.model import StandingRow
from server.web.routes.api import StandingOut
from tests.fixtures.app_server import prepare_database, running_server, wait_until
from tests.integration.test_capture_replay import CAPTURE, ENTRIES, SPEED, HeldClock
from tests.timing_adapters.rmonitor_race import START_TOD_US, competitors, replay_race
from timing_adapters.capture import read_hex_capture
from timing_adapters.emulator.server import P3Emulator
from timing_adapters.p3 import P3Decoder, Passing
from timing_adapters.rmonitor.codec import encode as rm_encode
from timing_adapters.rmonitor.records import LineCrossing
from timing_adapters.rmonitor.snapshot import RMonitorSnapshot, changes, heartbeat

EVENT = "Karting 2019-03-02"
S = 1_000_000


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


# -- RMonitor: a recording of another scoring system's feed ------------------------------------

RM_EVENT = "Thunderhill Enduro"
RM_ENTRIES = "number,class,team,drivers,transponder\n" + "\n".join(
    f"{c.number},GT,Team {c.number},Driver {c.number},{c.registration}" for c in competitors(10)
)
TIMELINES = (("P1", "PIT IN", 15), ("P2", "PIT OUT", 30), ("S1", "SECTOR 1", 45))


def rmonitor_recording(snapshots: list[RMonitorSnapshot], *, timelines: bool = False) -> bytes:
    """The feed as another scoring system sends it: ``$F`` then the changes at each
    crossing; with ``timelines``, each car also crosses three other timelines (``$L``)
    15, 30 and 45 s after the line, sent when they happen."""
    lines: list[tuple[int, int, bytes]] = []  # (race time, order, line)
    previous: RMonitorSnapshot | None = None
    for n, snapshot in enumerate(snapshots):
        at = snapshot.race_time_us
        records = [heartbeat(snapshot, 0), *changes(previous, snapshot)]
        lines += [(at, n * 100 + i, rm_encode(r)) for i, r in enumerate(records)]
        previous = snapshot
        if timelines:
            for passing in snapshot.passings:
                for k, (number, name, after_s) in enumerate(TIMELINES):
                    crossed = passing.total_time_us + after_s * S
                    tod = START_TOD_US + crossed
                    line = LineCrossing(passing.registration, number, name, "06/14/2025", tod)
                    lines.append((crossed, n * 100 + 90 + k, rm_encode(line)))
    lines.sort(key=lambda item: (item[0], item[1]))
    return b"".join(line for _at, _n, line in lines)


async def rmonitor_replay(db_url: str, data: bytes, name: str, tmp: Path) -> tuple[str, int]:
    path = tmp / "race.rmon"
    path.write_bytes(data)
    line = await replay(db_url, path, "rmonitor", RM_EVENT, name, length_minutes=60)
    return line, int(line.split()[1].rstrip(":"))


def final_feed_laps(snapshots: list[RMonitorSnapshot]) -> dict[str, int]:
    return {p.registration: p.laps or 0 for p in snapshots[-1].positions}


async def test_rmonitor_timelines_are_not_finish_crossings(db_url: str, tmp_path: Path) -> None:
    race = replay_race(cars=10, laps=12)
    await prepare_database(db_url, RM_ENTRIES, RM_EVENT)
    plain, plain_id = await rmonitor_replay(db_url, rmonitor_recording(race), "Plain", tmp_path)
    crossings, with_id = await rmonitor_replay(
        db_url, rmonitor_recording(race, timelines=True), "With $L", tmp_path
    )
    laps = sum(final_feed_laps(race).values())
    assert plain == f"session {plain_id}: 130 passings, {laps} laps, 10 cars, 0 bad lines"
    # the 3 x 130 timeline crossings are counted as such, and add no lap
    assert crossings == (
        f"session {with_id}: 130 passings, {laps} laps, 10 cars, 0 bad lines; "
        "dropped: 390 other_timeline"
    )
    plain_rows = await stored_standings(db_url, plain_id)
    with_rows = await stored_standings(db_url, with_id)
    assert {r.number: r.laps for r in plain_rows} == final_feed_laps(race)
    assert comparable(as_api(with_rows)) == comparable(as_api(plain_rows))
    # the feed's own order at the end is ours
    assert [r.number for r in plain_rows] == [p.registration for p in race[-1].positions]


async def test_a_track_file_maps_timelines_to_loops(db_url: str, tmp_path: Path) -> None:
    race = replay_race(cars=10, laps=12)
    track = tmp_path / "track.csv"
    # the feed's own line (the $J lines: the replayed file's id) is the finish line; the
    # timelines are named by number (P1) or by name (PIT OUT)
    track.write_text(
        "decoder,role,sector,distance_m,name\n"
        "rmonitor+file://race.rmon,start_finish,,0,Line\n"
        "P1,pit_in,,,Pit in\n"
        "PIT OUT,pit_out,,,Pit out\n"
        "S1,sector,1,1200,Sector 1\n",
        encoding="utf-8",
    )
    await prepare_database(db_url, RM_ENTRIES, RM_EVENT)
    done = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "server.cli",
            "import",
            "track",
            str(track),
            "--event",
            RM_EVENT,
            "--db",
            db_url,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"4 loops for {RM_EVENT}"
    line, session_id = await rmonitor_replay(
        db_url, rmonitor_recording(race, timelines=True), "Loops", tmp_path
    )
    laps = sum(final_feed_laps(race).values())
    # every timeline crossing is taken, with its loop's role
    assert line == f"session {session_id}: 520 passings, {laps} laps, 10 cars, 0 bad lines"
    rows = await stored_standings(db_url, session_id)
    assert {r.number: r.laps for r in rows} == final_feed_laps(race)
    engine = create_engine(db_url)
    try:
        journal = await JournalStore(sessionmaker(engine)).read(session_id)
    finally:
        await engine.dispose()
    loops = Counter((e.loop, e.sector) for _seq, e in journal if isinstance(e, PassingDetected))
    assert loops == {
        (LoopRole.START_FINISH, None): 130,
        (LoopRole.PIT_IN, None): 130,
        (LoopRole.PIT_OUT, None): 130,
        (LoopRole.SECTOR, 1): 130,
    }
