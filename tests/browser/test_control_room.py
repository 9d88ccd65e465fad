"""The control room at a glance, in headless Chromium against a real server: at 1440 x 900
and 1280 x 800 nothing is wider than its container and the flag bar stays in view with
40 open alerts; a flag change takes a second tap and is undone; a deleted passing is
confirmed, undone, and the lap list follows the car; a missed passing is placed between
two laps; axe-core finds no WCAG 2 A/AA violation on /control, /pit and /stewards."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.async_api import Dialog, Page, ViewportSize

from server.engine.events import (
    CorrectionReverted,
    ExternalAlertRaised,
    Flag,
    FlagReverted,
    IncidentReported,
    PassingAdded,
    PassingDeleted,
    RaceControlMessageEdited,
    RaceControlMessagePosted,
    Severity,
)
from tests.fixtures.browser import (
    OVERFLOWS,
    PHONE,
    axe_violations,
    chromium,
    control_page,
    logged_in,
    pit_page,
)
from tests.fixtures.pit_desk import (
    PIN,
    STEWARD,
    STEWARD_PASSWORD,
    USER,
    Desk,
    add_steward,
    race_desk,
)

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
DOCS_IMAGES = ROOT / "docs" / "images"
SCREENS: dict[str, ViewportSize] = {
    "1440x900": {"width": 1440, "height": 900},
    "1280x800": {"width": 1280, "height": 800},
}


IN_VIEW = """(selector) => {
  const r = document.querySelector(selector).getBoundingClientRect();
  return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0;
}"""


def accept_dialogs(page: Page) -> list[str]:
    """Accept every confirmation the page asks for; the messages, in order."""
    said: list[str] = []

    async def accept(dialog: Dialog) -> None:
        said.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    return said


def flag_of(desk: Desk) -> Flag | None:
    status = desk.race.status()
    return None if status is None else status.flag


def table(desk: Desk) -> list[tuple[object, ...]]:
    """What the standings say of each car's timing (not its state, which time moves)."""
    return [
        (r.position, r.number, r.laps, r.last_lap_us, r.best_lap_us, r.gap_us)
        for r in desk.race.standings()
    ]


def laps_of(desk: Desk, number: str) -> list[int]:
    assert desk.race.engine is not None
    return [lap.at_us for lap in desk.race.engine.laps_of(number)]


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_nothing_overflows_and_the_flags_stay_in_view_with_40_alerts(
    db_url: str, screen: str, tmp_path: Path
) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        for i in range(36):  # laps enough for gaps, intervals and best laps in every column
            desk.advance(95 + (i % 3))
            await desk.cross(("7", "8", "9")[i % 3])
        await desk.submit(
            RaceControlMessagePosted(desk.now(), "Car 9 to the pit lane", "9", "rc", None)
        )
        page = await control_page(browser, desk, SCREENS[screen])
        await page.screenshot(path=str(tmp_path / f"control-{screen}-quiet.png"))
        assert await page.evaluate(OVERFLOWS) == []

        kinds = ("stint_limit", "decoder_silent", "unknown_transponder", "input_rejected")
        for i in range(40):
            severity = Severity.CRITICAL if i % 10 == 0 else Severity.WARNING
            text = f"Check number {i}: {kinds[i % 4].replace('_', ' ')}"
            desk.advance(1)
            await desk.submit(ExternalAlertRaised(kinds[i % 4], text, desk.now(), None, severity))
        await page.wait_for_function("document.querySelector('#alerts').dataset.open >= 40")
        assert await page.evaluate(OVERFLOWS) == []
        assert await page.evaluate(IN_VIEW, "#flag-controls")
        assert await page.evaluate(IN_VIEW, "#status-strip")
        # the bar stays where it is at the bottom of the panels too
        await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        await page.wait_for_function("window.scrollY > 0")
        assert await page.evaluate(IN_VIEW, "#flag-controls")
        assert await page.evaluate(IN_VIEW, ".flag-button[data-flag='red']")
        # the count in the title bar, the state column beside the table, not under a panel
        said = await page.evaluate(
            "(() => { const a = document.querySelector('#alerts').dataset;"
            " return [Number(a.open), Number(a.critical),"
            " document.querySelector('#status-strip').textContent]; })()"
        )
        open_count, critical, strip = said
        assert open_count >= 40 and critical >= 4
        assert f"{open_count} open alerts, {critical} critical" in strip
        await page.wait_for_function(f"document.title.startsWith('({open_count}!) ')")
        await page.evaluate("window.scrollTo(0, 0)")
        state = await page.evaluate(
            "(() => { const c = document.querySelector('#car-7 .c-state').getBoundingClientRect();"
            " const side = document.querySelector('aside.side').getBoundingClientRect();"
            " return c.right <= side.left; })()"
        )
        assert state
        await page.screenshot(path=str(tmp_path / f"control-{screen}.png"))

        # one group per kind: acknowledge all ten of one kind at once
        group = page.locator(".alert-group[data-kind='decoder_silent']")
        assert await group.locator(".group-count").text_content() == "10"
        await group.locator("button.ack-all").click()
        await page.wait_for_function(
            f"document.querySelector('#alerts').dataset.open <= {open_count - 10}"
        )
        assert await page.locator(".alert-group[data-kind='decoder_silent']").count() == 0
        if os.environ.get("RACECONTROL_UPDATE_SCREENSHOTS") and screen == "1440x900":
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp_path / f"control-{screen}.png", DOCS_IMAGES / "control-wide.png")


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_a_flag_takes_a_second_tap_and_an_undo_restores_the_one_before(
    db_url: str,
) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        desk.advance(60)  # the green is a minute old
        page = await control_page(browser, desk, SCREENS["1440x900"])
        red = page.locator(".flag-button[data-flag='red']")
        await red.click()
        assert await red.text_content() == "Tap again: Red"
        assert flag_of(desk) is Flag.GREEN  # one tap shows nothing
        await red.click()
        await page.wait_for_selector("#session-header[data-flag='red']")
        assert flag_of(desk) is Flag.RED

        desk.advance(6)  # within the 10 s
        undo = page.locator("#undo-flag")
        assert await undo.text_content() == "Undo red"
        await undo.click()
        await page.wait_for_selector("#session-header[data-flag='green']")
        assert flag_of(desk) is Flag.GREEN
        await page.wait_for_selector("#flag-message [data-ok='true']")
        journal = await desk.journal()
        assert [type(e) for e in journal[-1:]] == [FlagReverted]
        # the green it went back to was shown long ago: nothing more to undo
        await page.wait_for_selector("#undo-flag", state="detached")


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_a_deleted_passing_is_confirmed_undone_and_the_list_follows_the_car(
    db_url: str,
) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        for seconds in (95, 30, 65, 95):  # car 7 reads twice in one lap: a 30 s "lap"
            desk.advance(seconds)
            await desk.cross("7")
        desk.advance(95)
        await desk.cross("9")
        before = laps_of(desk, "7")
        standings = table(desk)
        false = before[1]
        page = await control_page(browser, desk, SCREENS["1280x800"])
        confirms = accept_dialogs(page)

        box = page.locator("details", has_text="Delete a false passing")
        await box.locator("summary").click()
        form = box.locator("form")
        await form.locator("select[name=number]").select_option("7")
        crossing = form.locator("select[name=crossing_at_us]")
        await page.wait_for_function(
            "document.querySelectorAll('select[name=crossing_at_us] option').length === 4"
        )
        await crossing.select_option(str(false))
        await form.locator("input[name=reason]").fill("double read")
        await form.locator("button[type=submit]").click()
        await form.locator(".result [data-ok='true']").wait_for()
        assert confirms and "Delete this passing" in confirms[0]
        assert laps_of(desk, "7") == [at for at in before if at != false]
        # the list is car 7's again, without the deleted crossing
        assert await form.locator("select[name=number]").input_value() == "7"
        await page.wait_for_function(
            "document.querySelectorAll('select[name=crossing_at_us] option').length === 3"
        )
        values = await crossing.evaluate("s => [...s.options].map(o => o.value)")
        assert str(false) not in values

        undo = page.locator("#corrections-log button.undo")
        await undo.click()
        await page.wait_for_selector("#correction-message [data-ok='true']")
        assert laps_of(desk, "7") == before
        assert table(desk) == standings
        journal = await desk.journal()
        assert [type(e) for e in journal[-2:]] == [PassingDeleted, CorrectionReverted]
        await page.wait_for_selector("#corrections-log li", state="detached")


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_a_missed_passing_is_placed_between_two_laps(db_url: str) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        for seconds in (95, 190, 95):  # the loop missed car 8 once: a 190 s "lap"
            desk.advance(seconds)
            await desk.cross("8")
        before = laps_of(desk, "8")
        page = await control_page(browser, desk, SCREENS["1440x900"])
        accept_dialogs(page)
        box = page.locator("details", has_text="Add a missed passing")
        await box.locator("summary").click()
        form = box.locator("form")
        await form.locator("select[name=number]").select_option("8")
        gap = form.locator("select[name=at_us]")
        await page.wait_for_function(
            "document.querySelectorAll('select[name=at_us] option').length === 3"
        )
        labels = await gap.evaluate("s => [...s.options].map(o => o.textContent)")
        assert labels[1].startswith("between lap 1") and "3:10" in labels[1]
        await gap.select_option(index=1)
        await form.locator("input[name=reason]").fill("seen on video")
        await form.locator("button[type=submit]").click()
        await form.locator(".result [data-ok='true']").wait_for()
        middle = before[0] + (before[1] - before[0]) // 2
        assert laps_of(desk, "8") == [before[0], middle, before[1], before[2]]
        journal = await desk.journal()
        assert journal[-1] == PassingAdded("8", middle, "seen on video", USER)


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_axe_finds_no_wcag_aa_violation_on_control_and_pit(
    db_url: str, tmp_path: Path
) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        for i in range(12):
            desk.advance(95)
            await desk.cross(("7", "8", "9")[i % 3])
        await desk.submit(ExternalAlertRaised("decoder_silent", "Loop silent", desk.now(), None))
        await desk.submit(RaceControlMessagePosted(desk.now(), "Car 9 stop", "9", "rc", None))
        control = await control_page(browser, desk, SCREENS["1440x900"])
        assert await axe_violations(control) == []

        pit = await pit_page(browser, desk)
        assert await axe_violations(pit) == []
        # a failure said on the pit page (no connection) is readable too
        await pit.locator(".car-chip[data-pick='9']").tap()
        await pit.context.set_offline(True)
        await pit.locator(".car-panel[data-car='9'] .driver", has_text="Ed Eng").tap()
        await pit.wait_for_function(
            "document.querySelector('#pit-result').textContent.includes('NOT sent')"
        )
        await pit.context.set_offline(False)
        assert await axe_violations(pit) == []
        await pit.screenshot(path=str(tmp_path / "pit-failure.png"))


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_axe_finds_no_wcag_aa_violation_on_stewards(db_url: str) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        await add_steward(db_url)
        await desk.submit(
            IncidentReported(
                desk.now(), "00:01:40", "Turn 3", ("7", "8"), "7 pushed 8 wide", True, "rc"
            )
        )
        stewards = await logged_in(
            browser, desk, "/stewards", STEWARD, STEWARD_PASSWORD, SCREENS["1440x900"]
        )
        await stewards.wait_for_selector("#incident-queue .incident[data-incident]")
        assert await axe_violations(stewards) == []


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_a_marshal_whose_login_is_gone_is_sent_to_the_pin_page(db_url: str) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        pit = await pit_page(browser, desk)
        await pit.wait_for_function(
            "document.querySelector('#live-badge').dataset.state === 'live'"
        )
        await pit.context.clear_cookies()  # the session is gone (expired, or signed out)
        await pit.locator(".car-chip[data-pick='9']").tap()
        await pit.locator(".car-panel[data-car='9'] .mark[data-mark='in']").tap()
        await pit.wait_for_url("**/login?next=%2Fpit")
        await pit.wait_for_selector("#login-pin")
        # the PIN brings the marshal back to the pit page
        await pit.fill("#login-pin", PIN)
        await pit.click("form[action='/login/pin'] button[type=submit]")
        await pit.wait_for_selector("#pit-lane")


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_race_control_edits_a_message_and_the_live_page_follows(db_url: str) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        posted = desk.now()
        await desk.submit(RaceControlMessagePosted(posted, "Car 9 stop", "9", "rc", None))
        control = await control_page(browser, desk, SCREENS["1440x900"])
        live = await (await browser.new_context(viewport=PHONE)).new_page()
        await live.goto(f"{desk.srv.base_url}/live")
        await live.locator("#ticker .msg-text", has_text="Car 9 stop").wait_for()
        await live.wait_for_function(
            "document.querySelector('#live-badge').dataset.state === 'live'"
        )

        desk.advance(60)
        item = control.locator("#ticker li", has_text="Car 9 stop")
        await item.locator("button.edit-message").click()
        form = control.locator("#message-editor form[hx-post='/control/messages/edit']")
        assert await form.locator("input[name=text]").input_value() == "Car 9 stop"
        await form.locator("input[name=text]").fill("Car 9 stop now: drive-through")
        await form.locator("select[name=expires_min]").select_option("30")
        await form.locator("button[type=submit]").click()

        # the public page changes without a reload, and so does the control room's ticker
        await live.locator("#ticker .msg-text", has_text="drive-through").wait_for()
        assert await live.locator("#ticker .msg-text").all_inner_texts() == [
            "Car 9 stop now: drive-through"
        ]
        edited = control.locator("#ticker li", has_text="drive-through")
        await edited.wait_for()
        assert "until" in await edited.inner_text()
        journal = await desk.journal()
        assert journal[-1] == RaceControlMessageEdited(
            posted, desk.now(), "Car 9 stop now: drive-through", USER, desk.now() + 1_800_000_000
        )
