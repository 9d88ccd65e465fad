"""/live/charts in headless Chromium at 375 px and 1440 px during a running race: each
chart (lap chart, lap times, gaps) draws the history and grows by the new point of a
crossing without a reload; the stint timelines show a pit stop once the car's pit lap
is completed; axe-core finds no WCAG 2 A/AA violation on any tab."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, ViewportSize

from server.engine.events import DriverChangeConfirmed, LoopRole, PassingDetected
from server.service.race_service import RaceService
from tests.fixtures.app_server import prepare_database, running_server, wait_until
from tests.fixtures.browser import (
    LIVE_BADGE,
    OVERFLOWS,
    SQLITE_DB,
    axe_violations,
    chromium,
    race_databases,
)
from timing_adapters.clock import ManualClock

pytestmark = pytest.mark.browser
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
S = 1_000_000
START_US = 1_781_352_000_000_000
CARS = [str(n) for n in range(1, 13)]
CLASS = {n: "ABC"[int(n) % 3] for n in CARS}
ENTRIES = "number,class,team,drivers,transponder\n" + "".join(
    f"{n},{CLASS[n]},Team {n},Driver {n}a;Driver {n}b,{3000 + int(n)}\n" for n in CARS
)
SCREENS: dict[str, ViewportSize] = {
    "phone": {"width": 375, "height": 812},
    "wide": {"width": 1440, "height": 900},
}


@dataclass
class Race:
    race: RaceService
    clock: ManualClock
    base_url: str
    lap: int = 0

    async def cross(self, number: str, loop: LoopRole = LoopRole.START_FINISH) -> None:
        transponder = str(3000 + int(number))
        await self.race.submit(PassingDetected(self.clock.now_us(), transponder, "d", loop=loop))

    async def lap_of_all(self) -> None:
        """Every car completes a lap, in an order that changes from lap to lap."""
        self.lap += 1
        shift = (self.lap * 5) % len(CARS)
        for i, number in enumerate(CARS[shift:] + CARS[:shift]):
            self.clock.advance((85 + self.lap % 3) * S if i == 0 else (1 + i % 4) * S)
            await self.cross(number)


@asynccontextmanager
async def running_race(db_url: str) -> AsyncIterator[Race]:
    token = await prepare_database(db_url, ENTRIES, "Chart Cup")
    clock = ManualClock(START_US)
    async with running_server(db_url, token, clock=clock) as srv, srv.client() as api:
        created = await api.post(
            "/api/v1/sessions",
            json={"event": "Chart Cup", "type": "race", "name": "Race", "length_minutes": 120},
        )
        await api.post(f"/api/v1/sessions/{created.json()['id']}/flag", json={"flag": "green"})
        race = Race(srv.race, clock, srv.base_url)
        for number in CARS:
            clock.advance(S)
            await race.cross(number)
        for _ in range(6):
            await race.lap_of_all()
        yield race


async def points(page: Page, chart: str) -> int:
    return int(await page.get_attribute(f"#chart-{chart}", "data-points") or 0)


async def open_tab(page: Page, tab: str) -> None:
    await page.click(f".chart-tabs [data-tab='{tab}']")
    await page.wait_for_function(
        f"document.querySelector('#tab-{tab}').getAttribute('aria-selected') === 'true'"
    )


async def check_grows(page: Page, race: Race, chart: str) -> None:
    """The chart shows the history; a crossing adds its point (no reload)."""
    await page.wait_for_function(
        f"Number(document.querySelector('#chart-{chart}').dataset.points) > 0"
    )
    await page.wait_for_selector(f"#chart-{chart} canvas")
    before = await points(page, chart)
    shown = (await page.get_attribute(f"#chart-{chart}", "data-cars") or "").split(",")
    race.clock.advance(80 * S)
    await race.cross(shown[0])
    await page.wait_for_function(
        f"Number(document.querySelector('#chart-{chart}').dataset.points) === {before + 1}"
    )


async def shoot(page: Page, tmp_path: Path, name: str) -> None:
    shot = tmp_path / f"{name}.png"
    await page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("RACECONTROL_UPDATE_SCREENSHOTS"):
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, DOCS_IMAGES / f"{name}.png")


async def check_charts(browser: Browser, race: Race, screen: str, tmp_path: Path) -> None:
    context = await browser.new_context(viewport=SCREENS[screen])
    try:
        page = await context.new_page()
        await page.goto(f"{race.base_url}/live/charts")
        await page.wait_for_function(LIVE_BADGE)
        await page.evaluate("window.__notReloaded = true")

        await check_grows(page, race, "laps")  # class A first
        await page.select_option("#laps-class", "")
        await page.wait_for_function(
            f"document.querySelector('#chart-laps').dataset.cars.split(',').length === {len(CARS)}"
        )
        assert await axe_violations(page) == []
        assert await page.evaluate(OVERFLOWS) == []
        await shoot(page, tmp_path, f"charts-laps-{screen}")

        await open_tab(page, "times")
        await check_grows(page, race, "times")
        chosen = await page.get_attribute("#chart-times", "data-cars")
        await page.click("#times-cars button[aria-pressed='false']")
        await page.wait_for_function(
            f"document.querySelector('#chart-times').dataset.cars !== {chosen!r}"
        )
        assert await axe_violations(page) == []
        await shoot(page, tmp_path, f"charts-times-{screen}")

        await open_tab(page, "gaps")
        await check_grows(page, race, "gaps")
        assert await axe_violations(page) == []
        await shoot(page, tmp_path, f"charts-gaps-{screen}")

        await open_tab(page, "timeline")
        await page.wait_for_selector(f"#timelines figure >> nth={len(CARS) - 1}")
        car = CARS[race.lap % len(CARS)]
        stops = f"#timeline-{car} svg .tl-stop"
        had = await page.locator(stops).count()
        race.clock.advance(30 * S)
        await race.cross(car, LoopRole.PIT_IN)
        driver = f"Driver {car}b" if had % 2 == 0 else f"Driver {car}a"
        await race.race.submit(DriverChangeConfirmed(car, driver, race.clock.now_us(), "pit"))
        race.clock.advance(40 * S)
        await race.cross(car, LoopRole.PIT_OUT)
        race.clock.advance(50 * S)
        await race.cross(car)  # the pit lap completed: the timeline follows
        await page.wait_for_function(
            f"document.querySelectorAll('{stops}').length === {had + 1}", timeout=15_000
        )
        assert await axe_violations(page) == []
        assert await page.evaluate(OVERFLOWS) == []
        await shoot(page, tmp_path, f"charts-timeline-{screen}")
        assert await page.evaluate("window.__notReloaded") is True
    finally:
        await context.close()


@race_databases(SQLITE_DB)
async def test_each_chart_updates_live_on_a_phone_and_a_laptop(db_url: str, tmp_path: Path) -> None:
    async with running_race(db_url) as race, chromium() as browser:
        for screen in SCREENS:
            await check_charts(browser, race, screen, tmp_path)
        await wait_until(lambda: race.race.hub.channel("charts").published > 0, 5)
