"""The P3 emulator over real loopback TCP, read by plain asyncio clients."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator

import pytest

from tests.fixtures.loopback import until
from tests.fixtures.timing_data import TIMING_DATA
from timing_adapters.capture import read_hex_capture
from timing_adapters.clock import ManualClock, ScaledClock
from timing_adapters.emulator.server import P3Emulator, ScheduledPassing
from timing_adapters.p3 import (
    DecodeResult,
    Field,
    GetTime,
    Passing,
    Status,
    UnknownRecord,
    Version,
    decode_frame,
    encode,
    encode_get_time,
    encode_resend,
)

DATA = TIMING_DATA
# vmindru/ambp3client test_server/amb-short.out, commit 072b0084 (Apache-2.0).
SHORT = DATA / "p3-karting-ambp3client" / "amb-short.out"
DECODER_ID = 0x0004_1813


class Client:
    """A decoder client that splits what it receives into wire frames (raw 0x8F = end)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def frames(self, n: int, timeout: float = 3.0) -> list[bytes]:
        async with asyncio.timeout(timeout):
            return [await self.reader.readuntil(b"\x8f") for _ in range(n)]

    async def records(self, n: int) -> list[DecodeResult]:
        return [decode_frame(f) for f in await self.frames(n)]

    async def passings(self, n: int) -> list[Passing]:
        records = await self.records(n)
        assert all(isinstance(r, Passing) for r in records)
        return [r for r in records if isinstance(r, Passing)]

    async def at_eof(self, timeout: float = 3.0) -> bool:
        """True once the server has closed (or reset) the connection."""
        with contextlib.suppress(ConnectionError):
            async with asyncio.timeout(timeout):
                await self.reader.read()
        return True


@contextlib.asynccontextmanager
async def connect(port: int, *, rcvbuf: int | None = None) -> AsyncIterator[Client]:
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock)
    try:
        yield Client(reader, writer)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@pytest.fixture
async def emulator() -> AsyncIterator[P3Emulator]:
    emu = P3Emulator(clock=ScaledClock(1000.0), status_interval_s=3600, first_passing_number=100)
    await emu.start()
    yield emu
    await emu.stop()


async def test_client_gets_version_then_paced_passings() -> None:
    clock = ScaledClock(100.0)
    emu = P3Emulator(clock=clock, status_interval_s=3600, first_passing_number=100)
    port = await emu.start()
    try:
        async with connect(port) as client:
            await emu.wait_for_clients(1)
            [version] = await client.records(1)
            assert version == Version(DECODER_ID, "racecontrol P3 emulator", "1.0")
            before, started = clock.now_us(), time.monotonic()
            schedule = [ScheduledPassing(0, 111), ScheduledPassing(5_000_000, 111)]
            await emu.play([ScheduledPassing(2_000_000, 222), *schedule])  # sorted by time
            assert time.monotonic() - started >= 0.045  # 5 s of race at 100x
            records = await client.passings(3)
    finally:
        await emu.stop()
    assert [(r.passing_number, r.transponder) for r in records] == [
        (100, 111),
        (101, 222),
        (102, 111),
    ]
    times = [r.rtc_time_us for r in records]
    assert 0 <= times[0] - before < 1_000_000
    assert [t - times[0] for t in times] == [0, 2_000_000, 5_000_000]
    assert emu.passings_sent == 3 and sorted(emu.history) == [100, 101, 102]


async def test_resend_returns_the_requested_frames(emulator: P3Emulator) -> None:
    async with connect(emulator.port) as client:
        await client.frames(1)  # VERSION
        for transponder in range(1, 6):
            emulator.push_passing(transponder)
        sent = await client.frames(5)
        client.writer.write(encode_resend(101, 103) + encode_resend(104, 999))
        assert await client.frames(4) == sent[1:]
        assert sent == [emulator.history[n] for n in range(100, 105)]


async def test_get_time_answer(emulator: P3Emulator) -> None:
    async with connect(emulator.port) as client:
        await client.frames(1)
        before = emulator.clock.now_us()
        client.writer.write(encode_get_time())
        [answer] = await client.records(1)
        assert isinstance(answer, GetTime) and answer.rtc_time_us is not None
        assert before <= answer.rtc_time_us <= emulator.clock.now_us()
        assert Field(0x81, DECODER_ID.to_bytes(4, "little")) in answer.fields


async def test_junk_and_other_records_from_clients_are_ignored(emulator: P3Emulator) -> None:
    async with connect(emulator.port) as client:
        await client.frames(1)
        client.writer.write(b"\x00junk\x8e\x8f" + encode(Status(noise=1)) + encode_get_time())
        [answer] = await client.records(1)
        assert isinstance(answer, GetTime)
        assert emulator.clients == 1


async def test_status_is_sent_periodically() -> None:
    emu = P3Emulator(clock=ScaledClock(1000.0), status_interval_s=0.02)
    port = await emu.start()
    try:
        async with connect(port) as client:
            records = await client.records(3)
    finally:
        await emu.stop()
    assert isinstance(records[0], Version)
    for status in records[1:]:
        assert isinstance(status, Status)
        assert status.decoder_id == DECODER_ID and status.noise and status.temperature


async def test_restart_on_same_port_serves_passings_made_while_down(emulator: P3Emulator) -> None:
    port = emulator.port
    async with connect(port) as client:
        await client.frames(1)
        emulator.push_passing(7)
        await client.frames(1)
        await emulator.stop()
        assert await client.at_eof()
    assert emulator.clients == 0 and not emulator.running
    emulator.push_passing(8)  # the decoder keeps detecting while nobody listens
    emulator.push_passing(9)
    assert await emulator.start() == port
    async with connect(port) as client:
        await client.frames(1)
        client.writer.write(encode_resend(100, 102))
        records = await client.passings(3)
    assert [r.transponder for r in records] == [7, 8, 9]


async def test_playback_continues_through_a_restart() -> None:
    clock = ManualClock(0)
    emulator = P3Emulator(clock=clock, status_interval_s=3600, first_passing_number=100)
    await emulator.start()
    schedule = [ScheduledPassing(i * 20_000, 1000 + i) for i in range(10)]  # one each 20 ms
    play = asyncio.create_task(emulator.play(schedule))
    try:
        await until_asleep(clock)
        clock.advance_to(40_000)  # passings 0, 1 and 2 are due
        await until_asleep(clock)
        await emulator.stop()  # the decoder restarts while the race goes on
        clock.advance_to(100_000)
        await until_asleep(clock)
        assert sorted(emulator.history) == list(range(100, 106))
        await emulator.start()
        clock.advance_to(180_000)
        await play
    finally:
        await emulator.stop()
    assert sorted(emulator.history) == list(range(100, 110))
    assert [decode_frame(emulator.history[n]).rtc_time_us for n in (100, 105, 109)] == [
        0,
        100_000,
        180_000,
    ]


async def until_asleep(clock: ManualClock) -> None:
    """Until the player waits for a later moment (it has sent everything due)."""
    async with asyncio.timeout(3):
        while not clock.sleepers:  # noqa: ASYNC110 - the clock has no "asleep" event
            await asyncio.sleep(0)


async def test_capture_playback_is_byte_exact(emulator: P3Emulator) -> None:
    frames = read_hex_capture(SHORT)
    async with connect(emulator.port) as client:
        await emulator.wait_for_clients()
        await emulator.play_capture(frames, realtime=False)
        received = await client.frames(1 + len(frames))
        assert received[1:] == frames
        # A passing from the capture can be asked for again, as it was recorded.
        client.writer.write(encode_resend(157830, 157830))
        [again] = await client.frames(1)
    assert len(emulator.history) == 83 and emulator.passings_sent == 83
    assert again == emulator.history[157830] and again in frames
    assert emulator.push_passing(1).passing_number == 157861  # numbering carries on


async def test_capture_playback_in_realtime_is_paced() -> None:
    frames = read_hex_capture(SHORT)[:60]
    passings = [r for r in map(decode_frame, frames) if isinstance(r, Passing)]
    span_s = (passings[-1].rtc_time_us - passings[0].rtc_time_us) / 1e6
    speed = span_s / 0.1  # replay in about 0.1 s
    emu = P3Emulator(clock=ScaledClock(speed), status_interval_s=3600)
    await emu.start()
    try:
        started = time.monotonic()
        await emu.play_capture(frames)
        assert time.monotonic() - started >= 0.09
    finally:
        await emu.stop()
    assert emu.passings_sent == len(passings)


async def test_a_stuck_client_is_dropped_without_holding_up_the_others() -> None:
    # the stuck client is dropped after 1 s; the good one keeps up even on a loaded machine
    emu = P3Emulator(clock=ScaledClock(1000.0), status_interval_s=3600, send_timeout_s=1.0)
    port = await emu.start()
    big = encode(UnknownRecord(0x45, (Field(1, b"\x00" * 250),) * 4))  # ~1 KiB on the wire
    count = 8_000  # 8 MB: more than the kernel buffers for a client that never reads
    try:
        async with connect(port, rcvbuf=4096) as stuck, connect(port) as good:
            await emu.wait_for_clients(2)
            await good.frames(1)
            replay = asyncio.create_task(emu.play_capture([big] * count, realtime=False))
            received = await good.frames(count, timeout=10.0)
            await replay
            assert received == [big] * count
            # the stuck client must not read before it is dropped: reading would unstick it
            await until(lambda: emu.clients == 1)
            assert await stuck.at_eof()
    finally:
        await emu.stop()


async def test_a_client_that_falls_too_far_behind_is_dropped() -> None:
    emu = P3Emulator(clock=ScaledClock(1000.0), status_interval_s=3600, max_pending=10)
    port = await emu.start()
    try:
        async with connect(port) as client:
            await emu.wait_for_clients()
            for transponder in range(20):  # no await: the client cannot catch up
                emu.push_passing(transponder)
            assert await client.at_eof()
            assert emu.clients == 0 and len(emu.history) == 20
    finally:
        await emu.stop()


async def test_disconnected_client_is_forgotten(emulator: P3Emulator) -> None:
    async with connect(emulator.port):
        await emulator.wait_for_clients()
    async with asyncio.timeout(3):
        while emulator.clients:  # noqa: ASYNC110 - the emulator has no "client left" event
            await asyncio.sleep(0.01)
    sent = emulator.push_passing(1)  # nothing to send to, nothing breaks: it is kept
    assert emulator.clients == 0 and emulator.history == {sent.passing_number: encode(sent)}
    async with connect(emulator.port) as client:  # a new client is served as usual
        await emulator.wait_for_clients()
        assert isinstance((await client.records(1))[0], Version)
        emulator.push_passing(2)
        assert [p.transponder for p in await client.passings(1)] == [2]


async def test_misuse_raises(emulator: P3Emulator) -> None:
    with pytest.raises(ValueError):
        emulator.push_passing(-1)
    assert emulator.history == {} and emulator.push_passing(5).passing_number == 100
    with pytest.raises(RuntimeError):
        await emulator.start()
    with pytest.raises(TimeoutError):
        await emulator.wait_for_clients(1, timeout=0.05)
    with pytest.raises(ValueError):
        P3Emulator(decoder_id=-1)
