"""The public pages no other browser test checks, in headless Chromium at 375 px and 1440 px:
/login (race control's and the pit marshal's), /live/sessions, a finished practice's
/results (provisional, then official) and the race's /live/sessions/{id}/grid. On each,
axe-core (WCAG 2.2 A/AA, touch targets included) finds no violation and nothing is wider
than the screen; so do /live, /live/sessions before any session and a refused login.
/live at 375 px and 1440 px with sixty cars, long event, session and team
names, a full-course yellow and three local yellows: nothing wider than the screen, and
axe finds nothing."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser

from server.engine.events import PassingDetected
from tests.fixtures.app_server import prepare_database, running_server
from tests.fixtures.browser import LIVE_BADGE, SQLITE_DB, axe_violations, chromium, race_databases
from tests.integration.test_past_sessions import answers, finished_practice
from tests.integration.test_race_weekend import START_US, S, weekend
from timing_adapters.clock import ManualClock

pytestmark = pytest.mark.browser
SCREENS: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
    "wide": {"viewport": {"width": 1440, "height": 900}},
}
FITS_JS = "document.scrollingElement.scrollWidth <= window.innerWidth"
# the panel's top, the session header's bottom and the flag label's top
PANEL_UNDER_HEADER_JS = """[document.getElementById('cp-panel').getBoundingClientRect().top,
  document.getElementById('session-header').getBoundingClientRect().bottom,
  document.querySelector('#session-header .flag-label').getBoundingClientRect().top]"""


async def check_pages(browser: Browser, base_url: str, paths: list[str]) -> None:
    """Each page at each width: it answers, fits the screen and axe finds nothing."""
    for screen, options in SCREENS.items():
        context = await browser.new_context(**options)
        try:
            page = await context.new_page()
            for path in paths:
                answer = await page.goto(base_url + path)
                assert answer is not None and answer.status == 200, (screen, path)
                assert await page.evaluate(FITS_JS), (screen, path)
                assert await axe_violations(page) == [], (screen, path)
        finally:
            await context.close()


@race_databases(SQLITE_DB)
async def test_login_sessions_results_and_grid_pages_pass_axe(db_url: str) -> None:
    async with weekend(db_url) as w, chromium() as browser:
        practice = await finished_practice(w)
        await w.session("qualifying", "Qualifying", 1000)
        for number, at in (("9", 1010.0), ("7", 1020.0), ("9", 1100.0), ("7", 1111.0)):
            await w.cross(number, at)
        race = await w.session("race", "Race", 2000)
        grid = f"/live/sessions/{race}/grid"
        assert await answers(w.public, grid) == 200
        pages = ["/login", "/login?next=/pit", "/live/sessions", f"/results/{practice}", grid]
        await check_pages(browser, w.srv.base_url, pages)

        # signed official: the results page says so, and still passes
        signed = await w.steward.post(f"/api/v1/sessions/{practice}/official", json={"note": ""})
        assert signed.status_code == 200, signed.text
        official = await w.public.get(f"/results/{practice}")
        assert "OFFICIAL" in official.text.upper()
        await check_pages(browser, w.srv.base_url, [f"/results/{practice}", "/live/sessions"])


LONG_EVENT = "Grand International Twenty-Four Hours of Endurance Racing Festival"
LONG_SESSION = "Saturday Evening Main Race Into The Night, Part One"
MANY_CARS = [str(n) for n in range(1, 61)]
LONG_TEAM = "Scuderia Endurance Extraordinarily Long Team Name"
MANY_ENTRIES = "number,class,team,drivers,transponder\n" + "".join(
    f"{n},{'GT3 Pro-Am' if int(n) % 2 else 'A'},{LONG_TEAM if int(n) % 7 == 0 else 'Team'} {n},"
    f"Driver {n} Verylongsurname-Doublebarrelled;Relief {n},{4000 + int(n)}\n"
    for n in MANY_CARS
)


@race_databases(SQLITE_DB)
async def test_live_with_sixty_cars_and_long_names_fits_a_phone(db_url: str) -> None:
    token = await prepare_database(db_url, MANY_ENTRIES, LONG_EVENT)
    clock = ManualClock(START_US)
    async with (
        running_server(db_url, token, clock=clock) as srv,
        srv.client() as api,
        chromium() as browser,
    ):
        body = {"event": LONG_EVENT, "type": "race", "name": LONG_SESSION, "length_minutes": 240}
        created = await api.post("/api/v1/sessions", json=body)
        assert created.status_code == 201, created.text
        flag_url = f"/api/v1/sessions/{created.json()['id']}/flag"
        await api.post(flag_url, json={"flag": "green"})
        passings = []
        for _ in range(3):
            for i, number in enumerate(MANY_CARS):
                clock.advance(S if i else 60 * S)
                passings.append(PassingDetected(clock.now_us(), str(4000 + int(number)), "d"))
        for passing in passings:
            await srv.race.submit(passing)
        await srv.race.applied()
        await api.post(flag_url, json={"flag": "yellow"})
        for station in ("Turn 1 Esses", "Turn 12 Hairpin", "Back straight chicane"):
            await api.post(flag_url, json={"flag": "local_yellow", "station": station})
        for screen, options in SCREENS.items():
            context = await browser.new_context(**options)
            try:
                page = await context.new_page()
                await page.goto(f"{srv.base_url}/live")
                await page.wait_for_function(LIVE_BADGE)
                await page.locator("#session-header[data-flag='yellow']").wait_for()
                assert await page.locator("#standings > tr").count() == 60
                assert "Back straight chicane" in await page.inner_text("#session-header")
                assert (await page.inner_text(".flag-label")).upper() == "FULL-COURSE YELLOW"
                assert await page.evaluate(FITS_JS), screen
                assert await axe_violations(page) == [], screen
                # car 7's panel opens under the (tall) header: the flag stays in sight
                await page.click("#car-7 .c-team")
                await page.wait_for_selector("#cp-panel[open] #cp-lap-2")
                boxes = await page.evaluate(PANEL_UNDER_HEADER_JS)
                assert boxes[0] >= boxes[1] - 1 and boxes[2] >= 0, (screen, boxes)
                assert await page.evaluate(FITS_JS), screen
                assert await axe_violations(page) == [], screen
            finally:
                await context.close()


@race_databases(SQLITE_DB)
async def test_pages_before_any_session_and_a_refused_login_pass_axe(db_url: str) -> None:
    token = await prepare_database(db_url, MANY_ENTRIES, LONG_EVENT)
    async with running_server(db_url, token) as srv, chromium() as browser:
        await check_pages(browser, srv.base_url, ["/", "/live", "/live/sessions"])
        for screen, options in SCREENS.items():
            context = await browser.new_context(**options)
            try:
                page = await context.new_page()
                await page.goto(f"{srv.base_url}/login")
                await page.fill("#login-name", "nobody")
                await page.fill("#login-password", "wrong")
                await page.click("form[action='/login'] button[type=submit]")
                await page.wait_for_selector(".error[role=alert]")
                assert await page.evaluate(FITS_JS), screen
                assert await axe_violations(page) == [], screen
            finally:
                await context.close()
