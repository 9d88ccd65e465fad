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

    loop = asyncio.get_running_loop()
    race = world.service(render=render)
    await race.load_session(world.session_id)
    world.clock.advance_to(2_000 * S)
    async with race.hub.channel("public").subscribe(), asyncio.TaskGroup() as tasks:
        writer = tasks.create_task(race.run_writer())
        publisher = tasks.create_task(race.run_publisher())
        try:
            race.mark_dirty()
            await wait_until(lambda: rendered, timeout=10)  # what the load left to show
            rendered.clear()
            shown_at = loop.time()  # the next render is due one interval later
            await wait_until(lambda: loop.time() - shown_at > race.publish_interval_s, 10, 0.01)
            async with race._lock:
                # the burst's first batch is in the writer's hand, waiting for the lock
                race._queue.put_nowait((FlagChanged(S, Flag.GREEN), None))
                await wait_until(lambda: race._queue.empty(), timeout=5)
                race.mark_dirty(frozenset({"control"}))  # say, a decoder's status
                for _ in range(3):
                    await asyncio.sleep(0)  # the publisher is woken: it waits for the writer
                for event in race_of_three(10):  # the rest of the burst comes meanwhile
                    race._queue.put_nowait((event, None))
            await wait_until(lambda: rendered, timeout=10)
            assert rendered[0] == 31  # the green flag and the 30 passings in one render
        finally:
            writer.cancel()
            publisher.cancel()
