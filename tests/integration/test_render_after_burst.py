"""A burst the writer journals in several batches reaches spectators as one render, after
its last batch: never a render of half a burst in between (bench/README.md, "burst")."""

from __future__ import annotations

import asyncio

from server.engine.events import Flag, FlagChanged
from server.service.race_service import RaceService
from tests.fixtures.app_server import wait_until
from tests.fixtures.service_world import S, World, race_of_three


async def test_a_render_waits_for_the_batch_the_writer_has_in_hand(world: World) -> None:
    rendered: list[int] = []  # how many events each render of "public" showed journaled

    def render(race: RaceService, channels: frozenset[str]) -> dict[str, str]:
        if "public" in channels:
            rendered.append(race.journaled)
        return {}

    race = world.service(render=render)
    # the publishing interval also bounds the wait for the writer: long here, so that only
    # the writer ends it (a loaded machine's batches may take longer than 50 ms)
    race.output.interval_s = 60.0
    await race.load_session(world.session_id)
    world.clock.advance_to(2_000 * S)
    async with race.hub.channel("public").subscribe(), asyncio.TaskGroup() as tasks:
        writer = tasks.create_task(race.run_writer())
        publisher: asyncio.Task[None] | None = None
        try:
            async with race._lock:
                # the burst's first batch is in the writer's hand, waiting for the lock
                race._queue.put_nowait((FlagChanged(S, Flag.GREEN), None))
                await wait_until(lambda: race._queue.empty(), timeout=5)
                # the publisher starts with every channel due (never rendered): it waits
                publisher = tasks.create_task(race.run_publisher())
                for _ in range(3):
                    await asyncio.sleep(0)
                for event in race_of_three(10):  # the rest of the burst comes meanwhile
                    race._queue.put_nowait((event, None))
            await wait_until(lambda: rendered, timeout=30)
            assert rendered[0] == 31  # the green flag and the 30 passings in one render
        finally:
            writer.cancel()
            if publisher is not None:
                publisher.cancel()
