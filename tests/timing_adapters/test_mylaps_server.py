"""The MyLaps T&S listener on real loopback TCP sockets, fed with a real T&S exchange."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import re
import socket
import struct
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.fixtures.timing_data import TIMING_DATA
from timing_adapters.adapter import DecoderState, Detection
from timing_adapters.clock import ManualClock
from timing_adapters.mylaps_ts import (
    AckMarker,
    AckPing,
    AckPong,
    AckStore,
    ChipRecord,
    GetInfo,
    GetLocations,
    Marker,
    MessageFramer,
    Ping,
    Pong,
    Received,
    Store,
    encode,
    parse_chip_record,
    parse_message,
)
from timing_adapters.mylaps_ts.capture import client_stream, read_forwarder_log
from timing_adapters.mylaps_ts.server import MyLapsExchangeServer, parse_listen_url

DATA = TIMING_DATA
# racemap/mylaps-to-racemap-forwarder, logs/MyLapsInputAdapter-by-sporttijden.log,
# commit b6471c20 (MIT).
LOG = (DATA / "mylaps-ts-exchange" / "racemap_MyLapsInputAdapter-by-sporttijden.log").read_bytes()
ENTRIES = read_forwarder_log(LOG)
REC = "000122806:15:31.82711 01  1D65725041339"  # a V1 record of that log


class Listener:
    """A running listener, the detections it delivered and the states it reported."""

    def __init__(self, **options: Any) -> None:
        self.detections: list[Detection] = []
        self.states: list[DecoderState] = []
        self._changed = asyncio.Event()
        self.server = MyLapsExchangeServer(
            "mylaps+listen://127.0.0.1:0",
            self._on_detection,
            clock=ManualClock(42),  # never moves
            on_state=self._on_state,
            **{"ping_interval_s": 3600.0, **options},
        )

    async def _on_detection(self, detection: Detection) -> None:
        self.detections.append(detection)

    def _on_state(self, state: DecoderState) -> None:
        self.states.append(state)
        self._changed.set()

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        assert self.server.port is not None
        return await asyncio.open_connection("127.0.0.1", self.server.port)

    async def until(self, done: Callable[[DecoderState], bool]) -> DecoderState:
        """Wait (no deadline here: pytest-timeout is the guard) until the state says done."""
        while not done(self.server.state):
            self._changed.clear()
            await self._changed.wait()
        return self.server.state


@contextlib.asynccontextmanager
async def listening(**options: Any) -> AsyncIterator[Listener]:
    listener = Listener(**options)
    task = asyncio.create_task(listener.server.run())
    await listener.server.wait_listening()
    try:
        yield listener
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def read_messages(reader: asyncio.StreamReader, count: int) -> list[Received]:
    framer = MessageFramer()
    out: list[Received] = []
    while len(out) < count:
        data = await reader.read(65536)
        assert data, f"closed after {len(out)} of {count} messages: {out[-3:]}"
        out += framer.receive(data)
    return out


async def send_in_chunks(writer: asyncio.StreamWriter, data: bytes, size: int = 4096) -> None:
    for start in range(0, len(data), size):
        writer.write(data[start : start + size])
        await writer.drain()


async def test_whole_log_replayed_one_detection_per_distinct_record() -> None:
    stream = client_stream(ENTRIES)
    sent = MessageFramer().receive(stream)
    kinds = collections.Counter(type(m).__name__ for m in sent)
    replies = kinds["Pong"] + 2 + kinds["Store"] + kinds["Marker"]  # + GetLocations, GetInfo
    async with listening() as listener:
        reader, writer = await listener.connect()
        reading = asyncio.create_task(read_messages(reader, replies))
        await send_in_chunks(writer, stream)
        answers = await reading
        writer.close()
        state = await listener.until(lambda s: not s.connected)
    got = collections.Counter(type(m).__name__ for m in answers)
    assert got == {
        "AckPong": kinds["Pong"],
        "GetLocations": 1,
        "GetInfo": 1,
        "AckStore": kinds["Store"],
        "AckMarker": kinds["Marker"],
    }
    stores = [m.message_number for m in sent if isinstance(m, Store)]
    assert [m.message_number for m in answers if isinstance(m, AckStore)] == stores
    # Counted from the log without the codec: distinct 39-character records between "@".
    raw = set(re.findall(rb"(?<=@)[0-9A-Z]{7}\d\d:\d\d:\d\d\.\d{3}[ \d]{2} [0-9A-F]{2}", LOG))
    assert len(listener.detections) == len(set(listener.detections)) == 2_494
    assert {(d.transponder.encode(), d.time_us % 86_400_000_000) for d in listener.detections} == {
        (r[:7], _time_of_day_us(r[7:19].decode())) for r in raw
    }
    assert state.frames == len(sent) and state.bad_frames == 0 and state.junk_bytes == 0
    assert state.passings == 2_494 and state.duplicates == 3_724 - 2_494
    assert isinstance(state.decoder_id, str) and "5Km" in state.decoder_id
    assert state.last_status_at_us == 42
    assert (state.connects, state.disconnects) == (1, 1)


async def test_the_acknowledged_session_gets_the_replies_the_log_shows() -> None:
    start = next(i for i, e in enumerate(ENTRIES) if e.timestamp.startswith("2025-04-16"))
    theirs = [parse_message(e.data) for e in ENTRIES[start:] if not e.from_client]
    theirs = [m for m in theirs if not isinstance(m, Ping)]  # ours are timer-driven
    stream = client_stream(ENTRIES[start:])
    # the log's forwarder answered no Marker; we acknowledge each (4 in this part of the log),
    # so we wait for all of them too (replies read in one chunk used to hide a short count)
    markers = sum(isinstance(m, Marker) for m in MessageFramer().receive(stream))
    async with listening() as listener:
        reader, writer = await listener.connect()
        reading = asyncio.create_task(read_messages(reader, len(theirs) + markers))
        await send_in_chunks(writer, stream, size=997)
        ours = await reading
        writer.close()
    assert sum(isinstance(m, AckMarker) for m in ours) == markers == 4
    ours = [m for m in ours if not isinstance(m, AckMarker)]
    assert [type(m) for m in ours] == [type(m) for m in theirs]
    assert [type(m) for m in ours[:3]] == [AckPong, GetLocations, GetInfo]
    numbers = [m.message_number for m in ours if isinstance(m, AckStore)]
    assert numbers == [m.message_number for m in theirs if isinstance(m, AckStore)]
    assert numbers == list(range(2, 82))
    assert len(listener.detections) == 2_391


async def test_several_clients_at_once() -> None:
    record = parse_chip_record(REC)
    assert isinstance(record, ChipRecord)
    async with listening() as listener:
        a_reader, a_writer = await listener.connect()
        b_reader, b_writer = await listener.connect()
        await listener.until(lambda s: s.connects == 2)
        assert listener.server.state.connected
        for writer, name in ((a_writer, "Start"), (b_writer, "Finish")):
            writer.write(encode(Pong(name)) + encode(Store(name, (record,), 7)))
        for reader in (a_reader, b_reader):
            answers = await read_messages(reader, 4)
            assert answers[-1] == AckStore("racecontrol", 7)
        a_writer.close()
        state = await listener.until(lambda s: s.disconnects == 1)
        assert state.connected  # the other one is still there
        b_writer.close()
        state = await listener.until(lambda s: s.disconnects == 2)
        assert not state.connected
    assert sorted(d.decoder_id for d in listener.detections) == ["Finish", "Start"]
    assert state.decoder_id == "Finish, Start"


async def test_pings_and_a_silent_client_is_closed() -> None:
    async with listening(ping_interval_s=0.02, silence_timeout_s=0.3) as listener:
        reader, writer = await listener.connect()
        framer = MessageFramer()
        pings: list[Received] = []
        while data := await reader.read(1024):  # until the server closes the connection
            pings += framer.receive(data)
        assert pings and set(pings) == {Ping("racecontrol")}
        state = await listener.until(lambda s: s.disconnects == 1)
        writer.close()
    assert not state.connected
    assert state.last_error is not None and "silent" in state.last_error


async def test_answering_pings_keeps_a_client_connected() -> None:
    async with listening(ping_interval_s=0.01, silence_timeout_s=0.5) as listener:
        reader, writer = await listener.connect()
        framer = MessageFramer()
        answered = 0
        while answered < 100:  # far longer than the silence timeout, in pings
            for message in framer.receive(await reader.read(1024)):
                assert message == Ping("racecontrol")
                writer.write(encode(AckPing("5Km")))
                answered += 1
        assert listener.server.state.disconnects == 0
        writer.close()


async def test_garbage_and_bad_checksums_are_counted_not_fatal() -> None:
    bad_sum = REC[:-2] + "00"
    async with listening() as listener:
        reader, writer = await listener.connect()
        writer.write(b"\x8e\x02\x33\x00$hello$\r\n")
        writer.write(f"5Km@Store@{REC}@{bad_sum}@3@$".encode())
        assert await read_messages(reader, 1) == [AckStore("racecontrol", 3)]
        state = await listener.until(lambda s: s.bad_frames == 3)
        writer.close()
    assert state.frames == 1 and state.passings == 1
    assert [d.transponder for d in listener.detections] == ["0001228"]
    assert any(s.last_error == "1 chip record(s) rejected" for s in listener.states)


async def test_detections_are_delivered_before_the_acknowledgement() -> None:
    async with listening() as listener:
        reader, writer = await listener.connect()
        writer.write(f"5Km@Store@{REC}@4@$".encode())
        await read_messages(reader, 1)
        assert len(listener.detections) == 1  # already delivered when the ack arrived
        writer.close()


async def test_too_many_clients_are_refused() -> None:
    async with listening(max_clients=1) as listener:
        _, first = await listener.connect()
        await listener.until(lambda s: s.connects == 1)
        reader, second = await listener.connect()
        assert await reader.read(100) == b""
        assert listener.server.state.connects == 1
        first.close()
        second.close()


async def test_a_failing_callback_ends_run() -> None:
    async def broken(detection: Detection) -> None:
        raise RuntimeError("bug in the caller")

    server = MyLapsExchangeServer("mylaps+listen://127.0.0.1:0", broken)
    task = asyncio.create_task(server.run())
    port = await server.wait_listening()
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"5Km@Store@{REC}@4@$".encode())
    with pytest.raises(ExceptionGroup) as raised:
        await task
    assert raised.group_contains(RuntimeError)
    writer.close()


async def test_a_busy_port_is_reported_and_retried() -> None:
    async with listening() as first:
        taken = first.server.port
        errors: list[str | None] = []
        changed = asyncio.Event()

        def on_state(state: DecoderState) -> None:
            errors.append(state.last_error)
            changed.set()

        url = f"mylaps+listen://127.0.0.1:{taken}"
        second = MyLapsExchangeServer(url, _ignore, on_state=on_state)
        task = asyncio.create_task(second.run())
        await changed.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert errors[0] is not None and errors[0].startswith("cannot listen")


async def test_a_reset_connection_is_counted() -> None:
    async with listening() as listener:
        _, writer = await listener.connect()
        await listener.until(lambda s: s.connects == 1)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # RST instead of FIN
        state = await listener.until(lambda s: s.disconnects == 1)
    assert not state.connected


def test_listen_urls() -> None:
    assert parse_listen_url("mylaps+listen://0.0.0.0:3097") == ("0.0.0.0", 3097)
    assert parse_listen_url("MYLAPS+LISTEN://[::1]") == ("::1", 3097)
    for bad in (
        "tcp://0.0.0.0:3097",
        "mylaps+listen://:3097",
        "mylaps+listen://0.0.0.0:port",
        "mylaps+listen://0.0.0.0:3097/x",
    ):
        with pytest.raises(ValueError):
            parse_listen_url(bad)
    with pytest.raises(ValueError):
        MyLapsExchangeServer("mylaps+listen://0.0.0.0", _ignore, ping_interval_s=0)


async def _ignore(detection: Detection) -> None:
    return None


def _time_of_day_us(text: str) -> int:
    h, m, s = text.split(":")
    return ((int(h) * 60 + int(m)) * 60 * 1000 + round(float(s) * 1000)) * 1000
