"""/live in headless Chromium: positions change over the websocket, without a reload, and a
phone's first load of a running race stays small on the wire."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from tests.fixtures.app_server import prepare_database, running_server, wait_until
from tests.fixtures.browser import (
    POSTGRES_DB,
    SQLITE_DB,
    chromium,
    log_network,
    race_databases,
    settled,
)
from timing_adapters.clock import ScaledClock
from timing_adapters.emulator.scenario import generate_race
from timing_adapters.emulator.server import P3Emulator

pytestmark = pytest.mark.browser
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PHONE = {"width": 375, "height": 812}
# bytes on the wire for a phone's first /live: every HTTP response, headers included (the
# websocket messages that follow are printed, not counted: they are the live stream)
FIRST_LOAD_BUDGET = 60_000
LIVE_JS = "document.querySelector('#live-badge').dataset.state === 'live'"


async def measure_phone_loads(browser: Browser, url: str, cars: int) -> None:
    """A phone that never saw the page loads it, then comes back: print and check the bytes."""
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = await context.new_page()
        first = await log_network(page)
        await page.goto(url)
        await page.wait_for_function(
            f"document.querySelectorAll('#standings tr').length === {cars}"
        )
        await page.wait_for_function(LIVE_JS)
        await settled(first)
        print(f"\n/live first load on a phone, {cars} cars racing:\n{first.report()}")
        print(
            f"  websocket: {len(first.websocket)} messages, {sum(first.websocket):,} B"
            f" (the largest {max(first.websocket):,} B), not compressed"
        )
        assert first.failed == []
        assert first.total < FIRST_LOAD_BUDGET
        assert {u.split("?")[0].rsplit("/", 1)[1] for u in first.by_url if "/static/" in u} == {
            "app.css",
            "live_table.css",
            "htmx.min.js",
            "ws.min.js",
            "live.js",
            "car.js",  # the car's panel (a tap on a row)
            "car.css",
            "gap_switch.js",
            "favourites.js",
        }

        again = await log_network(page)
        await page.goto(url)  # a second visit: the versioned assets come from the cache
        await page.wait_for_function(LIVE_JS)
        await settled(again)
        print(f"/live second visit:\n{again.report()}")
        assert {u: n for u, n in again.by_url.items() if "/static/" in u and n > 0} == {}
        assert again.total < first.total / 3
    finally:
        await context.close()


ROWS_JS = "Array.from(document.querySelectorAll('#standings tr'))"
POSITIONS_JS = ".map(r => r.querySelector('.c-pos').textContent).join()"


def positions(count: int) -> str:
    return ",".join(str(p) for p in range(1, count + 1))


async def check_class_filter(page: Page, classes: list[str]) -> None:
    """One class alone shows its cars with in-class positions; All brings back the overall.

    Each check is one expression polled until true: rows are swapped under it all the time.
    """
    shown = "B"
    await page.click(f"#class-filter button[data-filter='{shown}']")
    await page.wait_for_function(
        f"{ROWS_JS}.every(r => r.hidden === (r.dataset.class !== '{shown}'))"
        f" && {ROWS_JS}.filter(r => !r.hidden){POSITIONS_JS}"
        f" === '{positions(classes.count(shown))}'",
        timeout=10_000,
    )
    await page.click("#class-filter button[data-filter='']")
    await page.wait_for_function(
        f"{ROWS_JS}.every(r => !r.hidden) && {ROWS_JS}{POSITIONS_JS}"
        f" === '{positions(len(classes))}'",
        timeout=10_000,
    )


@race_databases(SQLITE_DB, POSTGRES_DB)
async def test_live_page_follows_the_race(db_url: str, tmp_path: Path) -> None:
    scenario = generate_race(seed=3, cars=32, length_s=30 * 60)
    token = await prepare_database(db_url, scenario.entries_csv(), "Browser Cup")
    clock = ScaledClock(40.0)
    emulator = P3Emulator(clock=clock, status_interval_s=0.2)
    port = await emulator.start()
    try:
        async with (
            running_server(db_url, token, decoders=[f"tcp://127.0.0.1:{port}"], clock=clock) as srv,
            srv.client() as api,
            chromium() as browser,
        ):
            created = await api.post(
                "/api/v1/sessions",
                json={
                    "event": "Browser Cup",
                    "type": "race",
                    "name": "Race 1",
                    "length_minutes": 60,
                },
            )
            session_id = created.json()["id"]
            page = await browser.new_page(viewport=PHONE)
            await page.goto(f"{srv.base_url}/live")
            await page.wait_for_selector("#standings tr")
            await page.evaluate("window.__notReloaded = true")
            await page.wait_for_function(
                "document.querySelector('#live-badge').textContent.toLowerCase().includes('live')"
            )

            await api.post(f"/api/v1/sessions/{session_id}/flag", json={"flag": "green"})
            await emulator.wait_for_clients(1)
            playing = asyncio.create_task(emulator.play(scenario.passings))
            try:
                # once every car has completed a lap, note the order, then wait for a change
                await wait_until(lambda: all(r.laps >= 1 for r in srv.race.standings()), 60)
                order_js = "Array.from(document.querySelectorAll('#standings tr')).map(r => r.id)"
                await page.wait_for_function(f"{order_js}.length === {len(scenario.cars)}")
                first = await page.evaluate(order_js)
                await page.wait_for_function(
                    f"JSON.stringify({order_js}) !== JSON.stringify({first!r})", timeout=30_000
                )
                assert await page.evaluate("window.__notReloaded") is True
                badge = (await page.text_content("#live-badge")) or ""
                assert "live" in badge.lower()
                await check_class_filter(page, [car.class_name for car in scenario.cars])
                await measure_phone_loads(browser, f"{srv.base_url}/live", len(scenario.cars))
                shot = tmp_path / "live-375.png"
                await page.screenshot(path=str(shot), full_page=True)
                wide = await browser.new_page(viewport={"width": 1600, "height": 900})
                await wide.goto(f"{srv.base_url}/live")
                await wide.wait_for_selector("#standings tr")
                await wide.screenshot(path=str(tmp_path / "live-1600.png"))
                # docs/images/live-phone.png and live-wide.png come from
                # tests/browser/test_live_table_page.py
                # (a track with sector and pit loops, a favourite, a car in the pits)
                assert shot.stat().st_size > 0
            finally:
                playing.cancel()
    finally:
        await emulator.stop()
