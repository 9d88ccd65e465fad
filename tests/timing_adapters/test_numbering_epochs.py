"""A decoder that restarts its passing numbers (power cycle, swap) starts a new numbering
epoch: its passings are delivered, while a repeat of a number of the current epoch is not.
The pure rule (``PassingSequencer.is_restart``), the runner over loopback TCP, and the real
emulator switched off and on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from tests.fixtures.loopback import scripted_server as tiny_server
from tests.fixtures.loopback import until
from timing_adapters.clock import ScaledClock
from timing_adapters.emulator.server import P3Emulator
from timing_adapters.p3 import P3Decoder, Passing, Resend, encode
from timing_adapters.runner import RESTART_MARGIN_US, DecoderRunner, PassingSequencer

S = 1_000_000  # one second in microseconds


def passing(n: int, at_s: float, chip: int = 4242) -> Passing:
    return Passing(passing_number=n, transponder=chip, rtc_time_us=int(at_s * S))


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def running(runner: DecoderRunner) -> AsyncIterator[DecoderRunner]:
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class EpochCollector:
    """(epoch, number, chip) of every delivered passing, the epoch read at delivery."""

    def __init__(self) -> None:
        self.runner: DecoderRunner | None = None
        self.got: list[tuple[int, int, int]] = []

    async def __call__(self, p: Passing) -> None:
        assert self.runner is not None
        self.got.append((self.runner.epoch, p.passing_number, p.transponder))


# -- the pure rule ----------------------------------------------------------------------------


def test_a_number_already_passed_is_a_repeat_inside_its_times_and_a_restart_outside() -> None:
    seq = PassingSequencer()
    for n in (1, 2, 3):
        seq.push(passing(n, 100 + n))
    assert seq.span_us == (101 * S, 103 * S)
    assert not seq.is_restart(passing(2, 102))  # a RESEND answer: same number, same time
    assert not seq.is_restart(passing(4, 500))  # the next number: no question
    # a decoder's passings are not strictly in time order: within the margin, a repeat
    assert not seq.is_restart(passing(3, 103 + RESTART_MARGIN_US / S / 2))
    assert seq.is_restart(passing(1, 200))  # the numbers went back, the RTC went on
    assert seq.is_restart(passing(1, 5))  # a decoder whose RTC restarted too
    assert not PassingSequencer(last_delivered=3).is_restart(passing(1, 200))  # times unknown
    resumed = PassingSequencer(last_delivered=3, span_us=(101 * S, 103 * S))
    assert resumed.is_restart(passing(1, 200)) and not resumed.is_restart(passing(3, 103))


# -- the runner over loopback TCP -------------------------------------------------------------


async def test_restart_starts_a_new_epoch_and_repeats_in_either_epoch_are_dropped() -> None:
    requests: list[Resend] = []

    async def decoder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        frames = [passing(1, 101), passing(2, 102), passing(3, 103), passing(2, 102)]
        # power cycled while the socket stayed up (a serial line, say): 1.. again, later on
        frames += [passing(1, 300, 77), passing(2, 301, 78), passing(1, 300, 77)]
        writer.write(b"".join(encode(f) for f in frames))
        codec = P3Decoder()
        while data := await reader.read(4096):
            requests.extend(r for r in codec.receive(data) if isinstance(r, Resend))

    got = EpochCollector()
    async with tiny_server(decoder) as port:
        runner = DecoderRunner(f"tcp://127.0.0.1:{port}", got)
        got.runner = runner
        async with running(runner):
            await until(lambda: len(got.got) == 5)
            await until(lambda: runner.state.duplicates == 2)
            state = runner.state
    assert got.got == [(0, 1, 4242), (0, 2, 4242), (0, 3, 4242), (1, 1, 77), (1, 2, 78)]
    assert (
        state.numbering_epoch == 1 and state.last_passing_number == 2 and state.lost_passings == 0
    )
    assert requests == []  # nothing was missing: no RESEND


async def test_a_resumed_runner_tells_a_restart_from_the_journal_times() -> None:
    async def decoder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # the decoder restarted while our server was down; it is at 2 of its new numbering
        writer.write(encode(passing(1, 900, 11)) + encode(passing(2, 901, 12)))
        await reader.read()

    got = EpochCollector()
    async with tiny_server(decoder) as port:
        runner = DecoderRunner(
            f"tcp://127.0.0.1:{port}",
            got,
            last_passing_number=50,
            epoch=3,
            epoch_span_us=(100 * S, 800 * S),
        )
        got.runner = runner
        async with running(runner):
            await until(lambda: len(got.got) == 2)
    assert got.got == [(4, 1, 11), (4, 2, 12)]


# -- the real emulator, switched off and on ---------------------------------------------------


async def test_the_emulator_power_cycled_numbers_from_1_and_is_timed_on() -> None:
    clock = ScaledClock(50.0)  # its RTC runs on while it is off, faster than life
    emulator = P3Emulator(clock=clock, status_interval_s=0.1)
    port = await emulator.start()
    got = EpochCollector()
    runner = DecoderRunner(
        f"tcp://127.0.0.1:{port}", got, backoff_initial_s=0.05, backoff_cap_s=0.2
    )
    got.runner = runner
    try:
        async with running(runner):
            await emulator.wait_for_clients(1)
            for chip in (101, 102, 103):
                emulator.push_passing(chip)
            await until(lambda: len(got.got) == 3)
            await emulator.power_cycle()
            await emulator.wait_for_clients(1)
            await clock.sleep_until(clock.now_us() + 2 * RESTART_MARGIN_US)
            for chip in (104, 105):
                emulator.push_passing(chip)
            await until(lambda: len(got.got) == 5)
            state = runner.state
    finally:
        await emulator.stop()
    assert got.got == [(0, 1, 101), (0, 2, 102), (0, 3, 103), (1, 1, 104), (1, 2, 105)]
    assert state.numbering_epoch == 1 and state.connects == 2
    assert state.duplicates == 0 and state.lost_passings == 0
