"""The publisher renders a burst once, after the writer has applied all of it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from server.service.channel_publisher import ChannelPublisher
from server.service.hub import Hub
from tests.fixtures.app_server import wait_until
from timing_adapters.clock import ManualClock


class Writer:
    """What the publisher sees of the race service's writer: how far it has applied its
    input, and whether it still has some queued."""

    def __init__(self) -> None:
        self.applied = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.renders: list[int] = []  # what each render showed

    async def settle(self, limit_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit_s):
                await self.idle.wait()

    def render(self, channels: frozenset[str]) -> dict[str, str]:
        self.renders.append(self.applied)
        return {name: f"applied {self.applied}" for name in channels}


@contextlib.asynccontextmanager
async def publishing(writer: Writer, interval_s: float) -> AsyncIterator[ChannelPublisher]:
    hub = Hub()
    output = ChannelPublisher(
        hub, ManualClock(0), writer.render, str, interval_s, on_public=lambda: None,
        settle=writer.settle,
    )  # fmt: skip
    async with hub.channel("public").subscribe():
        task = asyncio.create_task(output.run_publisher())
        try:
            yield output
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def batch_applied(writer: Writer, output: ChannelPublisher, more_queued: bool) -> None:
    writer.applied += 1
    if more_queued:
        writer.idle.clear()
    else:
        writer.idle.set()
    output.mark_dirty(frozenset({"public"}))


async def test_a_crossing_alone_is_rendered_at_once() -> None:
    writer = Writer()
    async with publishing(writer, interval_s=600.0) as output:
        batch_applied(writer, output, more_queued=False)
        await wait_until(lambda: writer.renders == [1], timeout=5)


async def test_a_burst_in_several_batches_is_rendered_once_after_the_last() -> None:
    writer = Writer()
    # the interval bounds the wait for the writer: long, so only the writer ends it here
    async with publishing(writer, interval_s=600.0) as output:
        for _ in range(3):
            batch_applied(writer, output, more_queued=True)
            await asyncio.sleep(0)  # the publisher wakes between the batches
        assert writer.renders == []
        batch_applied(writer, output, more_queued=False)
        await wait_until(lambda: writer.renders == [4], timeout=5)


async def test_a_writer_that_never_settles_does_not_hold_the_render_back() -> None:
    writer = Writer()
    async with publishing(writer, interval_s=0.05) as output:
        batch_applied(writer, output, more_queued=True)  # and the backlog never ends
        await wait_until(lambda: writer.renders == [1], timeout=5)
