"""Serial transport: URL parsing, and real pseudo-terminals standing in for the cable."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fixtures.loopback import until
from timing_adapters.p3 import P3Decoder, Passing, Resend, Status, encode
from timing_adapters.runner import DecoderRunner
from timing_adapters.serial_transport import (
    SerialConfig,
    open_serial,
    parse_serial_url,
    serial_opener,
)


class Cable:
    """The decoder's end of a real pseudo-terminal; the runner opens ``path``."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        # Raw before anyone opens it, so nothing is echoed or edited before pyserial sets it.
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self.closed = False

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    async def read(self, timeout: float = 3.0) -> bytes:
        """Wait for bytes the runner wrote."""
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        loop.add_reader(self.master, ready.set)
        try:
            async with asyncio.timeout(timeout):
                await ready.wait()
        finally:
            loop.remove_reader(self.master)
        return os.read(self.master, 4096)

    def unplug(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.master)
            os.close(self._slave)


@contextlib.contextmanager
def cable() -> Iterator[Cable]:
    c = Cable()
    try:
        yield c
    finally:
        c.unplug()


@contextlib.asynccontextmanager
async def running(runner: DecoderRunner) -> AsyncIterator[DecoderRunner]:
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# -- URLs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("serial:///dev/ttyUSB0", SerialConfig("/dev/ttyUSB0")),
        ("serial:///dev/ttyUSB0?baud=19200", SerialConfig("/dev/ttyUSB0", 19200)),
        (
            "p3+serial:///dev/ttyS1?baudrate=38400&parity=even&bytesize=7&stopbits=2",
            SerialConfig("/dev/ttyS1", 38400, 7, "E", 2.0),
        ),
        ("amb+serial:///dev/ttyS0?baud=9600&rts=off", SerialConfig("/dev/ttyS0", rts=False)),
        (
            "SERIAL:///dev/serial/by-id/usb-FTDI%20X-if00",
            SerialConfig("/dev/serial/by-id/usb-FTDI X-if00"),
        ),
        ("serial://COM3?baud=9600&stopbits=1.5&parity=N", SerialConfig("COM3", stopbits=1.5)),
    ],
)
def test_parse_serial_url(url: str, expected: SerialConfig) -> None:
    assert parse_serial_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("tcp://decoder:5403", "not a serial URL"),
        ("serial://", "names no device"),
        ("serial:///", "names no device"),
        ("serial://host/dev/ttyUSB0", "three slashes"),
        ("serial:///dev/ttyUSB0?baud=fast", "baud must be"),
        ("serial:///dev/ttyUSB0?baud=10", "baud must be"),
        ("serial:///dev/ttyUSB0?baud=9600&baud=19200", "given twice"),
        ("serial:///dev/ttyUSB0?parity=Q", "parity must be"),
        ("serial:///dev/ttyUSB0?bytesize=9", "bytesize must be"),
        ("serial:///dev/ttyUSB0?stopbits=3", "stopbits must be"),
        ("serial:///dev/ttyUSB0?rts=maybe", "rts must be"),
        ("serial:///dev/ttyUSB0?speed=9600", "unknown option 'speed'"),
        ("serial:///dev/ttyUSB0?baud", "malformed query"),
        ("serial:///dev/ttyUSB0#frag", "nothing may follow"),
    ],
)
def test_parse_serial_url_rejects(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_serial_url(url)


def test_opener_checks_the_url_at_once() -> None:
    with pytest.raises(ValueError, match="unknown option"):
        serial_opener("serial:///dev/ttyUSB0?flow=hw")


# -- a real pseudo-terminal -------------------------------------------------------------------


async def test_open_serial_carries_every_byte_value_both_ways() -> None:
    every_byte = bytes(range(256))  # includes CR, LF, ^C, XON/XOFF, DEL: nothing translated
    with cable() as c:
        reader, writer = await open_serial(f"serial://{c.path}?baud=19200")
        try:
            c.write(every_byte)
            got = b""
            async with asyncio.timeout(3.0):
                while len(got) < 256:
                    got += await reader.read(4096)
            assert got == every_byte
            writer.write(every_byte)
            await writer.drain()
            back = b""
            while len(back) < 256:
                back += await c.read()
            assert back == every_byte
        finally:
            writer.close()
            await writer.wait_closed()


async def test_missing_device_is_oserror() -> None:
    with pytest.raises(OSError):
        await open_serial("serial:///dev/racecontrol-no-such-port")


async def test_a_port_is_opened_by_one_reader_only() -> None:
    with cable() as c:
        _reader, writer = await open_serial(f"serial://{c.path}")
        try:
            with pytest.raises(OSError):
                await open_serial(f"serial://{c.path}")
        finally:
            writer.close()
            await writer.wait_closed()


async def test_unplugging_is_an_oserror_from_read() -> None:
    with cable() as c:
        reader, writer = await open_serial(f"serial://{c.path}")
        c.unplug()
        with pytest.raises(OSError):
            async with asyncio.timeout(3.0):
                await reader.read(100)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


# -- P3 over serial, through the P3 runner ------------------------------------------------------


def p3_passing(n: int) -> Passing:
    return Passing(passing_number=n, transponder=4000 + n, rtc_time_us=n * 1_000_000)


async def test_p3_runner_over_a_pseudo_terminal_delivers_and_resends() -> None:
    got: list[Passing] = []

    async def collect(p: Passing) -> None:
        got.append(p)

    with cable() as c:
        url = f"p3+serial://{c.path}?baud=19200"
        runner = DecoderRunner(url, collect, opener=serial_opener(url), resend_timeout_s=2.0)
        async with running(runner):
            await until(lambda: runner.state.connected)
            c.write(encode(Status(noise=12, decoder_id=0x4242)) + encode(p3_passing(1)))
            c.write(encode(p3_passing(2)) + encode(p3_passing(4)))  # 3 went missing
            requests: list[Resend] = []
            codec = P3Decoder()
            while not requests:
                requests += [r for r in codec.receive(await c.read()) if isinstance(r, Resend)]
            assert (requests[0].from_passing, requests[0].until_passing) == (3, 3)
            c.write(encode(p3_passing(3)))
            await until(lambda: len(got) == 4)
            state = runner.state
    assert [p.passing_number for p in got] == [1, 2, 3, 4]
    assert [p.transponder for p in got] == [4001, 4002, 4003, 4004]
    assert state.noise == 12 and state.decoder_id == 0x4242 and state.url == url
    assert state.connects == 1 and state.resend_requests == 1 and state.bad_frames == 0


async def test_p3_runner_reconnects_when_the_adapter_comes_back(tmp_path: Path) -> None:
    """Like a udev /dev/serial/by-id link: the runner follows the name, not the device."""
    got: list[Passing] = []

    async def collect(p: Passing) -> None:
        got.append(p)

    link = tmp_path / "ttyDECODER"
    url = f"serial://{link}"
    with cable() as first:
        link.symlink_to(first.path)
        runner = DecoderRunner(
            url, collect, opener=serial_opener(url), backoff_initial_s=0.02, backoff_cap_s=0.1
        )
        async with running(runner):
            await until(lambda: runner.state.connected)
            first.write(encode(p3_passing(1)))
            await until(lambda: len(got) == 1)
            first.unplug()
            await until(lambda: not runner.state.connected)
            with cable() as second:
                link.unlink()
                link.symlink_to(second.path)
                await until(lambda: runner.state.connects == 2)
                second.write(encode(p3_passing(2)))
                await until(lambda: len(got) == 2)
                state = runner.state
    assert [p.passing_number for p in got] == [1, 2]
    assert state.disconnects == 1 and state.connected
    assert state.last_error is not None and "connection lost" in state.last_error
