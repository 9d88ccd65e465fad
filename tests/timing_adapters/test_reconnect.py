"""ReconnectingRunner on its own: a toy protocol (one record per byte) over loopback TCP."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

import pytest

from tests.fixtures.loopback import scripted_server
from timing_adapters.adapter import DecoderState
from timing_adapters.reconnect import ReconnectingRunner, Silence
from timing_adapters.transport import open_stream


class _ByteCounter:
    """The toy codec: every byte is a record, ``!`` is a bad one."""

    def __init__(self) -> None:
        self.records = self.bad = 0


class _ToyRunner(ReconnectingRunner[_ByteCounter]):
    def __init__(self, port: int, on_state: Callable[[DecoderState], None]) -> None:
        url = f"tcp://127.0.0.1:{port}"
        super().__init__(url, lambda: open_stream(url), on_state=on_state, backoff_initial_s=0.001)
        self.closed = 0

    def _new_codec(self) -> _ByteCounter:
        return _ByteCounter()

    def _counts(self, codec: _ByteCounter) -> tuple[int, int, int]:
        return codec.records, codec.bad, 0

    def _link_closed(self) -> None:
        self.closed += 1

    async def _receive(
        self, codec: _ByteCounter, data: bytes, writer: asyncio.StreamWriter
    ) -> None:
        if data == b"?":
            raise Silence("no byte for a while")
        codec.records += len(data)
        codec.bad += data.count(b"!")


async def _run_until(runner: _ToyRunner, done: asyncio.Event) -> None:
    task = asyncio.create_task(runner.run())
    try:
        async with asyncio.timeout(10):
            await done.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_counters_carry_across_connections_and_each_link_is_closed() -> None:
    replies = [b"ab!", b"?", b"cd"]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(replies.pop(0) if replies else b"")
        await writer.drain()
        writer.close()

    states: list[DecoderState] = []
    done = asyncio.Event()

    def on_state(state: DecoderState) -> None:
        states.append(state)
        if state.disconnects >= 3:
            done.set()

    async with scripted_server(serve) as port:
        runner = _ToyRunner(port, on_state)
        await _run_until(runner, done)
    state = runner.state
    assert (state.connects, state.disconnects, runner.closed) == (3, 3, 3)
    assert (state.frames, state.bad_frames) == (5, 1)
    assert not state.connected
    errors = [s.last_error for s in states]
    assert "no byte for a while" in errors
    assert state.last_error is not None and state.last_error.startswith("connection lost: EOF")


async def test_a_refused_connect_is_counted_as_an_error_not_raised() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = asyncio.Event()

    def on_state(state: DecoderState) -> None:
        if state.last_error is not None:
            done.set()

    runner = _ToyRunner(port, on_state)
    await _run_until(runner, done)
    assert runner.state.last_error is not None
    assert runner.state.last_error.startswith("connect failed:")
    assert runner.state.connects == 0


def test_backoff_is_capped_exponential() -> None:
    runner = _ToyRunner(1, lambda state: None)
    assert [runner.backoff_delay(k) for k in range(4)] == pytest.approx(
        [0.001, 0.002, 0.004, 0.008]
    )


class _TimedToyRunner(_ToyRunner):
    """The toy protocol with the shared watchdog on and one protocol timer."""

    def __init__(self, port: int, on_state: Callable[[DecoderState], None]) -> None:
        super().__init__(port, on_state)
        self._silence_s = 0.3
        self.timer_at: float | None = None
        self.timer_fired = 0
        self.greeted = 0

    async def _connected(self, writer: asyncio.StreamWriter) -> None:
        self.greeted += 1
        writer.write(b"hello")
        self.timer_at = asyncio.get_running_loop().time() + 0.05

    def _timer_deadline(self) -> float | None:
        return self.timer_at

    async def _timer_expired(self, writer: asyncio.StreamWriter) -> None:
        self.timer_fired += 1
        self.timer_at = None


async def test_the_shared_watchdog_fires_after_silence_and_the_protocol_timer_before() -> None:
    greetings: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        greetings.append(await reader.readexactly(5))
        writer.write(b"ab")  # two records, then silence with the socket open
        await writer.drain()
        await reader.read()  # until the runner hangs up

    done = asyncio.Event()

    def on_state(state: DecoderState) -> None:
        if state.disconnects >= 1:
            done.set()

    async with scripted_server(serve) as port:
        runner = _TimedToyRunner(port, on_state)
        await _run_until(runner, done)
    state = runner.state
    assert greetings[0] == b"hello" and runner.greeted >= 1
    assert runner.timer_fired >= 1  # its own timer woke the loop without ending the session
    assert state.frames >= 2 and state.disconnects >= 1
    assert state.last_error == "no frame for 0.3 s"
