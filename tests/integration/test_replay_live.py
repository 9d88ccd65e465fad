"""``racecontrol replay --speed max`` gives the standings of the live run, for every format.

Each recording is first played live: a real server with a ``ManualClock`` follows a decoder
URL (``rmonitor+tcp://``, ``amb+tcp://``, ``ilap+tcp://``: a loopback TCP server plays the
recording; ``mylaps+listen://``: a client pushes it, as T&S does). Each piece of the
recording is sent when the clock stands at its own moment (plus a fixed latency), and the
next one only once the server has taken it, so the live run is exact and deterministic.
The same bytes are then replayed at ``max`` into a second session and the standings
(positions, laps, best laps) compared. The P3 comparison is in ``test_replay.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from server.cli.commands import replay
from server.service.replay import Format, read_recording
from tests.fixtures.app_server import (
    RunningServer,
    free_port,
    prepare_database,
    running_server,
    wait_until,
)
from tests.fixtures.timing_data import TIMING_DATA
from tests.integration.test_replay import (
    AMB_ENTRIES,
    RM_ENTRIES,
    RM_EVENT,
    as_api,
    comparable,
    rmonitor_lines,
    stored_standings,
)
from tests.timing_adapters.rmonitor_race import replay_race
from timing_adapters.amb_legacy.codec import AmbLegacyDecoder
from timing_adapters.amb_legacy.records import Passing as AmbPassing
from timing_adapters.clock import ManualClock
from timing_adapters.mylaps_ts.capture import client_stream, read_forwarder_log
from timing_adapters.mylaps_ts.codec import MessageFramer
from timing_adapters.mylaps_ts.protocol import ExchangeSession

S = 1_000_000
LATENCY_US = 250_000  # from the recording's moment to the server's clock when it arrives

Chunk = tuple[int, bytes, int]  # (the recording's moment, the bytes, detections in them)


def taken(srv: RunningServer) -> int:
    """Detections the server has dealt with: journaled as passings, or dropped."""
    return srv.race.mapper.passings + sum(srv.race.dropped.values())


async def play(
    srv: RunningServer,
    clock: ManualClock,
    chunks: list[Chunk],
    send: Callable[[bytes], Awaitable[None]],
) -> None:
    """Each chunk at its moment; the next once the server has taken its detections."""
    expected = 0
    for at_us, data, detections in chunks:
        clock.advance_to(max(clock.now_us(), at_us + LATENCY_US))
        await send(data)
        expected += detections
        want = expected
        await wait_until(lambda want=want: taken(srv) >= want)


@asynccontextmanager
async def feed_server() -> AsyncIterator[tuple[int, asyncio.Queue[asyncio.StreamWriter]]]:
    """A loopback TCP server (the decoder, or the other scoring system): hands over the
    connection the server under test makes."""
    clients: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()
    accepted: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        await clients.put(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, clients
    finally:
        server.close()
        await closed(accepted)
        await server.wait_closed()


async def closed(writers: list[asyncio.StreamWriter]) -> None:
    for writer in writers:
        writer.close()
        with contextlib.suppress(OSError):  # the other end went first
            await writer.wait_closed()


async def live_run(
    db_url: str,
    token: str,
    decoder: str,
    event: str,
    kind: str,
    start_us: int,
    connect: Callable[[], Awaitable[Callable[[bytes], Awaitable[None]]]],
    chunks: list[Chunk],
    **session: Any,
) -> list[dict[str, Any]]:
    """The live run: green at ``start_us``, then the chunks; the standings as the API says."""
    clock = ManualClock(start_us)
    async with (
        running_server(db_url, token, decoders=[decoder], clock=clock) as srv,
        srv.client() as api,
    ):
        created = await api.post(
            "/api/v1/sessions", json={"event": event, "type": kind, "name": "Live", **session}
        )
        assert created.status_code in (200, 201), created.text
        live_id = created.json()["id"]
        flag = await api.post(f"/api/v1/sessions/{live_id}/flag", json={"flag": "green"})
        assert flag.status_code < 300, flag.text
        send = await connect()
        await play(srv, clock, chunks, send)
        await srv.race.applied()
        clock.advance(S)
        srv.race.tick()
        rows: list[dict[str, Any]] = (await api.get(f"/api/v1/sessions/{live_id}/standings")).json()
        return rows


async def replayed(
    db_url: str, data: bytes, fmt: str, event: str, kind: str, tmp: Path, **options: Any
) -> list[dict[str, Any]]:
    path = tmp / f"recording.{fmt}"
    path.write_bytes(data)
    line = await replay(db_url, path, fmt, event, "Replay", kind=kind, **options)
    session_id = int(line.split()[1].rstrip(":"))
    return as_api(await stored_standings(db_url, session_id))


def writer_sender(
    clients: asyncio.Queue[asyncio.StreamWriter],
) -> Callable[[], Awaitable[Callable[[bytes], Awaitable[None]]]]:
    async def connect() -> Callable[[bytes], Awaitable[None]]:
        writer = await asyncio.wait_for(clients.get(), 20)

        async def send(data: bytes) -> None:
            writer.write(data)
            await writer.drain()

        return send

    return connect


async def test_rmonitor_feed_live_and_replayed_give_the_same_standings(
    db_url: str, tmp_path: Path
) -> None:
    race = replay_race(cars=10, laps=12)
    lines = rmonitor_lines(race)
    chunks: list[Chunk] = []
    for at_us, line in lines:
        count = 1 if line.startswith(b"$J") else 0
        if chunks and chunks[-1][0] == at_us:
            chunks[-1] = (at_us, chunks[-1][1] + line, chunks[-1][2] + count)
        else:
            chunks.append((at_us, line, count))
    data = b"".join(line for _at, line in lines)
    token = await prepare_database(db_url, RM_ENTRIES, RM_EVENT)
    async with feed_server() as (port, clients):
        live = await live_run(
            db_url,
            token,
            f"rmonitor+tcp://127.0.0.1:{port}",
            RM_EVENT,
            "race",
            0,
            writer_sender(clients),
            chunks,
            length_minutes=60,
        )
    assert sum(row["laps"] for row in live) == 120
    assert [row["number"] for row in live] == [p.registration for p in race[-1].positions]
    again = await replayed(db_url, data, "rmonitor", RM_EVENT, "race", tmp_path, length_minutes=60)
    assert comparable(again) == comparable(live)


def amb_chunks(data: bytes, *, crc: bool) -> list[Chunk]:
    """The recording cut record by record, each at its decoder time (a bad record goes
    with the one after it)."""
    chunks: list[Chunk] = []
    pending = b""
    for piece in re.findall(rb"[^\r\n]*\r?\n", data):
        pending += piece
        records = [r for r in AmbLegacyDecoder(crc=crc).receive(piece) if isinstance(r, AmbPassing)]
        if records:
            chunks.append((records[0].time_us, pending, 1))
            pending = b""
    assert not pending
    return chunks


async def test_amb_and_ilap_live_and_replayed_give_the_same_standings(
    db_url: str, tmp_path: Path
) -> None:
    from tests.integration.test_replay import amb_recording

    token = await prepare_database(db_url, AMB_ENTRIES, "AMB Cup")
    for fmt, crc in (("amb", True), ("ilap", False)):
        data = amb_recording(crc=crc)
        chunks = amb_chunks(data, crc=crc)
        assert len(chunks) == 18
        async with feed_server() as (port, clients):
            live = await live_run(
                db_url,
                token,
                f"{fmt}+tcp://127.0.0.1:{port}",
                "AMB Cup",
                "practice",
                chunks[0][0],
                writer_sender(clients),
                chunks,
            )
        assert {row["number"]: row["laps"] for row in live} == {"1": 5, "2": 5, "3": 5}, fmt
        again = await replayed(db_url, data, fmt, "AMB Cup", "practice", tmp_path)
        assert comparable(again) == comparable(live), fmt


async def test_mylaps_live_and_replayed_give_the_same_standings(
    db_url: str, tmp_path: Path
) -> None:
    log = TIMING_DATA / "mylaps-ts-exchange" / "racemap_MyLapsInputAdapter-by-sporttijden.log"
    data = log.read_bytes()
    starts = [m.start() for m in re.finditer(rb"^\d{4}-\d\d-\d\dT", data, re.MULTILINE)]
    part = data[: starts[400]]
    recording = read_recording(part, Format.MYLAPS)
    first = recording.first_crossing_us
    assert first is not None
    codes = sorted({i.detection.transponder for i in recording.items if i.detection})
    entries = "number,class,team,drivers,transponder\n" + "\n".join(
        f"{n},MTB,Team {n},Rider {n},{code}" for n, code in enumerate(codes, start=1)
    )
    # what T&S sent, message by message, each when the newest passing in it happened
    session, framer = ExchangeSession(), MessageFramer()
    chunks: list[Chunk] = []
    last_us = min(i.at_us for i in recording.items)
    for entry in read_forwarder_log(part):
        if not entry.from_client:
            continue
        raw = client_stream([entry])
        found = [d for m in framer.receive(raw) for d in session.handle(m).detections]
        if found:
            last_us = max(last_us, *(d.time_us for d in found))
        chunks.append((last_us, raw, len(found)))
    assert sum(c[2] for c in chunks) == len(recording.items) == 60
    token = await prepare_database(db_url, entries, "Sporttijden")
    port = free_port()
    writers: list[asyncio.StreamWriter] = []

    async def connect() -> Callable[[bytes], Awaitable[None]]:
        async def attempt() -> asyncio.StreamWriter | None:
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                return None
            return writer

        async def connected() -> bool:
            writer = await attempt()
            if writer is not None:
                writers.append(writer)
            return bool(writers)

        await wait_until(connected)

        async def send(data: bytes) -> None:
            writers[0].write(data)
            await writers[0].drain()

        return send

    try:
        live = await live_run(
            db_url,
            token,
            f"mylaps+listen://127.0.0.1:{port}",
            "Sporttijden",
            "practice",
            first - 10 * S,  # green before the first crossing, as the replay's at it
            connect,
            chunks,
        )
    finally:
        await closed(writers)
    assert sum(row["laps"] for row in live) > 0
    again = await replayed(db_url, part, "mylaps", "Sporttijden", "practice", tmp_path)
    assert comparable(again) == comparable(live)
