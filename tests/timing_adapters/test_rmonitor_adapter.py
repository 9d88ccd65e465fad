"""The RMonitor input adapter over real loopback TCP, fed by small scripted feeds."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.fixtures.loopback import scripted_server as feed_server
from tests.fixtures.loopback import until
from timing_adapters.adapter import DecoderState, Detection
from timing_adapters.rmonitor.adapter import RMonitorAdapter, parse_rmonitor_url
from timing_adapters.rmonitor.feed_state import FeedStanding

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
S = 1_000_000

FEED = (
    b'$I,"13:00:00","14 Jun 25"\r\n'
    b'$B,7,"Race 1"\r\n'
    b'$C,1,"GTO"\r\n'
    b'$E,"TRACKNAME","Thunderhill"\r\n'
    b'$A,"21","21",1021,"Ann","Ace","USA",1\r\n'
    b'$COMP,"21","21",1,"Ann","Ace","USA","Team A"\r\n'
    b'$A,"22","22X",1022,"Bob","Bee","",1\r\n'
    b'$F,9999,"00:59:00","13:01:00","00:01:00","Green "\r\n'
    b'$J,"21","00:00:00.000","00:00:01.500"\r\n'
    b'$RMLT,"21",1502617364576\r\n'
    b'$G,1,"21",0,"00:00:01.500"\r\n'
    b'$J,"21","00:01:30.250","00:01:31.750"\r\n'
    b'$G,1,"21",1,"00:01:31.750"\r\n'
    b'$H,1,"21",1,"00:01:30.250"\r\n'
    b'$G,1,"21",1,"00:01:3$J,"22","00:01:31.000","00:01:33.000"\r\n'  # spliced: rejected
    b'$L,"22X","P1","PIT IN","06/14/2025","13:01:05.125"\r\n'
    b'$G,2,"22",,\r\n'
)


class Collector:
    def __init__(self) -> None:
        self.detections: list[Detection] = []
        self.states: list[DecoderState] = []

    async def __call__(self, detection: Detection) -> None:
        self.detections.append(detection)


@contextlib.asynccontextmanager
async def running(adapter: RMonitorAdapter) -> AsyncIterator[RMonitorAdapter]:
    task = asyncio.create_task(adapter.run())
    try:
        yield adapter
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task  # anything but the cancellation (a bug in run()) fails the test


def adapter_for(port: int, collector: Collector, silence_s: float = 15.0) -> RMonitorAdapter:
    return RMonitorAdapter(
        f"rmonitor+tcp://127.0.0.1:{port}",
        collector,
        on_state=collector.states.append,
        backoff_initial_s=0.01,
        silence_timeout_s=silence_s,
    )


async def test_follows_a_feed() -> None:
    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(FEED)
        await writer.drain()
        await asyncio.sleep(30)  # stay connected and quiet

    collector = Collector()
    async with feed_server(handler) as port, running(adapter_for(port, collector)) as adapter:
        await until(lambda: adapter.state.frames == 16)
        url = f"rmonitor+tcp://127.0.0.1:{port}"
        assert collector.detections == [
            # decoder_now_us: the feed's race time of its $F (00:01:00) when it was sent
            Detection(url, "21", 1_500_000, relative_clock=True, decoder_now_us=60_000_000),
            Detection(url, "21", 91_750_000, relative_clock=True, decoder_now_us=91_750_000),
            Detection(
                url,
                "22",
                65_125_000,  # 13:01:05.125 - 13:00:00 + 0
                loop="P1",
                relative_clock=True,
                timeline="PIT IN",
                decoder_now_us=65_125_000,
            ),
        ]
        state = adapter.state
        assert (state.connected, state.connects, state.passings) == (True, 1, 3)
        assert (state.bad_frames, state.duplicates) == (1, 0)
        # the spliced line, as text: what race control reads on the decoder panel
        assert (
            state.last_rejection
            == 'bad quoting: $G,1,"21",1,"00:01:3$J,"22","00:01:31.000","00:01:33.000"'
        )
        assert state.last_status_at_us is not None
        feed = adapter.feed
        assert feed.run is not None and feed.run.description == "Race 1"
        assert feed.track_name == "Thunderhill" and feed.classes == {1: "GTO"}
        assert feed.competitors["21"].transponder == "1021"
        assert feed.competitors["21"].additional_data == "Team A"
        assert feed.standings() == [
            FeedStanding(1, "21", "21", 1, 1, 91_750_000, 1, 90_250_000, 90_250_000),
            FeedStanding(2, "22", "22X", 1, None, None, None, None, None),
        ]
        assert collector.states[-1] == state


async def test_reconnects_and_ignores_replayed_passings() -> None:
    connections = 0

    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:
            # The race time, a passing, then half a line, then the link dies.
            writer.write(
                b'$F,9999,"00:00:00","13:00:02","00:00:02","Green "\r\n'
                b'$J,"5","00:00:00.000","00:00:02.000"\r\n$J,"5","00:01'
            )
            await writer.drain()
            return
        # A relay replays the last $J of every competitor, then the tail of a line
        # arrives that belongs to nothing, then the feed goes on.
        writer.write(
            b'$J,"5","00:00:00.000","00:00:02.000"\r\n'
            b'0.000","00:01:32.000"\r\n'
            b'$J,"5","00:01:30.000","00:01:32.000"\r\n'
        )
        await writer.drain()
        await asyncio.sleep(30)

    collector = Collector()
    async with feed_server(handler) as port, running(adapter_for(port, collector)) as adapter:
        await until(lambda: adapter.state.passings == 2 and adapter.state.frames == 4)
        assert [d.time_us for d in collector.detections] == [2 * S, 92 * S]
        state = adapter.state
        assert (state.connects, state.disconnects, state.duplicates) == (2, 1, 1)
        assert state.bad_frames == 1  # the orphan tail; the cut half line died with its link
        assert state.last_error is not None and "connection lost" in state.last_error


async def test_silence_watchdog_reconnects() -> None:
    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)  # accepts, then says nothing: a hung feed

    collector = Collector()
    async with (
        feed_server(handler) as port,
        running(adapter_for(port, collector, silence_s=0.1)) as adapter,
    ):
        await until(lambda: adapter.state.connects >= 2)
        assert "no line for 0.1 s" in (adapter.state.last_error or "")


async def test_unreachable_feed_is_retried_not_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        collector = Collector()
        async with running(adapter_for(port, collector)) as adapter:
            await until(lambda: len(collector.states) >= 2)
            assert adapter.state.connects == 0
            assert "connect failed" in (adapter.state.last_error or "")


def test_urls() -> None:
    assert parse_rmonitor_url("rmonitor+tcp://10.0.0.5") == ("10.0.0.5", 50000)
    assert parse_rmonitor_url("RMONITOR+TCP://orbits.local:50001/") == ("orbits.local", 50001)
    for bad in (
        "tcp://10.0.0.5:50000",
        "rmonitor+tcp://:50000",
        "rmonitor+tcp://host:port",
        "rmonitor+tcp://host:50000/feed",
        "rmonitor+tcp://host?x=1",
    ):
        with pytest.raises(ValueError):
            parse_rmonitor_url(bad)
    with pytest.raises(ValueError):
        RMonitorAdapter("rmonitor://host", Collector())
