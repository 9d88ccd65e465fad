"""The relay and the mirror against a real Redis: numbering continues over a restart of the
race service, and an edge that finds a gap in the stream reloads the snapshot.

Needs RACECONTROL_TEST_REDIS_URL; every key is under a prefix of the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from server.service.fanout import Block, Row, View
from server.service.hub import Hub
from server.service.redis_relay import RedisMirror, RedisRelay, snapshot_key, stream_key
from tests.fixtures.app_server import wait_until

REDIS_URL = os.environ.get("RACECONTROL_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="set RACECONTROL_TEST_REDIS_URL")


def view(laps: int, now_us: int = 0) -> View:
    rows = tuple(
        Row(
            f"car-{n}",
            (f'<tr id="car-{n}">', f"<td>{laps + n}</td>", "</tr>"),
            ("", str(laps + n), ""),
        )
        for n in (1, 2)
    )
    table = Block(
        "t", "<table><tbody id=\"b\"></tbody></table>", "frame", "b",
        "<table><tbody id=\"b\">", "</tbody></table>", rows,
    )  # fmt: skip
    return View((Block("h", f"<h1 id='h'>{laps}</h1>", str(laps)), table), now_us)


@pytest.fixture
async def redis() -> AsyncIterator[tuple[Redis, str]]:
    assert REDIS_URL is not None
    prefix = f"rc-test-{uuid.uuid4().hex[:12]}"
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    yield client, prefix
    keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_a_restarted_race_service_continues_the_numbers(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    assert REDIS_URL is not None
    for laps in (1, 2):  # two lives of the race service
        hub = Hub()
        relay = RedisRelay(REDIS_URL, prefix, hub)
        await relay.start()
        running = asyncio.create_task(relay.run())
        try:
            hub.channel("public").publish_view(view(laps))
            hub.channel("public").publish_view(view(laps + 10))
            await wait_until(lambda relay=relay: relay.written == 2, 10)
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            await relay.close()
    entries = await client.xrange(stream_key(prefix, "public"))
    seqs = [json.loads(fields["m"])["seq"] for _id, fields in entries]
    assert seqs == [1, 2, 3, 4]  # the second life starts with a snapshot numbered 3
    assert json.loads(entries[2][1]["m"])["snap"] == 1
    stored = json.loads(await client.get(snapshot_key(prefix, "public")))
    assert stored["seq"] == 4 and stored["snap"] == 1


async def test_an_edge_reloads_the_snapshot_when_updates_are_missing(
    redis: tuple[Redis, str],
) -> None:
    client, prefix = redis
    assert REDIS_URL is not None
    source = Hub().channel("public")
    messages: list[str] = []
    source.listeners.append(lambda _c, m, _u: messages.append(m))
    for laps in range(1, 6):
        source.publish_view(view(laps))
    stream = stream_key(prefix, "public")
    await client.xadd(stream, {"m": messages[0]})  # the snapshot, seq 1
    await client.xadd(stream, {"m": messages[1]})  # seq 2
    await client.xadd(stream, {"m": "not json"})  # a broken entry: skipped, counted
    await client.set(snapshot_key(prefix, "public"), source.snapshot)  # seq 5
    hub = Hub()
    mirror = RedisMirror(REDIS_URL, prefix, hub)
    mirror.last_id = "0-0"  # as if it had followed from the start
    following = asyncio.create_task(mirror.run())
    try:
        await wait_until(lambda: hub.channel("public").seq == 2, 10)
        await client.xadd(stream, {"m": messages[4]})  # seq 5: 3 and 4 are missing
        await wait_until(lambda: hub.channel("public").seq == 5 and mirror.reloads == 1, 10)
        assert mirror.rejected == 1
        mirrored = hub.channel("public").view
        assert mirrored is not None and source.view is not None
        assert mirrored.page_blocks() == source.view.page_blocks()
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
        await mirror.close()
