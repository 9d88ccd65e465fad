"""The live table in headless Chromium during a race on a track with sector and pit loops.

At 375 px: the two-line row keeps position, number, class position, team and driver,
gap (or interval: a switch, remembered), last and best lap, laps once a car is lapped;
chips only for exceptions (in the pit with its ticking pit-lane time, out lap); no text
under 14 px; nothing wider than the screen; a starred car is pinned at the top through
live updates and a reload, and a banner says when it pits or sets its best lap; an
expired race-control message leaves the page without a reload; under a full-course
yellow the event and session names are still whole. At 1440 px: the sector
and pit-lane columns. axe-core (WCAG 2.2 AA, touch targets included) finds nothing at
either width.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from server.cli.track_import import import_track
from server.db.connection import create_engine, sessionmaker
from server.engine.events import (
    Flag,
    FlagChanged,
    LoopRole,
    PassingDetected,
    RaceControlMessagePosted,
)
from tests.fixtures.app_server import RunningServer, prepare_database, running_server
from tests.fixtures.browser import LIVE_BADGE, SQLITE_DB, axe_violations, chromium, race_databases
from timing_adapters.clock import ManualClock

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
DOCS_IMAGES = ROOT / "docs" / "images"
S = 1_000_000
START_US = 1_781_352_000_000_000
EVENT = "Sector Cup"
CARS = [str(n) for n in range(1, 9)]
TEAMS = {"3": "Scuderia Endurance Extraordinarily Long Team Name"}
ENTRIES = "number,class,team,drivers,transponder\n" + "".join(
    f"{n},{'A' if int(n) % 2 else 'B'},{TEAMS.get(n, f'Team {n}')},Driver {n},{3000 + int(n)}\n"
    for n in CARS
)
TRACK = (
    "decoder,role,sector,distance_m,name\n"
    "SF,start_finish,,0,Line\n"
    "S1,sector,1,1200,Sector 1\n"
    "S2,sector,2,2600,Sector 2\n"
    "PI,pit_in,,3900,Pit in\n"
    "PO,pit_out,,150,Pit out\n"
)
PHONE = {"width": 375, "height": 812}
WIDE = {"width": 1440, "height": 900}
ORDER_JS = "Array.from(document.querySelectorAll('#standings > tr')).map(r => r.id)"
# every visible text on the page: the smallest font size it is drawn in
SMALLEST_TEXT_JS = """() => {
  let smallest = 99, where = '';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest('script, [hidden], .sr-only')) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < smallest) { smallest = size; where = el.tagName + '.' + el.className; }
  }
  return [smallest, where];
}"""
# the texts a row shows, by cell (cells not displayed, or empty, are left out)
ROW_JS = """(id) => {
  const out = {};
  for (const td of document.getElementById(id).children) {
    if (getComputedStyle(td).display === 'none' || !td.innerText.trim()) continue;
    out[td.className.split(' ')[0]] = td.innerText.trim();
  }
  return out;
}"""


Passing = tuple[float, str, str, int | None]  # seconds into the race, car, loop, sector
ROLES = {
    "SF": LoopRole.START_FINISH,
    "S1": LoopRole.SECTOR,
    "S2": LoopRole.SECTOR,
    "PI": LoopRole.PIT_IN,
    "PO": LoopRole.PIT_OUT,
}


def lap(number: str, start_s: float, end_s: float) -> list[Passing]:
    """One lap through both sector loops (30 % and 65 % of the way), on the line at end_s."""
    length = end_s - start_s
    return [
        (start_s + length * 0.3, number, "S1", 1),
        (start_s + length * 0.65, number, "S2", 2),
        (end_s, number, "SF", None),
    ]


@dataclass
class Race:
    srv: RunningServer
    clock: ManualClock

    async def play(self, passings: list[Passing]) -> None:
        """Each passing at its time (the clock moves forward to it), in time order."""
        for at_s, number, loop, sector in sorted(passings):
            self.clock.advance_to(START_US + round(at_s * S))
            transponder = str(3000 + int(number))
            await self.srv.race.submit(
                PassingDetected(
                    self.clock.now_us(), transponder, loop, loop=ROLES[loop], sector=sector
                )
            )


def line_at(i: int, lap_number: int) -> float:
    """When car i (0-based) crosses the line on lap 0, 1, 2: car i laps 0.1 s (lap 1)
    and 1.1 s (lap 2) slower than car i - 1."""
    return (1 + i, 100 + 1.1 * i, 199 + 2.2 * i)[lap_number]


@asynccontextmanager
async def sector_race(db_url: str) -> AsyncIterator[Race]:
    """A race on a track with two sector loops and pit loops; every car over the line
    once, then two laps each, ending at 214.4 s."""
    token = await prepare_database(db_url, ENTRIES, EVENT)
    engine = create_engine(db_url)
    try:
        with tempfile.TemporaryDirectory(prefix="racecontrol-track-") as folder:
            path = Path(folder) / "track.csv"
            path.write_text(TRACK, encoding="utf-8")
            await import_track(sessionmaker(engine), path, EVENT)
    finally:
        await engine.dispose()
    clock = ManualClock(START_US)
    async with running_server(db_url, token, clock=clock) as srv, srv.client() as api:
        created = await api.post(
            "/api/v1/sessions",
            json={"event": EVENT, "type": "race", "name": "Four Hours", "length_minutes": 240},
        )
        await api.post(f"/api/v1/sessions/{created.json()['id']}/flag", json={"flag": "green"})
        race = Race(srv, clock)
        passings: list[Passing] = []
        for i, number in enumerate(CARS):
            passings.append((line_at(i, 0), number, "SF", None))
            passings += lap(number, line_at(i, 0), line_at(i, 1))
            passings += lap(number, line_at(i, 1), line_at(i, 2))
        await race.play(passings)
        yield race


async def open_live(browser: Browser, base_url: str, viewport: dict[str, int]) -> Page:
    context = await browser.new_context(
        viewport=viewport,  # type: ignore[arg-type]
        is_mobile=viewport is PHONE,
        has_touch=viewport is PHONE,
    )
    page = await context.new_page()
    await page.goto(f"{base_url}/live")
    await page.wait_for_function(LIVE_BADGE)
    await page.wait_for_selector("#standings button.star")
    return page


async def check_phone_row(page: Page) -> None:
    row = await page.evaluate(ROW_JS, "car-2")
    # two-line row: the cells a phone shows, and nothing else (laps: nobody is lapped)
    assert set(row) == {"c-fav", "c-pos", "c-cls", "c-no", "c-team", "c-gap", "c-last", "c-best"}
    assert row["c-pos"] == "2" and row["c-no"] == "2" and row["c-cls"] == "B 1"
    assert row["c-team"].splitlines() == ["Team 2", "Driver 2"]
    assert row["c-gap"] == "+2.200" and row["c-last"] == "1:40.100"
    assert row["c-best"] == "1:39.100" and row["c-fav"] == "\u2606"
    # a running car: no chip, no "RUN", no "0 stops"
    assert await page.locator("#standings .chip").count() == 0
    assert "RUN" not in (await page.inner_text("#standings")) and "stop" not in (
        await page.inner_text("#standings")
    )
    smallest, where = await page.evaluate(SMALLEST_TEXT_JS)
    assert smallest >= 14, where
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # the row is two lines: the driver's line under the team's
    box = await page.locator("#car-2").bounding_box()
    assert box is not None and box["height"] < 70
    # the header keeps the event and session names readable under the flag
    titles = await page.locator("#session-header .titles").bounding_box()
    assert titles is not None and titles["width"] > 200


async def check_gap_switch(page: Page) -> None:
    gap, interval = page.locator("#car-3 .c-gap"), page.locator("#car-3 .c-int")
    assert await gap.is_visible() and not await interval.is_visible()
    await page.locator(".gap-switch button[data-gap-mode='int']").tap()
    assert await interval.is_visible() and not await gap.is_visible()
    assert await page.locator("thead .c-int").is_visible()
    await page.reload()
    await page.wait_for_function(LIVE_BADGE)
    assert await page.locator("#car-3 .c-int").is_visible()
    pressed = page.locator(".gap-switch button[aria-pressed='true']")
    assert await pressed.get_attribute("data-gap-mode") == "int"
    await page.locator(".gap-switch button[data-gap-mode='gap']").tap()
    assert await page.locator("#car-3 .c-gap").is_visible()


@race_databases(SQLITE_DB)
async def test_the_phone_row_favourites_and_the_banner(db_url: str, tmp_path: Path) -> None:
    async with sector_race(db_url) as race, chromium() as browser:
        page = await open_live(browser, race.srv.base_url, PHONE)
        await check_phone_row(page)
        await check_gap_switch(page)
        assert await axe_violations(page) == []

        # star car 7 (7th): it goes to the top, marked, and stays there after a reload
        await page.locator("#car-7 button.star").tap()
        await page.wait_for_function(f"{ORDER_JS}[0] === 'car-7'")
        assert await page.locator("#car-7").get_attribute("data-fav") == ""
        assert await page.locator("#car-7 button.star").get_attribute("aria-pressed") == "true"
        await page.reload()
        await page.wait_for_function(f"{ORDER_JS}[0] === 'car-7' && {LIVE_BADGE}")

        # car 7 pits: its row changes (a row-level update), it stays pinned, a banner says so
        await race.play([(220, "7", "PI", None)])
        await page.locator("#car-7 .chip[data-chip='pit']").wait_for()
        banner = page.locator("#fav-banner")
        await banner.get_by_text("Car 7 (Team 7) is in the pit lane").wait_for()
        # the others but 8 do a lap, in reverse order: 6, 5, ... 1 lead; car 7 stays on top
        others = [n for n in CARS if n not in ("7", "8")]
        await race.play(
            [p for i, n in enumerate(others) for p in lap(n, line_at(i, 2), 300 + 0.8 * (7 - i))]
        )
        pinned = "car-7,car-6,car-5,car-4,car-3,car-2,car-1,car-8"
        await page.wait_for_function(f"{ORDER_JS}.join() === '{pinned}'")
        # the pit-lane time ticks in the browser from the server's clock
        race.clock.advance_to(START_US + 320 * S)
        await page.wait_for_function(
            "document.querySelector('#car-7 .chip').textContent.trim() === 'PIT 1:40'"
        )
        assert await page.locator("[data-for='pit']").is_visible()  # the legend follows
        assert not await page.locator("[data-for='out']").is_visible()
        await page.screenshot(path=str(tmp_path / "live-phone.png"), full_page=True)

        # out of the pits: OUT with the stop's time; then its best lap is news
        await race.play([(330, "7", "PO", None)])
        await page.locator("#car-7 .chip[data-chip='out']", has_text="OUT 1:50").wait_for()
        await page.locator("#fav-banner button").tap()
        await race.play([(340, "7", "SF", None), *lap("7", 340, 430)])
        await banner.get_by_text("Car 7 (Team 7) sets its best lap: 1:30.000").wait_for()
        await page.wait_for_function(f"{ORDER_JS}[0] === 'car-7'")
        # car 8 is two laps down now: the laps show on the phone
        await page.wait_for_function(
            "getComputedStyle(document.querySelector('#car-8 .c-laps')).display !== 'none'"
        )
        assert (await page.locator("#car-8 .c-laps").inner_text()).strip() == "2"
        assert await axe_violations(page) == []

        # a message race control set to expire leaves the page when it expires
        now = race.clock.now_us()
        message = RaceControlMessagePosted(now, "Oil at turn 4", None, "rc", now + 60 * S)
        await race.srv.race.submit(message)
        await page.locator("#ticker", has_text="Oil at turn 4").wait_for()
        race.clock.advance(61 * S)
        await page.locator("#ticker").wait_for(state="hidden")

        # a long flag label takes its own line: the event and session stay readable
        await race.srv.race.submit(FlagChanged(race.clock.now_us(), Flag.YELLOW))
        await page.locator("#session-header[data-flag='yellow']").wait_for()
        assert (await page.inner_text(".flag-label")).upper() == "FULL-COURSE YELLOW"
        for name in (".event-name", ".session-name"):
            fits = f"(e => e.scrollWidth <= e.clientWidth)(document.querySelector('{name}'))"
            assert await page.evaluate(fits), name
        assert await axe_violations(page) == []

        if os.environ.get("RACECONTROL_UPDATE_SCREENSHOTS"):
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp_path / "live-phone.png", DOCS_IMAGES / "live-phone.png")


@race_databases(SQLITE_DB)
async def test_sector_and_pit_lane_columns_on_a_wide_screen(db_url: str, tmp_path: Path) -> None:
    async with sector_race(db_url) as race, chromium() as browser:
        await race.play([(220, "4", "PI", None)])
        page = await open_live(browser, race.srv.base_url, WIDE)
        heads = await page.locator("#standings-table thead th").all_inner_texts()
        assert [h for h in heads if h.startswith("S") and h[1:].isdigit()] == ["S1", "S2", "S3"]
        assert "Pits" in heads and "Pit lane" in heads
        for css in (".c-sec", ".c-pits", ".c-pitlane", ".c-laps", ".c-gap", ".c-int"):
            assert await page.locator(f"#car-2 {css}").first.is_visible(), css
        # car 1 was fastest in every sector of its last lap: purple; the others not
        marks = await page.locator("#car-1 .c-sec").evaluate_all(
            "cells => cells.map(c => c.dataset.mark)"
        )
        assert marks == ["ob", "ob", "ob"]
        sectors = await page.locator("#car-1 .c-sec").all_inner_texts()
        assert sectors == ["29.700", "34.650", "34.650"]
        await page.locator("#car-4 .chip[data-chip='pit']").wait_for()
        assert await page.locator("#car-4 .c-pits").inner_text() == "1"
        assert await page.locator("[data-for='sectors']").is_visible()
        assert await page.evaluate("document.documentElement.scrollWidth") <= WIDE["width"]
        smallest, where = await page.evaluate(SMALLEST_TEXT_JS)
        assert smallest >= 14, where
        assert await axe_violations(page) == []
        await page.screenshot(path=str(tmp_path / "live-wide.png"))
        if os.environ.get("RACECONTROL_UPDATE_SCREENSHOTS"):
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp_path / "live-wide.png", DOCS_IMAGES / "live-wide.png")
