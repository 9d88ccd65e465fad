"""AmbLegacyRunner over real loopback TCP and real pseudo-terminals, AMB (P98) and I-Lap."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from tests.fixtures.loopback import scripted_server as tiny_server
from tests.fixtures.loopback import until
from timing_adapters.adapter import Detection
from timing_adapters.amb_legacy import ILAP_INIT, AmbLegacyRunner, Init, Passing, Status, encode

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def p98(n: int, chip: str = "8110984", seconds: int = 0) -> bytes:
    time_us = (seconds or n) * 1_000_000 + 123_000
    return encode(Passing("101", chip, time_us, n, hits=150, strength=40, status=2))


def status(n: int, noise: int = 7) -> bytes:
    return encode(Status("101", n, noise))


class Collector:
    def __init__(self) -> None:
        self.detections: list[Detection] = []

    async def __call__(self, d: Detection) -> None:
        self.detections.append(d)

    @property
    def numbers(self) -> list[int | None]:
        return [d.passing_number for d in self.detections]


@contextlib.asynccontextmanager
async def running(runner: AmbLegacyRunner) -> AsyncIterator[AmbLegacyRunner]:
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.contextmanager
def pty_path() -> Iterator[tuple[int, str]]:
    """A real pseudo-terminal: (the decoder's end, the device path the runner opens)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(master, False)
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


async def read_pty(master: int, timeout: float = 3.0) -> bytes:
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()
    loop.add_reader(master, ready.set)
    try:
        async with asyncio.timeout(timeout):
            await ready.wait()
    finally:
        loop.remove_reader(master)
    return os.read(master, 4096)


async def _never(d: Detection) -> None:
    raise AssertionError("no detection expected")


# -- URLs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("amb://decoder:8899", "scheme must be one of"),
        ("p3+tcp://decoder:5403", "scheme must be one of"),
        ("amb+tcp://decoder", "give the decoder's TCP port"),
        ("amb+tcp://:8899", "has no host"),
        ("ilap+tcp://decoder:port", "invalid decoder URL"),
        ("ilap+tcp://decoder:8899/x", "nothing after"),
        ("ilap+serial:///dev/ttyUSB0?baud=fast", "baud must be"),
        ("amb+serial://", "names no device"),
    ],
)
def test_bad_urls_fail_at_construction(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AmbLegacyRunner(url, _never)


def test_clock_reset_is_an_ilap_command_only() -> None:
    with pytest.raises(ValueError, match="I-Lap command"):
        AmbLegacyRunner("amb+tcp://decoder:8899", _never, reset_clock=True)
    AmbLegacyRunner("ilap+serial:///dev/ttyUSB0", _never, reset_clock=True)


# -- AMB (P98) over loopback TCP --------------------------------------------------------------


async def test_amb_over_tcp_delivers_detections_and_counts_bad_records() -> None:
    corrupt = p98(3).replace(b"8110984", b"8110985")  # CRC no longer matches

    async def decoder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stream = b"\x00junk" + status(1, noise=23) + p98(2) + corrupt + p98(4, "3444425")
        for i in range(0, len(stream), 7):  # dribbled out in small pieces
            writer.write(stream[i : i + 7])
            await writer.drain()
        await reader.read()

    got = Collector()
    async with tiny_server(decoder) as port:
        url = f"amb+tcp://127.0.0.1:{port}"
        runner = AmbLegacyRunner(url, got)
        async with running(runner):
            await until(lambda: len(got.detections) == 2 and runner.state.bad_frames == 1)
            state = runner.state
    assert got.detections == [
        Detection("101", "8110984", 2_123_000, passing_number=2, relative_clock=True),
        Detection("101", "3444425", 4_123_000, passing_number=4, relative_clock=True),
    ]
    assert state.noise == 23 and state.decoder_id == "101" and state.last_status_at_us
    assert (state.frames, state.bad_frames, state.junk_bytes) == (3, 1, 5)
    assert state.passings == 2 and state.last_passing_number == 4 and state.url == url


async def test_watchdog_reconnects_when_the_decoder_goes_silent() -> None:
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        writer.write(status(1))
        await reader.read()

    async with tiny_server(silent) as port:
        runner = AmbLegacyRunner(
            f"amb+tcp://127.0.0.1:{port}", _never, silence_timeout_s=0.2, backoff_initial_s=0.05
        )
        async with running(runner):
            await until(lambda: runner.state.connects >= 3)
            state = runner.state
        for w in held:
            w.close()
    assert state.disconnects >= 2 and state.last_error == "no record for 0.2 s"
    assert state.frames >= 2  # counters carry over reconnects


async def test_replayed_passings_after_a_reconnect_are_dropped() -> None:
    sessions = 0

    async def decoder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sessions
        sessions += 1
        if sessions == 1:
            writer.write(p98(1) + status(2) + p98(3))
            await writer.drain()
            return  # hang up
        writer.write(p98(1) + p98(3) + p98(5))  # a decoder that replays its buffer
        await reader.read()

    got = Collector()
    async with tiny_server(decoder) as port:
        runner = AmbLegacyRunner(f"amb+tcp://127.0.0.1:{port}", got, backoff_initial_s=0.02)
        async with running(runner):
            await until(lambda: got.numbers[-1:] == [5])
            state = runner.state
    assert got.numbers == [1, 3, 5]
    assert state.duplicates == 2 and state.connects == 2 and state.disconnects == 1


# -- over a real pseudo-terminal --------------------------------------------------------------


async def test_amb_over_a_pseudo_terminal() -> None:
    got = Collector()
    with pty_path() as (master, path):
        runner = AmbLegacyRunner(f"amb+serial://{path}?baud=9600", got)
        async with running(runner):
            await until(lambda: runner.state.connected)
            os.write(master, status(10) + p98(11) + b"\r\nnoise\r\n" + p98(12, "3444425"))
            await until(lambda: len(got.detections) == 2)
            state = runner.state
    assert [(d.transponder, d.time_us) for d in got.detections] == [
        ("8110984", 11_123_000),
        ("3444425", 12_123_000),
    ]
    assert state.frames == 3 and state.junk_bytes == len(b"\r\nnoise\r\n")


async def test_ilap_over_a_pseudo_terminal_resets_the_clock_once() -> None:
    got = Collector()
    with pty_path() as (master, path):
        runner = AmbLegacyRunner(f"ilap+serial://{path}", got, reset_clock=True)
        async with running(runner):
            assert await read_pty(master) == ILAP_INIT
            os.write(master, b"\x01%\t204\t0\t0\r\n")
            # Straight from the manufacturer's description: no CRC, trailing zero omitted.
            os.write(master, b"\x01@\t204\t3456789\t324.62\r\n\x01@\t204\t7251318\t4.448\r\n")
            await until(lambda: len(got.detections) == 2)
            state = runner.state
    assert got.detections == [
        Detection("204", "3456789", 324_620_000, relative_clock=True),
        Detection("204", "7251318", 4_448_000, relative_clock=True),
    ]
    assert state.decoder_id == "204" and state.bad_frames == 0 and state.connects == 1


async def test_ilap_over_tcp_has_no_watchdog_and_sends_nothing() -> None:
    received: dict[str, list[bytes]] = {"ilap": [], "watched": []}

    def decoder(name: str) -> Handler:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(encode(Init("206"), crc=False))
            writer.write(encode(Passing("206", "2097152", 1_500_000), crc=False))
            await writer.drain()
            received[name].append(await reader.read())  # then a quiet track

        return serve

    got = Collector()
    async with tiny_server(decoder("ilap")) as port, tiny_server(decoder("watched")) as other:
        runner = AmbLegacyRunner(f"ilap+tcp://127.0.0.1:{port}", got)
        # the yardstick: the same quiet decoder behind a 0.1 s watchdog hangs up 3 times
        watched = AmbLegacyRunner(
            f"ilap+tcp://127.0.0.1:{other}",
            Collector(),
            silence_timeout_s=0.1,
            backoff_initial_s=0.01,
            backoff_cap_s=0.01,
        )
        async with running(runner), running(watched):
            await until(lambda: len(got.detections) == 1)
            await until(lambda: watched.state.disconnects >= 3)
            state = runner.state
    assert watched.state.last_error == "no record for 0.1 s"
    assert got.detections == [Detection("206", "2097152", 1_500_000, relative_clock=True)]
    assert state.connects == 1 and state.disconnects == 0 and state.connected
    assert received["ilap"] in ([], [b""])  # never sent the clock-resetting init unasked


async def test_a_power_cycled_decoder_numbers_anew_in_a_new_epoch() -> None:
    async def decoder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(p98(1) + p98(2) + p98(3))
        # switched off and on: numbers (and its clock) from the start again, then a replay
        writer.write(p98(1, seconds=9) + p98(2, seconds=10) + p98(2, seconds=10))
        await reader.read()

    got = Collector()
    async with tiny_server(decoder) as port:
        runner = AmbLegacyRunner(f"amb+tcp://127.0.0.1:{port}", got, epoch=4)
        async with running(runner):
            await until(lambda: len(got.detections) == 5)
            state = runner.state
    assert got.numbers == [1, 2, 3, 1, 2]
    assert [d.epoch for d in got.detections] == [4, 4, 4, 5, 5]
    assert state.numbering_epoch == 5 and state.duplicates == 1
