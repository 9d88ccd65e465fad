"""A track with start/finish, two sector loops, pit-in and pit-out on five P3 decoders,
two of whose clocks are off by a few seconds: laps, sectors and stop times come out right.

Each decoder is a real P3 emulator on its own TCP port; the server's runners measure each
decoder's clock with GET_TIME and map every passing to the session clock. Race time is a
``ManualClock`` the test moves passing by passing, each journaled before the next (they
come over five connections): the GET_TIME answers arrive while it stands still, so every
offset, sector and stop time comes out exact.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

from server.cli.track_import import import_track
from server.db.connection import create_engine, sessionmaker
from server.engine.events import LoopRole
from server.web import contexts
from tests.fixtures.app_server import prepare_database, running_server, wait_until
from timing_adapters.clock import Clock, ManualClock
from timing_adapters.emulator.scenario import generate_race
from timing_adapters.emulator.server import P3Emulator

S = 1_000_000
MIN_LAP_US = 20 * S
START_US = 1_781_352_000_000_000  # 2026-06-13 12:00 UTC


@dataclass
class OffsetClock:
    """A decoder whose clock is ``offset_us`` ahead of the timing hut's."""

    base: Clock
    offset_us: int

    @property
    def rate(self) -> float:
        return self.base.rate

    def now_us(self) -> int:
        return self.base.now_us() + self.offset_us

    async def sleep_until(self, at_us: int) -> None:
        await self.base.sleep_until(at_us - self.offset_us)


LOOPS = {  # decoder id -> (role, sector, clock offset)
    1001: (LoopRole.START_FINISH, None, 0),
    1002: (LoopRole.SECTOR, 1, 3_500_000),
    1003: (LoopRole.SECTOR, 2, 0),
    1004: (LoopRole.PIT_IN, None, -2_250_000),
    1005: (LoopRole.PIT_OUT, None, 3_500_000),
}


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)  # timing, not storage
async def test_multi_loop_track_with_offset_clocks(db_url: str, tmp_path: Path) -> None:
    scenario = generate_race(seed=5, cars=10, length_s=900)
    token = await prepare_database(db_url, scenario.entries_csv(), "Loops Cup")
    track = tmp_path / "track.csv"
    track.write_text(
        "decoder,role,sector,distance_m,name\n"
        + "".join(f"{d},{r.value},{s or ''},,loop {d}\n" for d, (r, s, _o) in LOOPS.items())
    )
    engine = create_engine(db_url)
    await import_track(sessionmaker(engine), track, "Loops Cup")
    await engine.dispose()

    # what every loop sees, in race time (offset from the green flag)
    transponder_car = {car.transponder: car.number for car in scenario.cars}
    crossings: dict[str, list[int]] = defaultdict(list)
    for p in scenario.passings:
        crossings[transponder_car[p.transponder]].append(p.offset_us)
    stops = {(s.number, s.in_offset_us, s.out_offset_us) for s in scenario.pit_stops}
    schedule: list[tuple[int, int, int]] = []  # (offset, decoder, transponder)
    expected_laps: dict[str, int] = {}
    expected_sectors: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for car in scenario.cars:
        accepted: list[int] = []
        for at in crossings[car.number]:
            if not accepted or at - accepted[-1] >= MIN_LAP_US:
                accepted.append(at)
            schedule.append((at, 1001, car.transponder))
        expected_laps[car.number] = len(accepted) - 1
        for start, end in pairwise(accepted):
            if any(n == car.number and start < i < end for n, i, _o in stops):
                continue  # a pit lap: the pit lane bypasses the sector loops
            s1, s2 = start + (end - start) * 35 // 100, start + (end - start) * 70 // 100
            schedule += [(s1, 1002, car.transponder), (s2, 1003, car.transponder)]
            expected_sectors[car.number].append((s1 - start, s2 - s1, end - s2))
    for number, pit_in, pit_out in stops:
        transponder = next(c.transponder for c in scenario.cars if c.number == number)
        schedule += [(pit_in, 1004, transponder), (pit_out, 1005, transponder)]
    schedule.sort()

    clock = ManualClock(START_US)
    emulators = {
        d: P3Emulator(decoder_id=d, clock=OffsetClock(clock, offset), status_interval_s=0.2)
        for d, (_r, _s, offset) in LOOPS.items()
    }
    ports = {d: await e.start() for d, e in emulators.items()}
    try:
        async with (
            running_server(
                db_url,
                token,
                decoders=[f"tcp://127.0.0.1:{p}" for p in ports.values()],
                clock=clock,
            ) as srv,
            srv.client() as api,
        ):
            created = await api.post(
                "/api/v1/sessions",
                json={"event": "Loops Cup", "type": "practice", "name": "FP"},
            )
            sid = created.json()["id"]
            for emulator in emulators.values():
                await emulator.wait_for_clients(1)
            await wait_until(
                lambda: all(d.clock_offset_us is not None for d in srv.race.decoders.values())
            )
            t0 = clock.now_us() + 1 * S
            await api.post(f"/api/v1/sessions/{sid}/flag", json={"flag": "green"})
            for sent, (offset, decoder, transponder) in enumerate(schedule, start=2):
                clock.advance_to(t0 + offset)
                # stamped in the decoder's own clock, exactly
                emulators[decoder].push_passing(transponder, t0 + offset + LOOPS[decoder][2])
                await wait_until(lambda n=sent: srv.race.journaled >= n, interval=0.002)
            assert srv.race.journaled == len(schedule) + 1 and not srv.race.dropped
            race_engine = srv.race.engine
            assert race_engine is not None
            laps = {r.number: r.laps for r in race_engine.standings()}
            assert laps == expected_laps
            for number, sectors in expected_sectors.items():
                measured = [lap.sectors_us for lap in race_engine.laps_of(number) if lap.sectors_us]
                assert len(measured) == len(sectors)
                assert measured == sectors
            for number, pit_in, pit_out in stops:
                detail = race_engine.car_detail(number)
                durations = [s.duration_us for s in detail.stops]
                assert pit_out - pit_in in durations, (number, durations)
            # race control sees each decoder's clock offset and the sector times
            page = srv.state.renderer.page("control.html", contexts.control(srv.race))
            for state in srv.race.decoders.values():
                assert state.clock_offset_us is not None
                assert f"{state.clock_offset_us / S:+.3f} s" in page
                assert state.clock_round_trip_us is not None  # and how sure it is
                assert f"\N{PLUS-MINUS SIGN} {state.clock_round_trip_us / 2000:.1f} ms" in page
            assert 'title="sector times of the last lap"' in page
            offsets = {d.decoder_id: d.clock_offset_us for d in srv.race.decoders.values()}
            for decoder, (_r, _s, offset) in LOOPS.items():
                measured_offset = offsets[decoder]
                assert measured_offset == -offset
    finally:
        for emulator in emulators.values():
            await emulator.stop()
