"""The race service with --redis and two edges: spectators on each edge see what the race
service shows, after a burst, through an edge restart, through dropped Redis connections
(the shared Redis: its clients are killed) and through a restart of a Redis of the test's own.

Needs RACECONTROL_TEST_REDIS_URL (a Redis 7); every key is under a prefix of this test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

import httpx
from redis.asyncio import Redis

from server.engine.events import PassingDetected
from server.service.redis_cars import watch_set_key
from server.service.redis_relay import snapshot_key, stream_key
from server.web.car_page import watched_cars
from server.web.views import row_dom_id
from tests.fixtures.app_server import (
    RunningServer,
    free_port,
    wait_until,
)
from tests.fixtures.browser import SQLITE_DB, race_databases
from tests.fixtures.edges import CarWatcher, Spectator, race_service_on_redis, running_edge
from tests.fixtures.redis_keys import REDIS_URL, PrivateRedis, needs_redis
from timing_adapters.clock import ManualClock

S = 1_000_000
START_US = 1_781_352_000_000_000
CARS = [str(n) for n in range(1, 21)]
ENTRIES = "number,class,team,drivers,transponder\n" + "".join(
    f"{n},{'A' if int(n) % 2 else 'B'},Team {n},Driver {n},{1000 + int(n)}\n" for n in CARS
)


def expected(srv: RunningServer) -> list[tuple[str, int]]:
    return [(row_dom_id(r.number), r.laps) for r in srv.race.standings()]


async def burst(srv: RunningServer, clock: ManualClock, laps: int) -> None:
    """Every car ``laps`` times round, in a shuffled order each lap (positions change)."""
    for lap in range(laps):
        order = CARS[lap % 3 :] + CARS[: lap % 3]
        for i, number in enumerate(reversed(order) if lap % 2 else order):
            clock.advance(S // 2 if i else 60 * S)
            await srv.race.submit(PassingDetected(clock.now_us(), str(1000 + int(number)), "d"))


async def green_race(api: httpx.AsyncClient, minutes: int = 120) -> int:
    """A race of Edge Cup created and started; its session id."""
    created = await api.post(
        "/api/v1/sessions",
        json={"event": "Edge Cup", "type": "race", "name": "Race", "length_minutes": minutes},
    )
    assert created.status_code == 201, created.text
    sid = int(created.json()["id"])
    green = await api.post(f"/api/v1/sessions/{sid}/flag", json={"flag": "green"})
    assert green.status_code == 200, green.text
    return sid


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 15.0) -> None:
    """Waits, bounded, for something an HTTP probe sees."""
    async with asyncio.timeout(timeout_s):
        while not await check():  # noqa: ASYNC110 - another process changes it
            await asyncio.sleep(0.05)


async def kill_clients(redis_prefix: str) -> int:
    """Close every Redis connection of this test's relay and edges (CLIENT KILL ID)."""
    assert REDIS_URL is not None
    admin = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        ours = [c for c in await admin.client_list() if c.get("name", "").startswith(redis_prefix)]
        for client in ours:
            await admin.execute_command("CLIENT", "KILL", "ID", client["id"])
        return len(ours)
    finally:
        await admin.aclose()


@needs_redis
@race_databases(SQLITE_DB)
async def test_spectators_on_two_edges_follow_the_race_service(
    db_url: str, redis_prefix: str
) -> None:
    assert REDIS_URL is not None
    async with (
        race_service_on_redis(db_url, ENTRIES, "Edge Cup", REDIS_URL, redis_prefix, START_US) as (
            srv,
            clock,
        ),
        srv.client() as api,
        AsyncExitStack() as stack,
    ):
        await green_race(api)
        edge_b = await stack.enter_async_context(running_edge(REDIS_URL, redis_prefix))
        on_b = await stack.enter_async_context(Spectator(edge_b.ws_url))
        port_a = free_port()
        on_a = await stack.enter_async_context(Spectator(f"ws://127.0.0.1:{port_a}/ws/live"))

        def both_follow() -> bool:
            want = expected(srv)
            return on_a.standings() == want and on_b.standings() == want

        async with running_edge(REDIS_URL, redis_prefix, port_a) as edge_a:
            await burst(srv, clock, laps=3)
            await wait_until(both_follow, 30)
            assert expected(srv)[0][1] == 2 and len(expected(srv)) == len(CARS)
            # the edge's page has the standings before any websocket (from Redis alone)
            async with httpx.AsyncClient(base_url=edge_a.base_url) as phone:
                page = (await phone.get("/live")).text
                assert all(f'id="{row_dom_id(n)}"' in page for n in CARS)
                health = (await phone.get("/healthz")).json()
                assert health["redis"] == "ok" and health["spectators"] == 1
                assert (await phone.get("/static/live.js")).status_code == 200
            connections = on_a.connections

        # edge A is down while the race goes on; it starts again on the same port
        await burst(srv, clock, laps=2)
        await wait_until(lambda: on_b.standings() == expected(srv), 30)
        async with running_edge(REDIS_URL, redis_prefix, port_a) as edge_a:
            await wait_until(both_follow, 30)
            assert on_a.connections == connections + 1
            assert expected(srv)[0][1] == 4

            # every Redis connection of the relay and the edges is dropped: they reconnect,
            # the edges resume from the last stream id they read, and nobody reloads
            reloads = (edge_a.mirror.reloads, edge_b.mirror.reloads)
            assert await kill_clients(redis_prefix) >= 3
            await burst(srv, clock, laps=2)
            await wait_until(both_follow, 30)
            assert expected(srv)[0][1] == 6
            assert (edge_a.mirror.reloads, edge_b.mirror.reloads) == reloads
            assert edge_a.mirror.rejected == edge_b.mirror.rejected == 0
            # Redis holds the snapshot and the numbered updates
            assert REDIS_URL is not None
            client = Redis.from_url(REDIS_URL, decode_responses=True)
            try:
                assert await client.exists(snapshot_key(redis_prefix, "public"))
                assert await client.xlen(stream_key(redis_prefix, "public")) > 0
            finally:
                await client.aclose()


async def test_an_edge_without_redis_serves_the_page_and_says_it_is_stale() -> None:
    nothing_there = f"redis://127.0.0.1:{free_port()}/0"
    async with (
        running_edge(nothing_there, "rc-test-none") as edge,
        httpx.AsyncClient(base_url=edge.base_url) as phone,
    ):
        await wait_until(lambda: edge.mirror.failures >= 2, 20)
        health = await phone.get("/healthz")
        assert health.status_code == 503 and health.json()["redis"] == "unreachable"
        page = await phone.get("/live")
        assert page.status_code == 200 and "No session yet" in page.text
        assert edge.mirror.channel.seq == 0  # nothing to show, nothing invented


@needs_redis
@race_databases(SQLITE_DB)
async def test_edges_serve_each_results_version_as_the_race_service_published_it(
    db_url: str, redis_prefix: str
) -> None:
    assert REDIS_URL is not None
    async with (
        race_service_on_redis(db_url, ENTRIES, "Edge Cup", REDIS_URL, redis_prefix, START_US) as (
            srv,
            clock,
        ),
        srv.client() as api,
        running_edge(REDIS_URL, redis_prefix) as edge,
        httpx.AsyncClient(base_url=edge.base_url) as phone,
    ):
        sid = await green_race(api, minutes=60)
        missing = await phone.get(f"/results/{sid}")
        assert missing.status_code == 404 and "no results published" in missing.json()["detail"]
        await burst(srv, clock, laps=2)
        await api.post(f"/api/v1/sessions/{sid}/flag", json={"flag": "checkered"})
        await burst(srv, clock, laps=1)  # each car takes the flag: the race has ended
        assert srv.race.engine is not None and srv.race.engine.status().finished

        async def published() -> bool:  # the publisher looks every 2 s
            return (await phone.get(f"/results/{sid}")).status_code == 200

        await eventually(published)
        page = await phone.get(f"/results/{sid}")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        own = await api.get(f"/results/{sid}")
        assert page.text == own.text  # the race service's page, as it rendered it
        assert all(f"Team {n}" in page.text for n in CARS)

        exported = (await phone.get(f"/api/v1/sessions/{sid}/results")).json()
        assert exported == (await api.get(f"/api/v1/sessions/{sid}/results")).json()
        assert (exported["version"], exported["official"]) == (1, False)
        csv = await phone.get(f"/api/v1/sessions/{sid}/results?format=csv&version=1")
        assert csv.text == (await api.get(f"/api/v1/sessions/{sid}/results?format=csv")).text
        pdf = await phone.get(f"/api/v1/sessions/{sid}/results?format=pdf")
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"

        # signed official: the edges follow
        signed = await api.post(f"/api/v1/sessions/{sid}/official", json={"note": "checked"})
        assert signed.status_code == 200, signed.text

        async def official() -> bool:
            body = (await phone.get(f"/api/v1/sessions/{sid}/results")).json()
            return bool(body["official"])

        await eventually(official)
        assert (await phone.get(f"/results/{sid}")).text == (await api.get(f"/results/{sid}")).text

        # what an edge cannot answer, it says so (never a 500)
        assert (await phone.get(f"/results/{sid}?version=9")).status_code == 404
        assert (await phone.get(f"/results/{sid}?version=0")).status_code == 422
        one_class = await phone.get(f"/api/v1/sessions/{sid}/results?class=A")
        assert one_class.status_code == 404 and "race service" in one_class.json()["detail"]
        assert (await phone.get(f"/api/v1/sessions/{sid}/results?format=xml")).status_code == 422
        assert (await phone.get("/results/99999999999999999999")).status_code == 404


@needs_redis
@race_databases(SQLITE_DB)
async def test_edges_serve_car_pages_and_watches_from_redis(db_url: str, redis_prefix: str) -> None:
    """A car's page and its watch on an edge, as on the race service; the race service
    renders the car only while an edge's watch lives (a 1 s TTL here)."""
    assert REDIS_URL is not None
    async with (
        race_service_on_redis(db_url, ENTRIES, "Edge Cup", REDIS_URL, redis_prefix, START_US) as (
            srv,
            clock,
        ),
        srv.client() as api,
        running_edge(REDIS_URL, redis_prefix, watch_ttl_s=1.0) as edge,
        httpx.AsyncClient(base_url=edge.base_url) as phone,
    ):
        await green_race(api)
        await burst(srv, clock, laps=3)  # two laps each

        async def entered() -> bool:  # the race service writes the entered cars each round
            return "3" in await edge.cars.known()

        await eventually(entered)
        # the car's page on the edge, nobody watching the car before: its two laps
        page = await phone.get("/live/cars/3")
        assert page.status_code == 200, page.text
        assert 'id="cp-lap-2"' in page.text and 'id="cp-lap-1"' in page.text
        assert 'open data-car="3"' in page.text and "Team 3" in page.text
        assert 'id="car-3"' in page.text  # the standings are there too
        assert (await phone.get("/live/cars/99")).status_code == 404
        assert (await phone.get("/live/cars/" + "9" * 40)).status_code == 404

        edge_ws, race_ws = edge.ws_url, f"{srv.ws_url}/ws/live"
        async with (
            CarWatcher(edge_ws, "3") as on_edge,
            CarWatcher(race_ws, "3") as on_race,
            CarWatcher(edge_ws, "99") as unknown,
        ):
            await wait_until(lambda: on_edge.laps() == on_race.laps() == ["cp-lap-2", "cp-lap-1"])
            await wait_until(lambda: unknown.none, 10)
            assert unknown.state.empty
            assert "99" not in edge.cars.mirrors and "car:99" not in srv.race.hub.channels
            # a crossing: the new lap reaches the spectator on the edge as on the race service
            clock.advance(60 * S)
            await srv.race.submit(PassingDetected(clock.now_us(), "1003", "d"))
            want = ["cp-lap-3", "cp-lap-2", "cp-lap-1"]
            await wait_until(lambda: on_edge.laps() == on_race.laps() == want)
            assert on_edge.state.snapshot() == on_race.state.snapshot()
            assert "3" in watched_cars(srv.race)
            assert "3" in edge.cars.mirrors

        # the sockets closed: the edge stops its watch, which expires; the race service then
        # stops rendering the car (and leaves the set of watched cars)
        car = srv.race.hub.channel("car:3")
        await wait_until(lambda: not car.watched and "3" not in watched_cars(srv.race), 15)
        assert not edge.cars.mirrors
        published = car.published
        clock.advance(60 * S)
        await srv.race.submit(PassingDetected(clock.now_us(), "1003", "d"))
        await wait_until(lambda: any(r.laps == 4 for r in srv.race.standings() if r.number == "3"))
        assert car.published == published
        client = Redis.from_url(REDIS_URL, decode_responses=True)
        try:
            await wait_until(lambda: _members(client, redis_prefix), 10)
        finally:
            await client.aclose()


async def _members(client: Redis, prefix: str) -> bool:
    """True when the set of watched cars is empty (the race service drops expired ones)."""
    return await client.scard(watch_set_key(prefix)) == 0


@race_databases(SQLITE_DB)
async def test_spectators_follow_through_a_redis_restart(
    db_url: str, private_redis: PrivateRedis
) -> None:
    """Redis itself stops (everything it held is gone) and starts again on its port: the
    relay writes the snapshot again, the edges reconnect and resume, nobody reloads."""
    url = private_redis.url
    async with (
        race_service_on_redis(db_url, ENTRIES, "Edge Cup", url, "rc", START_US) as (srv, clock),
        srv.client() as api,
        running_edge(url, "rc") as edge_a,
        running_edge(url, "rc") as edge_b,
        Spectator(edge_a.ws_url) as on_a,
        Spectator(edge_b.ws_url) as on_b,
    ):
        await green_race(api)

        def both_follow() -> bool:
            want = expected(srv)
            return on_a.standings() == want and on_b.standings() == want

        await burst(srv, clock, laps=2)
        await wait_until(both_follow, 30)
        connections = (on_a.connections, on_b.connections)

        await private_redis.stop()  # the race goes on while Redis is away
        await burst(srv, clock, laps=2)
        await wait_until(lambda: not edge_a.mirror.connected and not edge_b.mirror.connected, 30)
        await private_redis.start()  # empty: no snapshot, no stream
        await burst(srv, clock, laps=1)
        await wait_until(both_follow, 30)
        assert expected(srv)[0][1] == 4
        assert (on_a.connections, on_b.connections) == connections  # nobody reconnected
        client = Redis.from_url(url, decode_responses=True)
        try:
            assert await client.exists(snapshot_key("rc", "public"))  # written again
        finally:
            await client.aclose()
