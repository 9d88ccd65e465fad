"""/live in headless Chromium: positions change over the websocket, without a reload."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from tests.fixtures.app_server import prepare_database, running_server, wait_until
from tests.fixtures.browser import chromium
from timing_adapters.clock import ScaledClock
from timing_adapters.emulator.scenario import generate_race
from timing_adapters.emulator.server import P3Emulator

pytestmark = pytest.mark.browser
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_live_page_follows_the_race(db_url: str, tmp_path: Path) -> None:
    scenario = generate_race(seed=3, cars=32, length_s=30 * 60)
    token = await prepare_database(db_url, scenario.entries_csv(), "Browser Cup")
    clock = ScaledClock(40.0)
    emulator = P3Emulator(clock=clock, status_interval_s=0.2)
    port = await emulator.start()
    try:
        async with (
            running_server(db_url, token, decoders=[f"tcp://127.0.0.1:{port}"], clock=clock) as srv,
            srv.client() as api,
            chromium() as browser,
        ):
            created = await api.post(
                "/api/v1/sessions",
                json={
                    "event": "Browser Cup",
                    "type": "race",
                    "name": "Race 1",
                    "length_minutes": 30,
                },
            )
            session_id = created.json()["id"]
            page = await browser.new_page(viewport={"width": 375, "height": 812})
            await page.goto(f"{srv.base_url}/live")
            await page.wait_for_selector("#standings tr")
            await page.evaluate("window.__notReloaded = true")
            await page.wait_for_function(
                "document.querySelector('#live-badge').textContent.toLowerCase().includes('live')"
            )

            await api.post(f"/api/v1/sessions/{session_id}/flag", json={"flag": "green"})
            await emulator.wait_for_clients(1)
            playing = asyncio.create_task(emulator.play(scenario.passings))
            try:
                # once every car has completed a lap, note the order, then wait for a change
                await wait_until(lambda: all(r.laps >= 1 for r in srv.race.standings()), 60)
                order_js = "Array.from(document.querySelectorAll('#standings tr')).map(r => r.id)"
                await page.wait_for_function(f"{order_js}.length === {len(scenario.cars)}")
                first = await page.evaluate(order_js)
                await page.wait_for_function(
                    f"JSON.stringify({order_js}) !== JSON.stringify({first!r})", timeout=30_000
                )
                assert await page.evaluate("window.__notReloaded") is True
                badge = (await page.text_content("#live-badge")) or ""
                assert "live" in badge.lower()
                shot = tmp_path / "live-375.png"
                await page.screenshot(path=str(shot), full_page=True)
                wide = await browser.new_page(viewport={"width": 1600, "height": 900})
                await wide.goto(f"{srv.base_url}/live")
                await wide.wait_for_selector("#standings tr")
                await wide.screenshot(path=str(tmp_path / "live-1600.png"))
                if os.environ.get("RACECONTROL_UPDATE_SCREENSHOTS"):
                    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
                    shutil.copy(shot, DOCS_IMAGES / "live-phone.png")
                    shutil.copy(tmp_path / "live-1600.png", DOCS_IMAGES / "live-wide.png")
            finally:
                playing.cancel()
    finally:
        await emulator.stop()
