"""``racecontrol replay``: a recording re-scored at ``max`` gives the standings of the live run.

Captures: vmindru/ambp3client ``test_server/amb.out`` (Apache-2.0), a karting track's P3
decoder on 2019-03-02; racemap/mylaps-to-racemap-forwarder's T&S log (MIT); both copied into
tests/data. The RMonitor race is written by ``tests/timing_adapters/rmonitor_race.py``.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from server.cli.commands import replay
from server.cli.main import main
from server.db import repository
from server.db.connection import create_engine, sessionmaker
from server.db.journal import JournalStore
from server.engine.events import LoopRole, PassingDetected
from server.engine.model import StandingRow
from server.web.routes.api import StandingOut
from tests.fixtures.app_server import prepare_database, running_server, wait_until
from tests.fixtures.cli import run_cli
from tests.fixtures.timing_data import TIMING_DATA
from tests.integration.test_capture_replay import CAPTURE, ENTRIES, SPEED, HeldClock
from tests.timing_adapters.rmonitor_race import START_TOD_US, competitors, replay_race
from timing_adapters.amb_legacy.records import Passing as AmbPassing
from timing_adapters.amb_legacy.wire import encode as amb_encode
from timing_adapters.capture import read_hex_capture
from timing_adapters.emulator.server import P3Emulator
from timing_adapters.mylaps_ts.capture import client_stream, read_forwarder_log
from timing_adapters.mylaps_ts.codec import MessageFramer
from timing_adapters.mylaps_ts.protocol import ExchangeSession
from timing_adapters.p3 import Field, P3Decoder, Passing, RecordType, UnknownRecord
from timing_adapters.p3 import encode as p3_encode
from timing_adapters.rmonitor.codec import encode as rm_encode
from timing_adapters.rmonitor.records import LineCrossing
from timing_adapters.rmonitor.records import Passing as RMPassing
from timing_adapters.rmonitor.snapshot import (
    RMonitorSnapshot,
    changes,
    full_picture,
    heartbeat,
)

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
            # mapped is not yet applied: the writer may still hold the last passings
            await srv.race.applied()
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
    return b"".join(line for _at, line in rmonitor_lines(snapshots, timelines=timelines))


def rmonitor_lines(
    snapshots: list[RMonitorSnapshot], *, timelines: bool = False
) -> list[tuple[int, bytes]]:
    """``rmonitor_recording`` line by line, each with the race time it is sent at."""
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
    return [(at, line) for at, _n, line in lines]


async def rmonitor_replay(
    db_url: str, data: bytes, name: str, tmp: Path, minutes: int = 60
) -> tuple[str, int]:
    path = tmp / "race.rmon"
    path.write_bytes(data)
    line = await replay(db_url, path, "rmonitor", RM_EVENT, name, length_minutes=minutes)
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
        run_cli, "import", "track", str(track), "--event", RM_EVENT, "--db", db_url
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


# -- P3 transponder strings (ProChip and others: field 0x0A) ----------------------------------


def string_capture() -> bytes:
    """Hex per line, like amb.out: car AB-12345 sends only its string, CD-54321 its string
    and a number (the string wins), 3438895 only its number; one frame's string is garbage."""
    base = 1_551_520_000_000_000  # 2019-03-02 09:46:40 UTC
    sends: list[tuple[int | None, str | None]] = [
        (None, "AB-12345"),
        (2906141, "CD-54321"),
        (3438895, None),
    ]
    frames: list[bytes] = []
    number = 100
    for lap in range(4):
        for car, (transponder, code) in enumerate(sends):
            number += 1
            at = base + lap * 60 * S + car * 5 * S
            frames.append(p3_encode(Passing(number, transponder, at, 1, transponder_code=code)))
    garbage = (
        Field(0x01, (999).to_bytes(4, "little")),
        Field(0x0A, b"EF 0\x01\x02"),  # not a code: the frame is rejected, counted
        Field(0x04, base.to_bytes(8, "little")),
    )
    frames.append(p3_encode(UnknownRecord(RecordType.PASSING, garbage)))
    return b"".join(frame.hex().encode() + b"\n" for frame in frames)


STRING_ENTRIES = (
    "number,class,team,drivers,transponder\n"
    "1,K,Kart 1,Driver 1,AB-12345\n"
    "2,K,Kart 2,Driver 2,CD-54321\n"
    "3,K,Kart 3,Driver 3,3438895\n"
)


async def test_string_transponders_are_scored_by_the_replay_command(
    db_url: str, tmp_path: Path
) -> None:
    capture = tmp_path / "prochip.out"
    capture.write_bytes(string_capture())
    await prepare_database(db_url, STRING_ENTRIES, "ProChip Cup")
    command = ["replay", str(capture), "--format", "p3"]
    command += ["--event", "ProChip Cup", "--session", "Practice", "--type", "practice"]
    done = await asyncio.to_thread(run_cli, *command, "--db", db_url)
    assert done.returncode == 0, done.stderr
    session_id = int(done.stdout.split()[1].rstrip(":"))
    assert done.stdout.strip() == (
        f"session {session_id}: 12 passings, 9 laps, 3 cars, 1 bad lines"
    )
    rows = await stored_standings(db_url, session_id)
    assert {r.number: r.laps for r in rows} == {"1": 3, "2": 3, "3": 3}
    assert {r.number: r.best_lap_us for r in rows} == {"1": 60 * S, "2": 60 * S, "3": 60 * S}


async def test_replay_refuses_bad_options(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "prochip.out"
    capture.write_bytes(string_capture())
    await prepare_database(db_url, STRING_ENTRIES, "ProChip Cup")
    base = ["replay", "--event", "ProChip Cup", "--db", db_url]
    cases = [
        ([str(tmp_path / "missing.out"), "--format", "p3", "--session", "S"], "no such file"),
        ([str(capture), "--format", "p3", "--session", "S", "--speed", "fast"], "--speed"),
        ([str(capture), "--format", "p3", "--session", "S", "--green", "25:99"], "--green"),
        ([str(capture), "--format", "p3", "--session-id", "424242"], "no such session"),
        ([str(capture), "--format", "p3"], "--session"),
        ([str(capture), "--format", "p3", "--session", "S", "--type", "derby"], "derby"),
    ]
    for args, said in cases:
        # the command line's own entry point, in a thread: it runs its own event loop
        assert await asyncio.to_thread(main, [*base, *args]) == 2, args
        err = capsys.readouterr().err
        assert said in err and err.startswith("racecontrol: "), err


async def test_a_feed_joined_two_hours_into_the_race(db_url: str, tmp_path: Path) -> None:
    race = replay_race(cars=10, laps=90)  # about 2 h 15 min
    join = next(n for n, s in enumerate(race) if s.race_time_us >= 7_200 * S)
    joined = race[join - 1]
    # what the feed sends on connect: the picture, then the last $J of every competitor (the
    # past, before any $F), then its heartbeat; from there on the race as it goes
    last_j: dict[str, RMPassing] = {}
    for snapshot in race[:join]:
        for p in snapshot.passings:
            last_j[p.registration] = RMPassing(
                p.registration, p.lap_time_us // 1000 * 1000, p.total_time_us
            )
    records = [*full_picture(joined), *last_j.values(), heartbeat(joined, 0)]
    previous = joined
    for snapshot in race[join:]:
        records += [heartbeat(snapshot, 0), *changes(previous, snapshot)]
        previous = snapshot
    await prepare_database(db_url, RM_ENTRIES, RM_EVENT)
    line, session_id = await rmonitor_replay(
        db_url, b"".join(rm_encode(r) for r in records), "Joined", tmp_path, minutes=180
    )
    assert line.endswith("10 cars, 0 bad lines")
    rows = await stored_standings(db_url, session_id)
    # every car's laps are the feed's $G laps: those before we joined taken from $G, then
    # one per crossing; none counted twice, none made of two crossings that are not
    # consecutive, none shorter than the track's minimum (20 s)
    assert {r.number: r.laps for r in rows} == final_feed_laps(race)
    assert [r.number for r in rows] == [p.registration for p in race[-1].positions]
    assert all(r.best_lap_us is not None and r.best_lap_us >= 80 * S for r in rows)
    engine = create_engine(db_url)
    try:
        journal = await JournalStore(sessionmaker(engine)).read(session_id)
    finally:
        await engine.dispose()
    firsts: dict[str, int] = {}
    for _seq, event in journal:
        if isinstance(event, PassingDetected):
            firsts.setdefault(event.transponder, event.at_us)
    # the repeated $J lines are placed at their own race time, not at their arrival
    assert firsts == {reg: j.total_time_us for reg, j in last_j.items()}


# -- AMB legacy, I-Lap and MyLaps T&S ----------------------------------------------------------


def amb_recording(*, crc: bool) -> bytes:
    """Three cars, five laps each, on an AMB (P98: numbered, with CRC) or I-Lap decoder
    (no number, no CRC); one record cut short in the middle."""
    records = []
    number = 0
    for lap in range(6):
        for car, code in enumerate(("1001", "1002", "AB12")):
            number += 1
            at = 3_600 * S + lap * (45 + car) * S
            passing = AmbPassing("101", code, at, number if crc else None, 30, 120, 0)
            if not crc:
                passing = AmbPassing("101", code, at)
            records.append(amb_encode(passing, crc=crc))
    records.insert(7, records[7][:9])  # a cut record: a bad line, counted
    return b"".join(records)


AMB_ENTRIES = (
    "number,class,team,drivers,transponder\n"
    "1,K,Kart 1,Driver 1,1001\n"
    "2,K,Kart 2,Driver 2,1002\n"
    "3,K,Kart 3,Driver 3,AB12\n"
)


async def test_amb_and_ilap_recordings_replay(db_url: str, tmp_path: Path) -> None:
    await prepare_database(db_url, AMB_ENTRIES, "AMB Cup")
    for fmt, crc in (("amb", True), ("ilap", False)):
        path = tmp_path / f"{fmt}.txt"
        path.write_bytes(amb_recording(crc=crc))
        line = await replay(db_url, path, fmt, "AMB Cup", fmt, kind="practice")
        session_id = int(line.split()[1].rstrip(":"))
        assert line == f"session {session_id}: 18 passings, 15 laps, 3 cars, 1 bad lines"
        rows = await stored_standings(db_url, session_id)
        # the laps are differences of the decoder's own times: exact
        assert {r.number: r.best_lap_us for r in rows} == {"1": 45 * S, "2": 46 * S, "3": 47 * S}
        assert [r.number for r in rows] == ["1", "2", "3"]


async def test_mylaps_exchange_log_replays_each_distinct_passing_once(
    db_url: str, tmp_path: Path
) -> None:
    log = TIMING_DATA / "mylaps-ts-exchange" / "racemap_MyLapsInputAdapter-by-sporttijden.log"
    data = log.read_bytes()
    # the first 400 entries of the log (cut where an entry starts), resends included
    starts = [m.start() for m in re.finditer(rb"^\d{4}-\d\d-\d\dT", data, re.MULTILINE)]
    part = tmp_path / "part.log"
    part.write_bytes(data[: starts[400]])
    # what the live listener's protocol session passes on for the same bytes
    session, framer = ExchangeSession(), MessageFramer()
    live = [
        d
        for message in framer.receive(client_stream(read_forwarder_log(part.read_bytes())))
        for d in session.handle(message).detections
    ]
    assert session.duplicates > 0 and len(live) == 60
    await prepare_database(db_url, "number,class,team,drivers,transponder\n", "Sporttijden")
    line = await replay(db_url, part, "mylaps", "Sporttijden", "Stage", kind="practice")
    session_id = int(line.split()[1].rstrip(":"))
    # T&S's resends are passed on once each, as live; no entries: no car
    assert line.startswith(f"session {session_id}: {len(live)} passings, 0 laps, 0 cars, ")
