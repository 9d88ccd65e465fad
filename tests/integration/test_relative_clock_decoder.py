"""An AMB decoder whose clock counts from power-on still times laps after the green flag.

Its times are mapped to the session clock by an offset learned from arrival times and
then held, so lap times are the decoder's own differences. Race time is a ``ManualClock``:
each lap's passings arrive, are journaled, then the test moves time on by a lap.
"""

from __future__ import annotations

import asyncio

from tests.fixtures.app_server import prepare_database, running_server, wait_until
from tests.fixtures.loopback import scripted_server
from timing_adapters.amb_legacy import Passing, Status, encode
from timing_adapters.clock import ManualClock

ENTRIES = "number,class,team,drivers,transponder\n5,A,Five,Eve,5005\n6,A,Six,Sy,6006\n"
S = 1_000_000
START_US = 1_781_352_000_000_000  # 2026-06-13 12:00 UTC


async def test_amb_decoder_with_a_power_on_clock(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "AMB Cup")
    clock = ManualClock(START_US)
    connected = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def decoder(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        connected.set()
        await asyncio.sleep(3600)

    async with (
        scripted_server(decoder) as port,
        running_server(db_url, token, decoders=[f"amb+tcp://127.0.0.1:{port}"], clock=clock) as srv,
        srv.client() as api,
    ):
        created = await api.post(
            "/api/v1/sessions", json={"event": "AMB Cup", "type": "practice", "name": "FP"}
        )
        sid = created.json()["id"]
        await api.post(f"/api/v1/sessions/{sid}/flag", json={"flag": "green"})
        await asyncio.wait_for(connected.wait(), 10)
        # the decoder has been on for 1,000 s; the cars lap in 80 s and 81.5 s
        laps = {"5005": 80 * S, "6006": 81_500_000}
        number = 0
        for lap in range(4):
            clock.advance(81_500_000 if lap else 100_000)  # a lap; the first just after green
            for transponder, lap_us in laps.items():
                number += 1
                at = 1_000 * S + lap * lap_us  # decoder clock
                writers[0].write(encode(Passing("7", transponder, at, number, 20, 100, 0)))
            writers[0].write(encode(Status("7", number, 30)))
            await writers[0].drain()
            await wait_until(lambda n=number: srv.race.journaled >= n + 1, interval=0.005)

        def laps_done() -> bool:
            return [r.laps for r in srv.race.standings()] == [3, 3]

        await wait_until(laps_done)
        rows = {r.number: r for r in srv.race.standings()}
        assert rows["5"].best_lap_us == 80 * S  # the decoder's own lap time, exactly
        assert rows["6"].best_lap_us == 81_500_000
        assert srv.race.engine is not None
        assert srv.race.engine.rejected_counts().get("not_started", 0) == 0
