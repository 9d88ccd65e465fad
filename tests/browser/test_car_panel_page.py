"""A car's page in headless Chromium at 375 px and 1440 px, during a running race: opened
from a tap on a row of /live (the panel) and at /live/cars/{number}; it gains the new lap
row when the car crosses, without a reload; axe-core finds no WCAG 2.2 A/AA violation
(touch targets included). The panel is modal: Tab stays inside it, closing it (the button
or Escape) gives the focus back to the car's link, and the session header (flag, clock)
stays in sight above it on a phone. A new session without the car says so and hides the
old laps; the car's first crossing in it brings its page back."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from server.engine.events import LapVoided, PassingDetected
from tests.fixtures.app_server import RunningServer, prepare_database, running_server, wait_until
from tests.fixtures.browser import LIVE_BADGE, SQLITE_DB, axe_violations, chromium, race_databases
from timing_adapters.clock import ManualClock

pytestmark = pytest.mark.browser
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
S = 1_000_000
START_US = 1_781_352_000_000_000
CARS = [str(n) for n in range(1, 11)]
ENTRIES = "number,class,team,drivers,transponder\n" + "".join(
    f"{n},{'A' if int(n) % 3 else 'B'},Team {n},Driver {n};Relief {n},{3000 + int(n)}\n"
    for n in CARS
)
SCREENS: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
    "wide": {"viewport": {"width": 1440, "height": 900}},
}


async def lap_all(srv: RunningServer, clock: ManualClock, laps: int) -> None:
    passings = []
    for lap in range(laps):
        for i, number in enumerate(CARS):
            clock.advance(S if i else 85 * S + (lap % 4) * S)
            passings.append(PassingDetected(clock.now_us(), str(3000 + int(number)), "d"))
    await asyncio.gather(*(srv.race.submit(p) for p in passings))
    await srv.race.applied()


async def cross(srv: RunningServer, clock: ManualClock, number: str) -> None:
    clock.advance(90 * S)
    await srv.race.submit(PassingDetected(clock.now_us(), str(3000 + int(number)), "d"))


# where the focus is: inside the panel, or the car link that opened it
FOCUS_JS = """() => {
  const a = document.activeElement;
  return a && a.closest('#cp-panel') ? 'panel' : a && a.matches('a.car-link') ? a.textContent : '';
}"""


# the boxes (layout viewport) of the panel, the session header and its flag and clock
BOXES_JS = """() => Object.fromEntries(['#cp-panel', '#session-header',
  '#session-header .flag-label', '#session-header .clock'].map(
  s => [s, document.querySelector(s).getBoundingClientRect().toJSON()]))"""


async def check_modal(page: Page, screen: str) -> None:
    """Tab goes round inside the open panel; the flag and clock are not under it."""
    for _ in range(25):
        await page.keyboard.press("Tab")
        assert await page.evaluate(FOCUS_JS) == "panel"
    boxes = await page.evaluate(BOXES_JS)
    panel = boxes["#cp-panel"]
    assert panel["top"] >= boxes["#session-header"]["bottom"] - 1, boxes
    for part in ("#session-header .flag-label", "#session-header .clock"):
        assert await page.locator(part).is_visible(), part
        box = boxes[part]
        assert box["top"] >= 0 and box["bottom"] <= panel["top"] + 1, boxes
        assert box["left"] >= 0 and box["right"] <= SCREENS[screen]["viewport"]["width"], boxes


async def shown_laps(page: Page) -> list[str]:
    return list(
        await page.evaluate(
            "Array.from(document.querySelectorAll('#cp-lap-rows > tr')).map(r => r.id)"
        )
    )


@race_databases(SQLITE_DB)
@pytest.mark.parametrize("screen", ["phone", "wide"])
async def test_the_car_page_follows_the_car_live(db_url: str, screen: str, tmp_path: Path) -> None:
    token = await prepare_database(db_url, ENTRIES, "Car Cup")
    clock = ManualClock(START_US)
    async with (
        running_server(db_url, token, clock=clock) as srv,
        srv.client() as api,
        chromium() as browser,
    ):
        created = await api.post(
            "/api/v1/sessions",
            json={"event": "Car Cup", "type": "race", "name": "4 Hours", "length_minutes": 240},
        )
        await api.post(f"/api/v1/sessions/{created.json()['id']}/flag", json={"flag": "green"})
        await lap_all(srv, clock, 8)
        await srv.race.submit(LapVoided("4", 3, clock.now_us(), "track limits T4", "rc"))
        await api.post(f"/api/v1/sessions/{created.json()['id']}/flag", json={"flag": "yellow"})
        await lap_all(srv, clock, 1)
        await api.post(f"/api/v1/sessions/{created.json()['id']}/flag", json={"flag": "green"})
        await lap_all(srv, clock, 2)
        context = await browser.new_context(**SCREENS[screen])
        try:
            # a tap on car 4's row of /live opens its panel and the address follows it
            page = await context.new_page()
            await page.goto(f"{srv.base_url}/live")
            await page.wait_for_function(LIVE_BADGE)
            await page.evaluate("window.__notReloaded = true")
            await page.click("#car-4 .c-team")
            await page.wait_for_selector("#cp-panel[open] #cp-lap-10")  # laps 1 to 10
            assert page.url.endswith("/live/cars/4")
            before = await shown_laps(page)
            assert before[0] == "cp-lap-10" and len(before) == 10
            voided = await page.text_content("#cp-lap-3")
            assert voided is not None and "deleted: track limits T4" in voided
            flag = page.locator("#cp-lap-8 .cp-flag")
            assert await flag.text_content() == "FCY"
            assert await flag.get_attribute("title") == "Full-course yellow"
            assert await page.locator("#cp-laps td[data-best] abbr").count() >= 1
            # the car crosses: its new lap comes in at the top, the page is not reloaded
            watched = srv.race.hub.channel("car:4")
            await wait_until(lambda: bool(watched.subscribers), 10)
            await cross(srv, clock, "4")
            await page.wait_for_selector("#cp-lap-11", timeout=15_000)
            assert (await shown_laps(page))[:2] == ["cp-lap-11", "cp-lap-10"]
            assert await page.evaluate("window.__notReloaded") is True
            assert await axe_violations(page) == []
            shot = tmp_path / f"car-{screen}.png"
            await page.screenshot(path=str(shot))
            await check_modal(page, screen)
            # closing the panel stops the watch, goes back to /live, gives the focus back
            await page.click("[data-car-close]")
            await wait_until(lambda: not watched.subscribers, 10)
            await page.wait_for_url("**/live")
            assert await page.evaluate(FOCUS_JS) == "4"
            # from the keyboard: Enter on car 5's link opens it, Escape closes it
            await page.focus("#car-5 a.car-link")
            await page.keyboard.press("Enter")
            await page.wait_for_selector("#cp-panel[open] #cp-lap-10")
            assert await page.evaluate(FOCUS_JS) == "panel"
            await page.keyboard.press("Escape")
            await page.wait_for_selector("#cp-panel:not([open])", state="attached")
            await page.wait_for_url("**/live")
            assert await page.evaluate(FOCUS_JS) == "5"
            if screen == "wide":  # a click on the table beside the panel closes it
                await page.click("#car-6 .c-team")
                await page.wait_for_selector("#cp-panel[open] #cp-lap-10")
                await page.mouse.click(20, 600)
                await page.wait_for_selector("#cp-panel:not([open])", state="attached")
                await page.wait_for_url("**/live")
            # the page of its own: /live/cars/7, live too
            own = await context.new_page()
            await own.goto(f"{srv.base_url}/live/cars/7")
            await own.wait_for_function(LIVE_BADGE)
            await wait_until(lambda: bool(srv.race.hub.channel("car:7").subscribers), 10)
            await cross(srv, clock, "7")
            await own.wait_for_selector("#cp-lap-11", timeout=15_000)
            assert await axe_violations(own) == []
            await check_modal(own, screen)
            # closing the page of its own: the focus goes to car 7's link in the table
            await own.keyboard.press("Escape")
            await own.wait_for_url("**/live")
            assert await own.evaluate(FOCUS_JS) == "7"
            await own.click("#car-7 .c-team")
            await own.wait_for_selector("#cp-panel[open] #cp-lap-11")
            # a new session (another event's) without car 7: the panel says so, the old laps go
            other = await api.post(
                "/api/v1/sessions",
                json={"event": "Other Cup", "type": "race", "name": "Sprint", "length_minutes": 60},
            )
            assert other.status_code == 201, other.text
            note = own.locator("[data-car-loading]", has_text="Car 7 is not in this session.")
            await note.wait_for(timeout=15_000)
            assert not await own.locator("#cp-laps").is_visible()
            assert await axe_violations(own) == []
            # a session with car 7 again: its page comes back (no lap yet in it)
            again = await api.post(
                "/api/v1/sessions",
                json={"event": "Car Cup", "type": "race", "name": "Final", "length_minutes": 60},
            )
            assert again.status_code == 201, again.text
            await own.locator("#cp-laps", has_text="No lap yet.").wait_for(timeout=15_000)
            assert await note.is_hidden()
            if os.environ.get("RACECONTROL_UPDATE_SCREENSHOTS"):
                DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
                shutil.copy(shot, DOCS_IMAGES / f"car-{screen}.png")
        finally:
            await context.close()
