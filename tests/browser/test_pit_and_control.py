"""The pit page on a phone and the control page on a wide screen, in headless Chromium,
against a real server: a marshal's two taps reach race control within a second, a double
tap or a retry after a dropped connection records one change, a refused change says why,
and an alert goes away with one click."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.async_api import Request

from server.engine.events import (
    DriverChangeConfirmed,
    ExternalAlertRaised,
    PitInMarked,
    PitOutMarked,
    Severity,
)
from tests.fixtures.browser import WIDE, chromium, control_page, pit_page
from tests.fixtures.pit_desk import Desk, race_desk

pytestmark = pytest.mark.browser
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


def cell(number: str, column: str) -> str:
    return f"document.querySelector('#car-{number} .{column}').textContent.trim()"


async def changes_of(desk: Desk, number: str) -> list[DriverChangeConfirmed]:
    journal = await desk.journal()
    return [e for e in journal if isinstance(e, DriverChangeConfirmed) and e.number == number]


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_a_marshal_confirms_a_driver_change_and_race_control_sees_it(
    db_url: str, tmp_path: Path
) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        control = await control_page(browser, desk, WIDE)
        pit = await pit_page(browser, desk)
        desk.advance(10)  # Ann drives a little
        await desk.submit(PitInMarked("7", desk.now(), "test"))
        await pit.wait_for_selector(".pit-list .car-pick[data-pick='7']")
        await control.wait_for_function(f"{cell('7', 'c-state')} === 'PIT'")
        assert await control.evaluate(cell("7", "c-driver")) == "Ann Alder"
        stint_before = await control.evaluate(cell("7", "c-stint .stint"))
        assert stint_before == "0:00:10"  # her stint, stopped at the pit-in
        await control.wait_for_function(f"{cell('7', 'c-stint .stint-left')} === '2:59:50'")
        await pit.screenshot(path=str(tmp_path / "pit-375.png"), full_page=True)

        # two taps: the car, then the driver getting in
        await pit.locator(".pit-list .car-pick[data-pick='7']").tap()
        panel = pit.locator(".car-panel[data-car='7']")
        await panel.wait_for(state="visible")
        await pit.screenshot(path=str(tmp_path / "pit-picked-375.png"))
        await panel.locator(".driver", has_text="Bob Birch").tap()
        # race control sees the new driver and his stint clock within a second
        await control.wait_for_function(
            f"{cell('7', 'c-driver')} === 'Bob Birch'"
            f" && {cell('7', 'c-stint .stint')} !== {stint_before!r}",
            timeout=1_000,
        )
        assert await control.evaluate(cell("7", "c-stint .stint")) == "0:00:00"
        # above the time driven, the time left before the 3 h limit
        await control.wait_for_function(f"{cell('7', 'c-stint .stint-left')} === '3:00:00'")
        await pit.wait_for_selector("#pit-result [data-ok='true']")
        assert "Car 7: Bob Birch in" in (await pit.text_content("#pit-result") or "")
        assert await panel.is_hidden()  # confirmed: the panel closed
        assert [c.driver_in for c in await changes_of(desk, "7")] == ["Bob Birch"]
        await control.screenshot(path=str(tmp_path / "control-1600.png"))
        await pit.screenshot(path=str(tmp_path / "pit-done-375.png"))
        if os.environ.get("RACECONTROL_UPDATE_SCREENSHOTS"):
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp_path / "pit-picked-375.png", DOCS_IMAGES / "pit-phone.png")


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_a_double_tap_or_a_retry_records_one_change(db_url: str) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        pit = await pit_page(browser, desk)
        sent: list[str] = []

        def note(request: Request) -> None:
            if request.url.endswith("/pit/driver-change"):
                sent.append(request.post_data or "")

        pit.on("request", note)
        await desk.submit(PitInMarked("9", desk.now(), "test"))
        await pit.locator(".pit-list .car-pick[data-pick='9']").tap()
        button = pit.locator(".car-panel[data-car='9'] .driver", has_text="Ed Eng")
        await button.dblclick()
        await pit.wait_for_selector("#pit-result [data-ok='true']")
        assert len(await changes_of(desk, "9")) == 1
        assert sent and all("idem=" in body for body in sent)

        # the connection drops: the tap is not recorded, and the page says so
        await desk.submit(PitOutMarked("9", desk.now(), "test"))
        await desk.cross("9")
        await desk.submit(PitInMarked("9", desk.now(), "test"))
        await pit.locator(".pit-list .car-pick[data-pick='9']").tap()
        again = pit.locator(".car-panel[data-car='9'] .driver", has_text="Ed Eng")
        await pit.context.set_offline(True)
        await again.tap()
        await pit.wait_for_function(
            "document.querySelector('#pit-result').textContent.includes('NOT sent')"
        )
        await pit.context.set_offline(False)
        await again.tap()  # the retry carries the same key as the lost try
        await pit.wait_for_selector("#pit-result [data-ok='true']")
        assert len(await changes_of(desk, "9")) == 2
        keys = [body.split("idem=")[1].split("&")[0] for body in sent[-2:]]
        assert keys[0] == keys[1]


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_a_refused_change_shows_its_reason(db_url: str) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        pit = await pit_page(browser, desk)
        await desk.submit(PitInMarked("7", desk.now(), "test"))
        await desk.submit(DriverChangeConfirmed("7", "Bob Birch", desk.now(), "test"))
        await desk.submit(PitOutMarked("7", desk.now(), "test"))
        desk.advance(95)  # Bob's first lap
        await desk.cross("7")
        await desk.submit(PitInMarked("7", desk.now(), "test"))
        await pit.locator(".pit-list .car-pick[data-pick='7']").tap()
        panel = pit.locator(".car-panel[data-car='7']")
        ann = panel.locator(".driver", has_text="Ann Alder")
        # the panel follows the pit channel: wait (bounded) for the update of the last stop
        resting = panel.locator(".driver", has_text="resting until")
        await resting.filter(has_text="Ann Alder").wait_for(timeout=10_000)
        assert "resting until" in (await ann.text_content() or "")
        await ann.tap()
        await pit.wait_for_selector("#pit-result [data-ok='false']")
        text = await pit.text_content("#pit-result") or ""
        assert "Refused" in text and "Ann Alder's rest is not over" in text
        assert await panel.is_visible()  # still open: pick another driver
        assert desk.row_driver("7") == "Bob Birch"


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_an_alert_is_acknowledged_by_a_click(db_url: str) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        control = await control_page(browser, desk, WIDE)
        text = "Decoder at the line lost"
        alarm = ExternalAlertRaised("decoder_lost", text, desk.now(), None, Severity.CRITICAL)
        await desk.submit(alarm)
        alert = control.locator("#alerts .alert-list:not(.done) .alert", has_text=text)
        await alert.wait_for()
        await alert.locator("button.ack").click()
        await alert.wait_for(state="detached")
        await control.wait_for_selector(f"#alerts .alert-list.done .alert:has-text('{text}')")
        assert desk.race.engine is not None
        assert all(a.acknowledged for a in desk.race.engine.alerts() if a.kind == "decoder_lost")
