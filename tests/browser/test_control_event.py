"""``/control/event`` in headless Chromium against a real server: race control creates a
session and enters a car without the CLI; the car entered during the running race is
journaled as an ``EntryChanged``; a length the rule set refuses says why."""

from __future__ import annotations

import pytest

from server.db import repository
from server.db.connection import create_engine, sessionmaker
from server.engine.events import EntryChanged
from tests.fixtures.app_server import wait_until
from tests.fixtures.browser import chromium
from tests.fixtures.pit_desk import EVENT, PASSWORD, USER, race_desk

pytestmark = pytest.mark.browser


async def test_race_control_creates_a_session_and_enters_a_car(db_url: str) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        await page.goto(f"{desk.srv.base_url}/login?next=/control/event")
        await page.fill("#login-name", USER)
        await page.fill("#login-password", PASSWORD)
        await page.click("form[action='/login'] button[type=submit]")
        await page.wait_for_selector("#new-session")
        assert await page.input_value("#session-event") == EVENT

        # a 5 minute race is refused by the IMG rules, with the reason
        await page.select_option("#session-type", "race")
        await page.fill("#session-name", "Sprint")
        await page.fill("#session-length", "5")
        await page.click("#new-session button[type=submit]")
        error = await page.text_content("#event-error")
        assert error is not None and "lasts 60 to 240 minutes, not 5" in error

        await page.select_option("#session-type", "qualifying")
        await page.fill("#session-name", "Qualifying 1")
        await page.fill("#session-start", "2026-06-13T09:30")
        await page.fill("#session-length", "10")
        await page.click("#new-session button[type=submit]")
        await page.wait_for_selector("#event-message")
        row = page.locator("#sessions tr[data-type=qualifying]")
        assert "Qualifying 1" in await row.inner_text()
        assert "2026-06-13 09:30" in await row.inner_text()

        await page.fill("#entry-number", "12")
        await page.fill("#entry-class", "B")
        await page.fill("#entry-team", "Twelve Racing")
        await page.fill("#entry-drivers", "Fay Fox;Gus Gray")
        await page.fill("#entry-transponder", "112")
        await page.click("#edit-entry button[type=submit]")
        await page.wait_for_selector("#entries tr#entry-12")
        assert "Fay Fox; Gus Gray" in await page.inner_text("#entries tr#entry-12")

        # the race being timed got the car as a journaled entry change
        journal = await desk.journal()
        added = [e for e in journal if isinstance(e, EntryChanged) and e.entry.number == "12"]
        assert [(e.entry.class_name, e.entry.transponders) for e in added] == [("B", ("112",))]
        # journaled by the page's hook, unless the entry watch (every 2 s) saw it first
        assert added[0].actor in (USER, "import")
        await wait_until(lambda: any(r.number == "12" for r in desk.race.standings()))

    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            sessions = await repository.list_sessions(db)
    finally:
        await engine.dispose()
    assert [(s.type, s.length_minutes) for s in sessions] == [("race", 120), ("qualifying", 10)]
