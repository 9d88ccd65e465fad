"""The public pages no other browser test checks, in headless Chromium at 375 px and 1440 px:
/login (race control's and the pit marshal's), /live/sessions, a finished practice's
/results (provisional, then official) and the race's /live/sessions/{id}/grid. On each,
axe-core (WCAG 2.2 A/AA, touch targets included) finds no violation and nothing is wider
than the screen."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser

from tests.browser.test_live_table_page import axe_violations
from tests.fixtures.browser import SQLITE_DB, chromium, race_databases
from tests.integration.test_past_sessions import answers, finished_practice
from tests.integration.test_race_weekend import weekend

pytestmark = pytest.mark.browser
SCREENS: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
    "wide": {"viewport": {"width": 1440, "height": 900}},
}
FITS_JS = "document.scrollingElement.scrollWidth <= window.innerWidth"


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
