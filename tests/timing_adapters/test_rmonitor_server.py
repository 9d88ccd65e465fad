"""The RMonitor output server over real loopback TCP, read by raw clients and by our own
input adapter (the loopback: what we publish is what a follower reconstructs)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
from collections.abc import AsyncIterator
from typing import Any

from rmonitor_race import CLASSES, replay_race

from tests.fixtures.loopback import until
from timing_adapters.adapter import Detection
from timing_adapters.rmonitor import (
    ClassInfo,
    Competitor,
    CompetitorExt,
    DecodeResult,
    Heartbeat,
    PracticePosition,
    RacePosition,
    RMonitorDecoder,
    Run,
    Setting,
)
from timing_adapters.rmonitor.adapter import RMonitorAdapter
from timing_adapters.rmonitor.feed_state import FeedStanding
from timing_adapters.rmonitor.server import RMonitorServer
from timing_adapters.rmonitor.snapshot import (
    RMonitorSnapshot,
    SnapshotCompetitor,
    SnapshotPosition,
)


@contextlib.asynccontextmanager
async def serving(**kwargs: Any) -> AsyncIterator[RMonitorServer]:
    server = RMonitorServer(host="127.0.0.1", port=0, **kwargs)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class Client:
    """A scoreboard: a raw TCP connection and an RMonitor decoder."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.decoder = RMonitorDecoder()
        self.pending: list[DecodeResult] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, port: int) -> AsyncIterator[Client]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            yield cls(reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def until_heartbeat(self, timeout: float = 5.0) -> list[DecodeResult]:
        """Everything received up to and including the next ``$F``."""
        async with asyncio.timeout(timeout):
            while True:
                for i, record in enumerate(self.pending):
                    if isinstance(record, Heartbeat):
                        out, self.pending = self.pending[: i + 1], self.pending[i + 1 :]
                        return out
                data = await self.reader.read(65536)
                assert data, "server closed the connection"
                self.pending += self.decoder.receive(data)


def expected_standings(snapshot: RMonitorSnapshot) -> list[FeedStanding]:
    numbers = {c.registration: c for c in snapshot.competitors}
    return [
        FeedStanding(
            position=p.position,
            registration=p.registration,
            number=numbers[p.registration].number,
            class_number=numbers[p.registration].class_number,
            laps=p.laps,
            total_time_us=p.total_time_us,
            best_lap=p.best_lap,
            best_lap_time_us=p.best_lap_time_us,
            last_lap_time_us=None,  # compared separately: it travels in $J only
        )
        for p in sorted(snapshot.positions, key=lambda p: p.position)
    ]


def without_last_lap(standings: list[FeedStanding]) -> list[FeedStanding]:
    return [dataclasses.replace(s, last_lap_time_us=None) for s in standings]


RACE = replay_race(cars=10, laps=20)


async def test_loopback_race_ends_identical_on_both_sides() -> None:
    detections: list[Detection] = []

    async def collect(detection: Detection) -> None:
        detections.append(detection)

    async def ignore(_: Detection) -> None:
        pass

    async with serving() as server:
        url = f"rmonitor+tcp://127.0.0.1:{server.port}"
        early = RMonitorAdapter(url, collect)
        late = RMonitorAdapter(url, ignore)  # joins mid-race: full picture, then changes
        early_task = asyncio.create_task(early.run())
        late_task: asyncio.Task[None] | None = None
        try:
            await server.wait_for_clients(1)
            for i, snapshot in enumerate(RACE):
                server.update(snapshot)
                if i == len(RACE) // 2:
                    late_task = asyncio.create_task(late.run())
                    await server.wait_for_clients(2)
                await asyncio.sleep(0)
            final = RACE[-1]
            fed = [p for s in RACE for p in s.passings]
            await until(lambda: early.state.passings == len(fed))
            await until(
                lambda: without_last_lap(late.feed.standings()) == expected_standings(final)
            )
        finally:
            for task in (early_task, late_task):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
    orders = {tuple(p.registration for p in s.positions) for s in RACE[len(RACE) // 2 :]}
    assert len(orders) > 5  # the order kept changing in the second half
    assert without_last_lap(early.feed.standings()) == expected_standings(final)
    # each carries the feed's race time "now" (its $F), never before the crossing itself
    assert all(d.decoder_now_us is not None and d.decoder_now_us >= d.time_us for d in detections)
    assert [dataclasses.replace(d, decoder_now_us=None) for d in detections] == [
        Detection(url, p.registration, p.total_time_us, relative_clock=True) for p in fed
    ]
    last_laps = {p.registration: p.lap_time_us for p in fed}
    assert {s.registration: s.last_lap_time_us for s in early.feed.standings()} == last_laps
    feed = early.feed
    assert feed.classes == {c.number: c.name for c in CLASSES}
    assert feed.track_name == "Thunderhill Raceway" and feed.track_length == "3.000"
    assert {
        r: (c.transponder, c.last_name, c.additional_data) for r, c in feed.competitors.items()
    } == {
        c.registration: (c.transponder, c.last_name, c.additional_data) for c in final.competitors
    }
    assert early.state.bad_frames == late.state.bad_frames == 0


async def test_a_client_joining_mid_race_gets_the_full_picture_at_once() -> None:
    snapshot = RACE[len(RACE) // 2]
    async with serving() as server:
        for s in RACE[: len(RACE) // 2 + 1]:
            server.update(s)
        async with Client.connect(server.port) as client:
            picture = await client.until_heartbeat()
    kinds = [type(r) for r in picture]
    assert kinds == [
        Run,
        *[ClassInfo] * 3,
        *[Setting] * 2,
        *[Competitor, CompetitorExt] * 10,
        *[RacePosition] * 10,
        *[PracticePosition] * 10,
        Heartbeat,
    ]
    assert picture[0] == Run(7, "Race 1 - Enduro")
    rows = [r for r in picture if isinstance(r, RacePosition)]
    assert [(r.position, r.registration, r.laps, r.total_time_us) for r in rows] == [
        (p.position, p.registration, p.laps, p.total_time_us) for p in snapshot.positions
    ]
    beat = picture[-1]
    assert isinstance(beat, Heartbeat) and beat.flag == "Green"
    assert beat.race_time_us == snapshot.race_time_us - snapshot.race_time_us % 1_000_000


async def test_heartbeats_changes_and_refreshes() -> None:
    async with (
        serving(heartbeat_interval_s=0.02, refresh_interval_s=0.1) as server,
        Client.connect(server.port) as client,
    ):
        await server.wait_for_clients(1)
        server.update(RACE[0])
        first = await client.until_heartbeat()
        assert sum(isinstance(r, RacePosition) for r in first) == 10
        server.update(RACE[1])  # one car crossed: one $J, its $G and $H rows
        changed = await client.until_heartbeat()
        assert {type(r).__name__ for r in changed} <= {
            "Passing",
            "RacePosition",
            "PracticePosition",
            "Heartbeat",
        }
        # With nothing changing, $F keeps coming, and now and then the whole picture.
        seen_refresh = False
        for _ in range(200):
            batch = await client.until_heartbeat()
            if any(isinstance(r, Run) for r in batch):
                seen_refresh = True
                break
        assert seen_refresh


def big_snapshot(run_number: int) -> RMonitorSnapshot:
    """About 60 kB of full picture: what a reset (new run) makes the server send."""
    cars = tuple(
        SnapshotCompetitor(str(n), str(n), str(n), "F" * 40, "L" * 40, "USA", 1, "T" * 40)
        for n in range(300)
    )
    rows = tuple(SnapshotPosition(i + 1, c.registration, i, i * 1000) for i, c in enumerate(cars))
    return dataclasses.replace(RACE[0], run_number=run_number, competitors=cars, positions=rows)


async def test_a_slow_client_is_dropped_and_the_others_keep_up() -> None:
    async with serving(max_buffer_bytes=64 * 1024) as server:
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.setblocking(False)
        await asyncio.get_running_loop().sock_connect(slow, ("127.0.0.1", server.port))
        try:
            async with Client.connect(server.port) as fast:
                await server.wait_for_clients(2)
                flags: list[str] = []

                async def read_everything() -> None:
                    while data := await fast.reader.read(65536):
                        flags.extend(
                            r.flag for r in fast.decoder.receive(data) if isinstance(r, Heartbeat)
                        )

                reading = asyncio.create_task(read_everything())
                run = 1
                while server.dropped_clients == 0:  # the slow one never reads: it falls behind
                    run += 1
                    server.update(big_snapshot(run))  # a new run each time: $I and everything
                    await asyncio.sleep(0)
                assert server.clients == 1
                server.update(dataclasses.replace(big_snapshot(run), flag="Red"))
                await until(lambda: "Red" in flags)
                reading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reading
        finally:
            slow.close()


async def test_run_serves_until_cancelled() -> None:
    server = RMonitorServer(host="127.0.0.1", port=0)
    task = asyncio.create_task(server.run())
    await until(lambda: server.port != 0)
    server.update(RACE[0])
    async with Client.connect(server.port) as client:
        picture = await client.until_heartbeat()
        assert isinstance(picture[0], Run)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        async with asyncio.timeout(5):  # the server hangs up on its way out
            with contextlib.suppress(ConnectionError):
                await client.reader.read()
    assert server.clients == 0
