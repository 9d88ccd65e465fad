"""DecoderRunner over real loopback TCP, and the pure PassingSequencer."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.fixtures.loopback import scripted_server as tiny_server
from tests.fixtures.loopback import until
from timing_adapters.amb_legacy import AmbLegacyRunner
from timing_adapters.clock import ManualClock, ScaledClock
from timing_adapters.emulator.scenario import generate_race
from timing_adapters.emulator.server import P3Emulator
from timing_adapters.p3 import GetTime, P3Decoder, Passing, Resend, Status, encode
from timing_adapters.runner import (
    CLOCK_SAMPLES,
    PROACTIVE_RESEND_WINDOW,
    DecoderRunner,
    DecoderState,
    PassingSequencer,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def passing(n: int, transponder: int | None = None) -> Passing:
    chip = 1000 + n if transponder is None else transponder
    return Passing(passing_number=n, transponder=chip, rtc_time_us=n * 1_000)


@contextlib.asynccontextmanager
async def running(runner: DecoderRunner) -> AsyncIterator[DecoderRunner]:
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task  # anything but the cancellation (a bug in run()) fails the test


class Collector:
    def __init__(self) -> None:
        self.passings: list[Passing] = []

    async def __call__(self, p: Passing) -> None:
        self.passings.append(p)

    @property
    def numbers(self) -> list[int]:
        return [p.passing_number for p in self.passings]


async def run_until_passing(
    handler: Handler, last: int, resend_timeout_s: float
) -> tuple[list[int], DecoderState]:
    """A runner on ``handler``'s decoder until passing ``last`` is delivered: the numbers
    it delivered, in order, and its state then."""
    got = Collector()
    async with tiny_server(handler) as port:
        runner = DecoderRunner(f"tcp://127.0.0.1:{port}", got, resend_timeout_s=resend_timeout_s)
        async with running(runner):
            await until(lambda: got.numbers[-1:] == [last])
            return got.numbers, runner.state


async def read_requests(reader: asyncio.StreamReader, into: list[Resend]) -> None:
    codec = P3Decoder()
    while data := await reader.read(4096):
        into.extend(r for r in codec.receive(data) if isinstance(r, Resend))


# -- PassingSequencer (pure) ------------------------------------------------------------------


def test_sequencer_in_order_and_duplicates() -> None:
    seq = PassingSequencer()
    assert seq.push(passing(41)) == ([passing(41)], None)  # the first one sets the start
    assert seq.push(passing(42)) == ([passing(42)], None)
    assert seq.push(passing(42)) == ([], None)
    assert seq.duplicates == 1


def test_sequencer_holds_back_past_a_hole_until_it_is_filled() -> None:
    seq = PassingSequencer(last_delivered=10)
    assert seq.push(passing(13)) == ([], (11, 12))
    assert seq.push(passing(16)) == ([], (14, 15))
    assert seq.holes() == [(11, 12), (14, 15)]
    assert seq.push(passing(13)) == ([], None)  # already held: a duplicate
    assert seq.push(passing(12)) == ([], None)
    ready, hole = seq.push(passing(11))
    assert [p.passing_number for p in ready] == [11, 12, 13] and hole is None
    assert seq.holes() == [(14, 15)]
    assert [p.passing_number for p in seq.skip_holes()] == [16]
    assert seq.lost == 2 and seq.last == 16 and not seq.pending


def test_sequencer_resume_after_restart_finds_the_gap() -> None:
    seq = PassingSequencer(last_delivered=5)
    assert seq.push(passing(5)) == ([], None)
    assert seq.push(passing(8)) == ([], (6, 7))


# -- back-off ---------------------------------------------------------------------------------


async def _never(p: Passing) -> None:
    raise AssertionError("no passing expected")


def test_backoff_is_capped_exponential_and_jitter_is_deterministic() -> None:
    runner = DecoderRunner("tcp://127.0.0.1:1", _never, backoff_initial_s=0.5, backoff_cap_s=10)
    assert [runner.backoff_delay(k) for k in range(7)] == [0.5, 1, 2, 4, 8, 10, 10]

    def jittered() -> list[float]:
        r = DecoderRunner("tcp://h", _never, jitter=0.2, rng=random.Random(3))
        return [r.backoff_delay(k) for k in range(5)]

    assert jittered() == jittered()
    assert all(0.8 * 0.5 * 2**k <= d <= 1.2 * 0.5 * 2**k for k, d in enumerate(jittered()))


def test_bad_url_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="serial transport not available yet"):
        DecoderRunner("serial:///dev/ttyUSB0", _never)


async def _nothing_expected(record: object) -> None:
    raise AssertionError(f"nothing expected from a decoder that is not there: {record!r}")


@pytest.mark.parametrize(
    ("scheme", "runner_type"), [("tcp", DecoderRunner), ("amb+tcp", AmbLegacyRunner)]
)
async def test_connect_failures_are_counted_not_raised(
    scheme: str, runner_type: type[DecoderRunner] | type[AmbLegacyRunner]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    states: list[DecoderState] = []
    runner = runner_type(
        f"{scheme}://127.0.0.1:{port}",
        _nothing_expected,
        on_state=states.append,
        backoff_initial_s=0.01,
    )
    async with running(runner):
        await until(lambda: len(states) >= 3)
    assert runner.state.connects == 0 and not runner.state.connected
    assert runner.state.last_error is not None and "connect failed" in runner.state.last_error


# -- tiny servers -----------------------------------------------------------------------------


async def test_watchdog_reconnects_when_the_decoder_goes_silent() -> None:
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accept, keep the socket open, say nothing
        await reader.read()

    async with tiny_server(silent) as port:
        runner = DecoderRunner(
            f"tcp://127.0.0.1:{port}", _never, silence_timeout_s=0.2, backoff_initial_s=0.05
        )
        async with running(runner):
            await until(lambda: runner.state.connects >= 3)
            state = runner.state
        for w in held:
            w.close()
    assert state.disconnects >= 2
    assert state.last_error == "no frame for 0.2 s"


async def test_status_keeps_the_watchdog_quiet_and_is_reported() -> None:
    async def chatty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while True:
                writer.write(encode(Status(noise=27, decoder_id=0x1234)))
                await writer.drain()
                await asyncio.sleep(0.05)

    async with tiny_server(chatty) as port:
        runner = DecoderRunner(f"tcp://127.0.0.1:{port}", _never, silence_timeout_s=0.3)
        async with running(runner):
            # 20 STATUS 50 ms apart: about three times the watchdog's 0.3 s
            await until(lambda: runner.state.frames >= 20)
            state = runner.state
    assert state.connects == 1 and state.connected and state.disconnects == 0
    assert state.noise == 27 and state.decoder_id == 0x1234
    assert state.last_status_at_us is not None and state.last_error is None


async def test_bad_frames_are_counted_and_the_stream_goes_on() -> None:
    junk = b"\x00hello\x01"
    corrupt = bytearray(encode(passing(1, 4242)))
    corrupt[12] ^= 0x01  # a field byte: the CRC no longer matches
    assert 0x8E not in corrupt[1:-1] and 0x8F not in corrupt[1:-1]

    async def noisy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(junk + bytes(corrupt) + encode(passing(1, 4242)))
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(encode(passing(2, 4343)))
        await writer.drain()
        await reader.read()

    got = Collector()
    async with tiny_server(noisy) as port:
        runner = DecoderRunner(f"tcp://127.0.0.1:{port}", got)
        async with running(runner):
            await until(lambda: len(got.passings) == 2)
            state = runner.state
    assert [(p.passing_number, p.transponder) for p in got.passings] == [(1, 4242), (2, 4343)]
    assert state.bad_frames == 1 and state.junk_bytes == len(junk) and state.frames == 2
    assert state.connects == 1 and state.last_passing_number == 2 and state.passings == 2


async def test_gap_is_requested_and_filled_in_order_and_duplicates_dropped() -> None:
    requests: list[Resend] = []

    async def gappy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(encode(passing(1)) + encode(passing(4)) + encode(passing(4)))
        codec = P3Decoder()
        while data := await reader.read(4096):
            for r in codec.receive(data):
                if isinstance(r, Resend):
                    requests.append(r)
                    frames = [
                        encode(passing(n)) for n in range(r.from_passing, r.until_passing + 1)
                    ]
                    writer.write(b"".join(frames) + encode(passing(1)) + encode(passing(5)))

    got = Collector()
    async with tiny_server(gappy) as port:
        runner = DecoderRunner(f"tcp://127.0.0.1:{port}", got)
        async with running(runner):
            await until(lambda: got.numbers[-1:] == [5])
            state = runner.state
    assert got.numbers == [1, 2, 3, 4, 5]
    assert [(r.from_passing, r.until_passing) for r in requests] == [(2, 3)]
    assert state.resend_requests == 1 and state.duplicates == 2 and state.lost_passings == 0


async def test_unanswered_resend_is_retried_then_given_up() -> None:
    requests: list[Resend] = []

    async def deaf(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"".join(encode(passing(n)) for n in (7, 8, 10, 11)))
        await read_requests(reader, requests)

    numbers, state = await run_until_passing(deaf, 11, resend_timeout_s=0.1)
    assert numbers == [7, 8, 10, 11]
    assert [(r.from_passing, r.until_passing) for r in requests] == [(9, 9), (9, 9)]
    assert state.lost_passings == 1 and state.resend_requests == 2 and state.connects == 1


async def test_resume_from_a_known_passing_number_asks_for_what_it_missed() -> None:
    requests: list[Resend] = []

    async def decoder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(encode(passing(5)) + encode(passing(8)))
        await read_requests(reader, requests)

    async with tiny_server(decoder) as port:
        runner = DecoderRunner(f"tcp://127.0.0.1:{port}", Collector(), last_passing_number=5)
        async with running(runner):
            await until(lambda: len(requests) == 2)
    # at once on connect: everything after the last known number; then the hole 8 revealed
    asked = [(r.from_passing, r.until_passing) for r in requests]
    assert asked == [(6, 5 + PROACTIVE_RESEND_WINDOW), (6, 7)]


async def test_the_clock_is_asked_before_the_missed_passings() -> None:
    """GET_TIME goes first on connect: its answer must not queue behind a RESEND's passings."""
    asked: list[object] = []

    async def decoder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        codec = P3Decoder()
        while data := await reader.read(4096):
            asked.extend(r for r in codec.receive(data) if isinstance(r, GetTime | Resend))

    async with tiny_server(decoder) as port:
        runner = DecoderRunner(f"tcp://127.0.0.1:{port}", Collector(), last_passing_number=5)
        async with running(runner):
            await until(lambda: len(asked) == 2)
    assert [type(r) for r in asked] == [GetTime, Resend]


async def test_the_quickest_of_the_clock_answers_sets_the_offset() -> None:
    """GET_TIME is asked again after each answer, CLOCK_SAMPLES times; the answer with the
    shortest round trip sets the offset (its midpoint is the surest), whatever its order."""
    clock = ManualClock(1_781_352_000_000_000)
    decoder_rtc = 5_000_000_000  # the decoder's own clock, 1 h 23 min after its reset
    delays_us = [400_000, 30_000, 2_000, 90_000]  # what each answer's round trip will be
    answered: list[int] = []

    async def decoder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        codec = P3Decoder()
        while data := await reader.read(4096):
            for record in codec.receive(data):
                if isinstance(record, GetTime) and len(answered) < len(delays_us):
                    delay = delays_us[len(answered)]
                    clock.advance(1_000)  # the request's way there; stamped on arrival
                    answered.append(clock.now_us())
                    writer.write(encode(GetTime(rtc_time_us=decoder_rtc + clock.now_us())))
                    clock.advance(delay - 1_000)  # the answer's way back (queued, slow)
                    await writer.drain()

    async with tiny_server(decoder) as port:
        runner = DecoderRunner(f"tcp://127.0.0.1:{port}", Collector(), clock=clock)
        async with running(runner):
            await until(lambda: runner.state.clock_round_trip_us == min(delays_us))
            await until(lambda: len(answered) == CLOCK_SAMPLES)
    assert len(delays_us) == CLOCK_SAMPLES
    # the decoder's clock runs decoder_rtc ahead of ours: the offset takes it back, exactly
    # with the 2 ms answer (stamped at its midpoint); the 400 ms one alone put it 199 ms off
    assert runner.clock_offset_us == -decoder_rtc
    assert runner.state.clock_round_trip_us == 2_000


# -- against the real emulator ----------------------------------------------------------------


async def test_passings_from_the_emulator_arrive_in_order() -> None:
    race = generate_race(seed=11, cars=30)
    opening = [p for p in race.passings if p.offset_us < 130 * 1_000_000]  # start + lap 1
    emulator = P3Emulator(decoder_id=0x00AB_CDEF, clock=ScaledClock(400.0), status_interval_s=0.1)
    port = await emulator.start()
    got = Collector()
    runner = DecoderRunner(f"tcp://127.0.0.1:{port}", got, silence_timeout_s=1.0)
    try:
        async with running(runner):
            await emulator.wait_for_clients(1, timeout=3.0)
            await emulator.play(opening)
            await until(lambda: len(got.passings) == len(opening))
            await until(lambda: runner.state.last_status_at_us is not None)
            state = runner.state
    finally:
        await emulator.stop()
    assert [p.transponder for p in got.passings] == [p.transponder for p in opening]
    assert got.numbers == list(range(1, len(opening) + 1))
    assert state.decoder_id == 0x00AB_CDEF and state.connects == 1 and state.resend_requests == 0
    assert state.bad_frames == 0 and state.junk_bytes == 0 and state.passings == len(opening)


async def test_reconnects_after_a_decoder_restart_and_resends_what_it_missed() -> None:
    emulator = P3Emulator(clock=ScaledClock(1.0), status_interval_s=0.1)
    port = await emulator.start()
    got = Collector()
    runner = DecoderRunner(
        f"tcp://127.0.0.1:{port}", got, backoff_initial_s=0.05, backoff_cap_s=0.2
    )
    try:
        async with running(runner):
            await emulator.wait_for_clients(1, timeout=3.0)
            for chip in (101, 102, 103):
                emulator.push_passing(chip)
            await until(lambda: len(got.passings) == 3)
            await emulator.stop()
            for chip in (104, 105, 106, 107):  # the decoder keeps counting while unreachable
                emulator.push_passing(chip)
            await until(lambda: "connect failed" in (runner.state.last_error or ""))
            assert await emulator.start() == port
            await emulator.wait_for_clients(1, timeout=3.0)
            # no crossing needed to reveal the gap: asked for at once on the reconnect
            await until(lambda: len(got.passings) == 7)
            assert runner.state.resend_requests == 1
            emulator.push_passing(108)
            await until(lambda: len(got.passings) == 8)
            emulator.push_passing(109)  # the end of the stream: whatever came before is in
            await until(lambda: len(got.passings) >= 9)
            state = runner.state
    finally:
        await emulator.stop()
    assert got.numbers == list(range(1, 10))
    assert [p.transponder for p in got.passings] == list(range(101, 110))
    assert state.resend_requests == 1 and state.duplicates == 0
    assert state.connects == 2 and state.disconnects == 1 and state.connected
    assert state.last_error is not None and "connect failed" in state.last_error


async def test_a_resend_answered_slowly_is_waited_for_while_it_comes() -> None:
    """The answer to a RESEND takes 4 timeouts to arrive in full, one passing at a time:
    as long as it keeps coming the hole is not given up, and everything is in order."""
    requests: list[Resend] = []

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(encode(passing(1)) + encode(passing(10)))
        codec = P3Decoder()
        while data := await reader.read(4096):
            for r in codec.receive(data):
                if isinstance(r, Resend) and r.from_passing == 2:
                    requests.append(r)
                    for n in range(r.from_passing, r.until_passing + 1):
                        await asyncio.sleep(0.05)  # 8 passings over 4 x the 0.1 s timeout
                        writer.write(encode(passing(n)))

    numbers, state = await run_until_passing(slow, 10, resend_timeout_s=0.1)
    assert numbers == list(range(1, 11))
    assert state.lost_passings == 0
