"""A car's page on an edge (``racecontrol edge``, Redis alone) in headless Chromium: a tap
on a row of the edge's /live opens the car's panel, the edge's /live/cars/{number} shows
it at once, and both gain the new lap row when the car crosses, without a reload."""

from __future__ import annotations

import pytest

from tests.browser.test_car_panel_page import (
    ENTRIES,
    SCREENS,
    START_US,
    cross,
    lap_all,
    shown_laps,
)
from tests.fixtures.app_server import wait_until
from tests.fixtures.browser import LIVE_BADGE, SQLITE_DB, chromium, race_databases
from tests.fixtures.edges import race_service_on_redis, running_edge
from tests.fixtures.redis_keys import REDIS_URL, needs_redis

pytestmark = pytest.mark.browser


@needs_redis
@race_databases(SQLITE_DB)
async def test_the_car_page_on_an_edge_follows_the_car(db_url: str, redis_prefix: str) -> None:
    assert REDIS_URL is not None
    async with (
        race_service_on_redis(db_url, ENTRIES, "Car Cup", REDIS_URL, redis_prefix, START_US) as (
            srv,
            clock,
        ),
        srv.client() as api,
        running_edge(REDIS_URL, redis_prefix, watch_ttl_s=1.0) as edge,
        chromium() as browser,
    ):
        created = await api.post(
            "/api/v1/sessions",
            json={"event": "Car Cup", "type": "race", "name": "4 Hours", "length_minutes": 240},
        )
        await api.post(f"/api/v1/sessions/{created.json()['id']}/flag", json={"flag": "green"})
        await lap_all(srv, clock, 4)  # laps 1 to 3
        context = await browser.new_context(**SCREENS["phone"])
        try:
            page = await context.new_page()
            await page.goto(f"{edge.base_url}/live")
            await page.wait_for_function(LIVE_BADGE)
            await page.evaluate("window.__notReloaded = true")
            await page.click("#car-4 .c-team")
            await page.wait_for_selector("#cp-panel[open] #cp-lap-3", timeout=15_000)
            assert page.url.endswith("/live/cars/4")
            assert await shown_laps(page) == ["cp-lap-3", "cp-lap-2", "cp-lap-1"]
            await wait_until(lambda: bool(srv.race.hub.channel("car:4").listeners), 10)
            await cross(srv, clock, "4")
            await page.wait_for_selector("#cp-lap-4", timeout=15_000)
            assert (await shown_laps(page))[:2] == ["cp-lap-4", "cp-lap-3"]
            assert await page.evaluate("window.__notReloaded") is True
            # the edge's page of car 7: its laps before the websocket, then live
            own = await context.new_page()
            await own.goto(f"{edge.base_url}/live/cars/7")
            assert await shown_laps(own) == ["cp-lap-3", "cp-lap-2", "cp-lap-1"]
            await own.wait_for_function(LIVE_BADGE)
            await wait_until(lambda: bool(edge.cars.hub.channel("car:7").subscribers), 10)
            await cross(srv, clock, "7")
            await own.wait_for_selector("#cp-lap-4", timeout=15_000)
        finally:
            await context.close()
