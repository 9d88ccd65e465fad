"""The championship set up from ``/control/event`` in headless Chromium (docs/season.md):
race control creates a series, sets its class bands and equivalency table, counts the
event in it and enters a steward's On the Move; once the race's results are signed
official, the public standings page on a phone shows the points, with a class picker
and each driver's own page, and axe-core finds no WCAG 2 A/AA violation on it.

Hand-worked (IMG scheme): class A, #7 first of 2 finishers 2 + winner 1 = 3 (Ann Alder,
Bob Birch), #8 second 1 + On the Move 1 = 2 (Cy Cole); class B, #9 alone 1 + 1 = 2.
No car has five laps: no Fast Five.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from playwright.async_api import Page

from tests.fixtures.app_server import wait_until
from tests.fixtures.browser import axe_violations, chromium
from tests.fixtures.pit_desk import PASSWORD, USER, Desk, race_desk

pytestmark = pytest.mark.browser
SERIES = "Desk Series"
LAP_S = 2400


async def _submit(page: Page, form: str) -> str:
    async with page.expect_navigation():
        await page.click(f"#{form} button[type=submit]")
    message = await page.wait_for_selector("#event-message, #event-error")
    assert message is not None
    return await message.inner_text()


async def _rows(page: Page) -> list[list[str]]:
    rows: list[list[str]] = await page.evaluate(
        """() => [...document.querySelectorAll('table.standings tbody tr')].map(
             tr => [...tr.cells].map(td => td.textContent.trim()))"""
    )
    return rows


async def _finish_and_sign(desk: Desk, api: httpx.AsyncClient) -> None:
    for _ in range(3):  # three 40-minute laps: 2:00:00 has passed when #7 crosses
        desk.advance(LAP_S)
        for number in ("7", "8", "9"):
            await desk.cross(number)
            desk.advance(1)
    results = f"/api/v1/sessions/{desk.session_id}/results"

    async def classified() -> bool:
        return (await api.get(results)).status_code == 200

    await wait_until(classified)
    signed = await api.post(f"/api/v1/sessions/{desk.session_id}/official", json={"note": "ok"})
    assert signed.status_code == 200, signed.text


async def test_race_control_sets_up_a_series_and_the_public_sees_its_standings(
    db_url: str,
) -> None:
    async with race_desk(db_url) as desk, chromium() as browser, desk.srv.client() as api:
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        await page.goto(f"{desk.srv.base_url}/login?next=/control/event")
        await page.fill("#login-name", USER)
        await page.fill("#login-password", PASSWORD)
        await page.click("form[action='/login'] button[type=submit]")
        await page.wait_for_selector("#series-create")

        # a points table that is not decreasing is refused, with the reason
        await page.fill("#series-name", SERIES)
        await page.fill("#series-table", "20, 25")
        said = await _submit(page, "series-create")
        assert "the points table is not decreasing" in said
        await page.fill("#series-name", SERIES)
        await page.select_option("#series-preset", "img")
        assert "created with the img points scheme" in await _submit(page, "series-create")
        assert "last finisher 1, each place higher 1 more" in await page.inner_text(
            "#series-scheme"
        )

        # overlapping class bands are refused; then A and B
        for i, (name, low, high) in enumerate((("A", "0", "60"), ("B", "50", "100"))):
            await page.fill(f"#band-name-{i}", name)
            await page.fill(f"#band-low-{i}", low)
            await page.fill(f"#band-high-{i}", high)
        assert "overlap" in await _submit(page, "series-classes")
        await page.fill("#band-name-0", "A")
        await page.fill("#band-low-0", "0")
        await page.fill("#band-high-0", "50")
        await page.fill("#band-name-1", "B")
        await page.fill("#band-low-1", "50")
        await page.fill("#band-high-1", "100")
        assert "2 classes (A 0-50, B 50-100)" in await _submit(page, "series-classes")

        await page.fill("#eq-body-0", "NASA")
        await page.fill("#eq-theirs-0", "E1")
        await page.fill("#eq-ours-0", "C")
        assert "which is not one of the series' classes" in await _submit(
            page, "series-equivalency"
        )
        await page.fill("#eq-body-0", "NASA")
        await page.fill("#eq-theirs-0", "E1")
        await page.fill("#eq-ours-0", "A")
        assert "1 equivalent classes" in await _submit(page, "series-equivalency")

        assert "is round 1 of" in await _submit(page, "series-add-event")
        assert SERIES in await page.inner_text("#event-in-series")

        await page.fill("#award-class", "A")
        await page.fill("#award-car", "9")
        assert "car 9 runs in class B, not A" in await _submit(page, "series-award")
        await page.fill("#award-class", "A")
        await page.fill("#award-car", "8")
        assert "On the Move in class A: car 8" in await _submit(page, "series-award")

        await _finish_and_sign(desk, api)

        # the public page, on a phone
        phone = await browser.new_page(viewport={"width": 375, "height": 812})
        await phone.goto(f"{desk.srv.base_url}/series/{quote(SERIES)}")
        assert await _rows(phone) == [
            ["1", "Ann Alder", "3", "1"],
            ["2", "Bob Birch", "3", "1"],
            ["3", "Cy Cole", "2", "0"],
        ]
        assert "5 fastest valid laps have the smallest spread" in await phone.inner_text(".legend")
        assert await axe_violations(phone) == []
        await phone.click(".class-filter a:has-text('Class B')")
        await phone.wait_for_url("**class=B**")
        # the car's two drivers tie on everything: listed by name
        assert await _rows(phone) == [["1", "Di Dunn", "2", "1"], ["2", "Ed Eng", "2", "1"]]
        await phone.click("table.standings a:has-text('Di Dunn')")
        await phone.wait_for_selector("h1:has-text('Di Dunn')")
        own = await phone.inner_text("table.standings tbody")
        assert "2 Hours" in own and "winner" in own
        assert await axe_violations(phone) == []
        # no sideways scrolling on the phone
        assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
