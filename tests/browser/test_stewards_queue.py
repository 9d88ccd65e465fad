"""The stewards' queue in headless Chromium against a real server: race control reports
a contact from the control page, the incident reaches the chief steward's queue live, the
steward decides a 30 s time penalty, and the decision shows in the classification, the
penalties list and the ticker."""

from __future__ import annotations

import pytest

from server.db import repository
from server.db.connection import create_engine, sessionmaker
from server.engine.events import IncidentDecided, IncidentReported
from tests.fixtures.browser import chromium, logged_in
from tests.fixtures.pit_desk import PASSWORD, USER, race_desk

pytestmark = pytest.mark.browser
WIDE = {"width": 1600, "height": 1000}
STEWARD, STEWARD_PASSWORD = "chief", "steward-pass"


async def add_steward(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            await repository.add_user(db, STEWARD, STEWARD_PASSWORD, "steward")
    finally:
        await engine.dispose()


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_the_chief_steward_decides_an_incident_from_the_queue(db_url: str) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        await add_steward(db_url)
        desk.advance(97)
        for _ in range(2):  # two laps: 7 leads 8 by 1 s, 9 by 2 s
            for number in ("7", "8", "9"):
                await desk.cross(number)
                desk.advance(1)
            desk.advance(97)
        assert [r.number for r in desk.race.standings()] == ["7", "8", "9"]

        control = await logged_in(browser, desk, "/control", USER, PASSWORD)
        stewards = await logged_in(browser, desk, "/stewards", STEWARD, STEWARD_PASSWORD)
        await stewards.wait_for_selector("#incident-queue")
        assert await stewards.locator("#incident-queue .incident[data-incident]").count() == 0

        form = control.locator("form[hx-post='/control/incidents']")
        await form.locator("input[name=at]").fill("00:03:20")
        await form.locator("input[name=place]").fill("Turn 3")
        await form.locator("input[name=cars]").fill("7, 8")
        await form.locator("input[name=description]").fill("7 pushed 8 wide at the exit")
        await form.locator("input[name=contact]").check()
        await form.locator("button[type=submit]").click()
        await form.locator(".result", has_text="reported to the stewards").wait_for()

        # live in the steward's queue, without a reload
        incident = stewards.locator("#incident-queue .incident[data-incident][data-contact]")
        await incident.wait_for()
        assert "7, 8" in await incident.locator(".incident-cars").inner_text()
        incident_id = await incident.get_attribute("data-incident")

        decision = incident.locator("form.decision-form")
        await decision.locator("select[name=decision]").select_option("time_penalty")
        await decision.locator("input[name=value]").fill("30")
        await decision.locator("input[name=cars]").fill("7")
        await decision.locator("input[name=reason]").fill("avoidable contact")
        await decision.locator("button[type=submit]").click()

        decided = stewards.locator(
            f"#incident-queue .decided .incident[data-incident='{incident_id}']"
        )
        await decided.wait_for()
        assert await decided.locator(".decision-text").inner_text() == "30 s time penalty"
        await stewards.locator("#penalties li[data-decision='time_penalty']").wait_for()
        await stewards.locator("#ticker", has_text="Stewards: car 7 30 s time penalty").wait_for()
        # race control's classification has car 7 third now
        await control.wait_for_function(
            "[...document.querySelectorAll('#standings tr')].map(r => r.id)[2] === 'car-7'"
        )

        journal = await desk.journal()
        (reported,) = [e for e in journal if isinstance(e, IncidentReported)]
        assert reported.cars == ("7", "8") and reported.contact and reported.actor == USER
        (decided_event,) = [e for e in journal if isinstance(e, IncidentDecided)]
        assert decided_event.actor == STEWARD and decided_event.value == 30
        assert decided_event.cars == ("7",)
        assert [r.number for r in desk.race.standings()] == ["8", "9", "7"]


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_race_control_sees_the_queue_but_may_not_decide(db_url: str) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        await desk.submit(
            IncidentReported(desk.now(), "00:00:10", "T1", ("9",), "off at T1", False, "rc")
        )
        page = await logged_in(browser, desk, "/stewards", USER, PASSWORD)
        await page.wait_for_selector("#incident-queue .incident[data-incident]")
        assert await page.locator("form.decision-form").first.is_hidden()
        assert await page.locator(".view-only-note").is_visible()
