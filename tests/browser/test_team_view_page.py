"""A team's pit wall in headless Chromium during a running race, on a phone (375 px) and a
pit-wall laptop (1440 px): it follows its car live (a lap, a stop with a driver change, a
race-control message) without a reload, fits the screen, and axe-core finds no WCAG 2
A/AA violation."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, ViewportSize

from server.engine.events import (
    DriverChangeConfirmed,
    PitInMarked,
    PitOutMarked,
    RaceControlMessagePosted,
)
from tests.fixtures.browser import OVERFLOWS, axe_violations, chromium
from tests.fixtures.pit_desk import Desk, race_desk

pytestmark = pytest.mark.browser
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PHONE: ViewportSize = {"width": 375, "height": 812}
LAPTOP: ViewportSize = {"width": 1440, "height": 900}
LIVE_JS = "document.querySelector('#live-badge').dataset.state === 'live'"


def shows(selector: str, text: str) -> str:
    return f"(document.querySelector({selector!r}) || {{}}).textContent?.includes({text!r})"


async def open_team_view(browser: Browser, desk: Desk, viewport: ViewportSize) -> Page:
    phone = viewport["width"] < 500
    context = await browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    page = await context.new_page()
    await page.goto(f"{desk.srv.base_url}/live/teams/7")
    await page.wait_for_selector("#team-car .tiles")
    await page.wait_for_function(LIVE_JS)
    await page.evaluate("window.__notReloaded = true")
    return page


async def follows_its_car(desk: Desk, pages: list[Page]) -> None:
    """A lap, then a stop where Bob takes over from Ann, then a message for the car."""
    desk.advance(95)
    await desk.cross("7")
    for page in pages:
        await page.wait_for_function(shows("#team-car", "1:35.000"))
    await desk.submit(PitInMarked("7", desk.now(), "marshal"))
    desk.advance(20)
    await desk.submit(DriverChangeConfirmed("7", "Bob Birch", desk.now(), "marshal"))
    desk.advance(40)
    await desk.submit(PitOutMarked("7", desk.now(), "marshal"))
    desk.advance(40)
    await desk.cross("7")
    for page in pages:
        await page.wait_for_function(shows("#team-stops", "Ann Alder → Bob Birch"))
        await page.wait_for_function(shows("#team-drivers", "rests until"))
        await page.wait_for_function(shows(".stint-driver", "Bob Birch"))
        await page.wait_for_function(shows(".stint-limit", "in "))
    message = RaceControlMessagePosted(desk.now(), "Check your mirrors", "7", "rc", None)
    await desk.submit(message)
    for page in pages:
        await page.wait_for_function(shows("#team-messages", "Check your mirrors"))
        assert await page.evaluate("window.__notReloaded") is True


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_the_team_view_follows_its_car_live_on_a_phone_and_a_laptop(
    db_url: str, tmp_path: Path
) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        phone = await open_team_view(browser, desk, PHONE)
        laptop = await open_team_view(browser, desk, LAPTOP)
        for page in (phone, laptop):
            assert await page.evaluate(OVERFLOWS) == []
            assert await axe_violations(page) == []
        await follows_its_car(desk, [phone, laptop])
        for page in (phone, laptop):
            assert await page.evaluate(OVERFLOWS) == []
            assert await axe_violations(page) == []
            # the stint clock ticks in the browser from the server's times
            assert await page.locator("#team-car .stint-clock [data-st]").count() == 1
        shot = tmp_path / "team-phone.png"
        await phone.screenshot(path=str(shot), full_page=True)
        await laptop.screenshot(path=str(tmp_path / "team-wide.png"))
        if os.environ.get("RACECONTROL_UPDATE_SCREENSHOTS"):
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, DOCS_IMAGES / "team-phone.png")
            shutil.copy(tmp_path / "team-wide.png", DOCS_IMAGES / "team-wide.png")
