"""amb.out, replayed by the emulator over real TCP into the server, gives the right laps.

Capture: vmindru/ambp3client ``test_server/amb.out`` (Apache-2.0), a karting track's P3
decoder on 2019-03-02, copied into tests/data.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from tests.fixtures.app_server import prepare_database, running_server, wait_until
from tests.fixtures.timing_data import TIMING_DATA
from timing_adapters.capture import read_hex_capture
from timing_adapters.clock import ScaledClock
from timing_adapters.emulator.server import P3Emulator
from timing_adapters.p3 import P3Decoder, Passing

CAPTURE = TIMING_DATA / "p3-karting-ambp3client" / "amb.out"
MIN_LAP_US = 20_000_000
SPEED = 1200.0  # the capture's 94 minutes (two idle spells of 17 and 31) in under 5 s
ENTRIES = "number,class,team,drivers,transponder\n" + "\n".join(
    f"{n},K,Kart {n},Driver {n},{t}" for n, t in (("1", 5691251), ("2", 3292480), ("3", 3438895))
)


class HeldClock:
    """Stands at ``origin_us`` until released, then runs ``speed`` times the wall."""

    def __init__(self, origin_us: int, speed: float) -> None:
        self.rate = speed
        self._origin_us = origin_us
        self._running: ScaledClock | None = None

    def release(self) -> None:
        self._running = ScaledClock(self.rate, origin_us=self._origin_us)

    def now_us(self) -> int:
        return self._origin_us if self._running is None else self._running.now_us()

    async def sleep_until(self, at_us: int) -> None:
        delay_us = at_us - self.now_us()
        if delay_us > 0:
            await asyncio.sleep(delay_us / self.rate / 1e6)


def expected_laps(passings: list[Passing]) -> tuple[dict[str, int], int]:
    """Laps per transponder under the minimum-lap rule, and how many reads it drops."""
    last: dict[int, int] = {}
    laps: dict[str, int] = defaultdict(int)
    dropped = 0
    for p in sorted(passings, key=lambda p: p.passing_number):
        previous = last.get(p.transponder)
        if previous is not None and p.rtc_time_us - previous < MIN_LAP_US:
            dropped += 1
            continue
        if previous is not None:
            laps[str(p.transponder)] += 1
        last[p.transponder] = p.rtc_time_us
    return dict(laps), dropped


async def test_replayed_capture_gives_laps_per_transponder(db_url: str) -> None:
    frames = read_hex_capture(CAPTURE)
    decoder = P3Decoder()
    passings = [r for f in frames for r in decoder.receive(f) if isinstance(r, Passing)]
    assert len(passings) == 84
    laps, dropped = expected_laps(passings)
    assert dropped == 1  # the 2.767 s double read of transponder 3438895

    token = await prepare_database(db_url, ENTRIES, "Karting 2019-03-02")
    # the server clock runs in the capture's time base, held 10 s before its first passing
    # until the green flag; the capture is then played at the clock's pace (faster than that,
    # its passings would be in the server's future: suspect, and rightly not scored)
    clock = HeldClock(passings[0].rtc_time_us - 10_000_000, SPEED)
    emulator = P3Emulator(clock=clock, status_interval_s=0.5)
    port = await emulator.start()
    try:
        async with (
            running_server(db_url, token, decoders=[f"tcp://127.0.0.1:{port}"], clock=clock) as srv,
            srv.client() as api,
        ):
            created = await api.post(
                "/api/v1/sessions",
                json={"event": "Karting 2019-03-02", "type": "practice", "name": "Practice 1"},
            )
            assert created.status_code == 201, created.text
            session_id = created.json()["id"]
            flag = await api.post(f"/api/v1/sessions/{session_id}/flag", json={"flag": "green"})
            assert flag.status_code == 200, flag.text
            await emulator.wait_for_clients(1)
            clock.release()
            await emulator.play_capture(frames, realtime=True)

            async def all_laps_in() -> bool:
                rows = (await api.get(f"/api/v1/sessions/{session_id}/standings")).json()
                return sum(r["laps"] for r in rows) == sum(laps.values())

            await wait_until(all_laps_in)
            rows = (await api.get(f"/api/v1/sessions/{session_id}/standings")).json()
            by_transponder = {"1": "5691251", "2": "3292480", "3": "3438895"}
            assert {by_transponder[r["number"]]: r["laps"] for r in rows} == laps
            assert srv.race.engine is not None
            assert srv.race.engine.rejected_counts().get("double_read") == 1
            # practice order: best lap first
            bests = [r["best_lap_ms"] for r in rows]
            assert bests == sorted(bests)
            decoders = (await api.get("/api/v1/decoders")).json()
            assert decoders[0]["connected"] is True
            assert decoders[0]["bad_frames"] == 0
    finally:
        await emulator.stop()


async def test_a_lost_decoder_raises_an_alert(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Lost Cup")
    emulator = P3Emulator(status_interval_s=0.2)
    port = await emulator.start()
    async with (
        running_server(db_url, token, decoders=[f"tcp://127.0.0.1:{port}"]) as srv,
        srv.client() as api,
    ):
        await api.post(
            "/api/v1/sessions", json={"event": "Lost Cup", "type": "practice", "name": "FP"}
        )
        await emulator.wait_for_clients(1)
        await wait_until(lambda: all(d.connected for d in srv.race.decoders.values()))
        await emulator.stop()  # the decoder is unplugged

        def lost_alert() -> bool:
            engine = srv.race.engine
            return engine is not None and any(
                a.kind == "decoder_lost" and f"127.0.0.1:{port}" in a.text for a in engine.alerts()
            )

        await wait_until(lost_alert)
