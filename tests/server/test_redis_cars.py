"""The race service's side of car pages on edges, against a real Redis: the cars edges
watch are followed (rendered, their snapshot put in the stream), their numbers continue
over a restart of the race service, what is no car gets no channel, and an expired watch
is left.

Needs RACECONTROL_TEST_REDIS_URL; every key is under a prefix of the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from redis.asyncio import Redis

from server.service.hub import Hub
from server.service.redis_cars import CarRelay, cars_key, watch_key, watch_set_key
from server.service.redis_relay import RedisRelay, snapshot_key, stream_key
from tests.fixtures.app_server import wait_until
from tests.server.test_redis_relay import REDIS_URL, pytestmark, redis, view

__all__ = ["pytestmark", "redis"]


async def _watch(client: Redis, prefix: str, number: str, ttl_ms: int = 60_000) -> None:
    """What an edge does while a spectator watches ``number``."""
    await client.set(watch_key(prefix, number), "1", px=ttl_ms)
    await client.sadd(watch_set_key(prefix), number)


async def test_watched_cars_are_relayed_and_numbered_over_a_restart(
    redis: tuple[Redis, str],
) -> None:
    client, prefix = redis
    assert REDIS_URL is not None
    await _watch(client, prefix, "3")
    await _watch(client, prefix, "99")  # no car of the session
    for life in (1, 2):  # two lives of the race service
        hub = Hub()
        relay = RedisRelay(REDIS_URL, prefix, hub)
        await relay.start()
        writing = asyncio.create_task(relay.run())
        laps = {"3": life * 10}

        def render(number: str, hub: Hub = hub, laps: dict[str, int] = laps) -> bool:
            if number not in laps:
                return False
            hub.channel(f"car:{number}").publish_view(view(laps[number]))
            return True

        cars = CarRelay(relay, hub, numbers=lambda: ["3", "5"], render=render)
        try:
            await cars.round()
            assert cars.following == {"3"} and "car:99" not in hub.channels
            car = hub.channel("car:3")
            assert car.listeners == [relay.listen]
            laps["3"] += 1  # a crossing: the car channel is rendered with the public one
            render("3")
            await wait_until(lambda relay=relay: relay.written == 3, 10)
        finally:
            writing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writing
            await relay.close()
    assert json.loads(await client.get(cars_key(prefix))) == ["3", "5"]
    entries = await client.xrange(stream_key(prefix, "car:3"))
    messages = [json.loads(fields["m"]) for _id, fields in entries]
    # each life: its render, the snapshot for the edges, the crossing; the numbers go on
    assert [m["seq"] for m in messages] == [1, 1, 2, 3, 3, 4]
    assert [bool(m.get("snap")) for m in messages] == [True, True, False, True, True, False]
    stored = json.loads(await client.get(snapshot_key(prefix, "car:3")))
    assert stored["seq"] == 4 and stored["snap"] == 1


async def test_an_expired_watch_is_left(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    assert REDIS_URL is not None
    hub = Hub()
    relay = RedisRelay(REDIS_URL, prefix, hub)
    await relay.start()

    def render(number: str) -> bool:
        hub.channel(f"car:{number}").publish_view(view(1))
        return True

    cars = CarRelay(relay, hub, numbers=lambda: ["3"], render=render)
    try:
        await _watch(client, prefix, "3", ttl_ms=300)
        await cars.round()
        assert hub.channel("car:3").watched
        await wait_until(lambda: _expired(client, prefix), 10)
        await cars.round()
        assert not hub.channel("car:3").watched and not cars.following
        assert await client.scard(watch_set_key(prefix)) == 0
    finally:
        await relay.close()


async def _expired(client: Redis, prefix: str) -> bool:
    return not await client.exists(watch_key(prefix, "3"))
