"""Row-level updates in a real browser: after many updates the page equals a fresh one.

A 24-car race runs on a ManualClock; one phone keeps the page open through 8 laps of
crossings (rows change, move, a race-control message and a flag change come in), a
second phone then opens the page fresh (its snapshot). Their standings rows, header and
ticker must be the same, apart from what live.js ticks by itself (clock texts).
"""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Page, WebSocketRoute

from server.engine.events import Flag, FlagChanged, PassingDetected, RaceControlMessagePosted
from tests.fixtures.app_server import prepare_database, running_server, wait_until
from tests.fixtures.browser import SQLITE_DB, chromium, race_databases
from timing_adapters.clock import ManualClock

S = 1_000_000
START_US = 1_781_352_000_000_000
CARS = [str(n) for n in range(1, 25)]
ENTRIES = "number,class,team,drivers,transponder\n" + "".join(
    f"{n},{'A' if int(n) % 3 else 'B'},Team {n},Driver {n},{2000 + int(n)}\n" for n in CARS
)
LIVE_JS = "document.querySelector('#live-badge').dataset.state === 'live'"
# the page as data, without the texts live.js ticks from server times (clocks, stints)
SHOWN_JS = """() => {
  const clean = (el) => {
    if (!el) return null;
    const copy = el.cloneNode(true);
    copy.querySelectorAll('[data-clock], [data-st], [data-since-us]').forEach(x => {
      x.textContent = '';
    });
    copy.querySelectorAll('[data-server-now-us]')
      .forEach(x => x.removeAttribute('data-server-now-us'));
    copy.querySelectorAll('#live-badge').forEach(x => x.remove());
    return copy.outerHTML;
  };
  return {
    rows: Array.from(document.querySelectorAll('#standings > tr')).map(clean),
    header: clean(document.getElementById('session-header')),
    ticker: clean(document.getElementById('ticker')),
    sprint: clean(document.getElementById('sprint')),
  };
}"""


async def laps_shown(page: Page) -> list[str]:
    return list(
        await page.evaluate(
            "Array.from(document.querySelectorAll('#standings > tr'))"
            ".map(r => r.id + ':' + r.querySelector('.c-laps').textContent)"
        )
    )


@race_databases(SQLITE_DB)
async def test_after_many_updates_the_page_equals_a_fresh_snapshot(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Update Cup")
    clock = ManualClock(START_US)
    async with (
        running_server(db_url, token, clock=clock) as srv,
        srv.client() as api,
        chromium() as browser,
    ):
        created = await api.post(
            "/api/v1/sessions",
            json={"event": "Update Cup", "type": "race", "name": "Race", "length_minutes": 120},
        )
        session_id = created.json()["id"]
        await api.post(f"/api/v1/sessions/{session_id}/flag", json={"flag": "green"})
        kept = await browser.new_page()
        await kept.goto(f"{srv.base_url}/live")
        await kept.wait_for_function(LIVE_JS)
        await kept.evaluate("window.__notReloaded = true")
        channel = srv.race.hub.channel("public")
        first_seq = channel.seq
        for lap in range(8):
            order = CARS[lap % 5 :] + CARS[: lap % 5]
            for i, number in enumerate(reversed(order) if lap % 2 else order):
                clock.advance(S if i else 70 * S)
                transponder = str(2000 + int(number))
                before = channel.seq
                await srv.race.submit(PassingDetected(clock.now_us(), transponder, "d"))
                if i % 6 == 0:  # let the publisher send (updates, not one coalesced render)
                    await wait_until(lambda before=before: channel.seq > before, 10)
            if lap == 3:
                message = RaceControlMessagePosted(clock.now_us(), "Debris at turn 2", "7", "rc")
                await srv.race.submit(message)
            if lap == 5:
                await srv.race.submit(FlagChanged(clock.now_us(), Flag.YELLOW))
        want = [f"car-{r.number}:{r.laps}" for r in srv.race.standings()]
        await wait_until(lambda: srv.race.hub.channel("public").seq > first_seq + 40, 30)
        deadline = asyncio.get_running_loop().time() + 30
        while await laps_shown(kept) != want:
            assert asyncio.get_running_loop().time() < deadline, await laps_shown(kept)
            await asyncio.sleep(0.05)
        fresh = await browser.new_page()
        await fresh.goto(f"{srv.base_url}/live")
        await fresh.wait_for_function(LIVE_JS)
        kept_shown, fresh_shown = await kept.evaluate(SHOWN_JS), await fresh.evaluate(SHOWN_JS)
        assert len(kept_shown["rows"]) == len(CARS)
        assert kept_shown == fresh_shown
        assert "Debris at turn 2" in kept_shown["ticker"]
        assert 'data-flag="yellow"' in kept_shown["header"]
        assert await kept.evaluate("window.__notReloaded") is True
        assert channel.resyncs == 0  # every update fitted: no gap, no snapshot asked for


@race_databases(SQLITE_DB)
async def test_a_page_that_missed_an_update_asks_for_a_snapshot_and_catches_up(
    db_url: str,
) -> None:
    token = await prepare_database(db_url, ENTRIES, "Update Cup")
    clock = ManualClock(START_US)
    dropped: list[str] = []
    from_page: list[str] = []

    def lose_one_update(ws: WebSocketRoute) -> None:
        """Between the page and the server: the third update never reaches the page."""
        server = ws.connect_to_server()
        updates = 0

        def to_page(message: str | bytes) -> None:
            nonlocal updates
            text = message if isinstance(message, str) else message.decode()
            if '"hb":1' not in text and '"snap":1' not in text:
                updates += 1
                if updates == 3:
                    dropped.append(text)
                    return
            ws.send(message)

        def to_server(message: str | bytes) -> None:
            from_page.append(message if isinstance(message, str) else message.decode())
            server.send(message)

        server.on_message(to_page)
        ws.on_message(to_server)

    async with (
        running_server(db_url, token, clock=clock) as srv,
        srv.client() as api,
        chromium() as browser,
    ):
        created = await api.post(
            "/api/v1/sessions",
            json={"event": "Update Cup", "type": "race", "name": "Race", "length_minutes": 120},
        )
        await api.post(f"/api/v1/sessions/{created.json()['id']}/flag", json={"flag": "green"})
        page = await browser.new_page()
        await page.route_web_socket(re.compile(r".*/ws/live$"), lose_one_update)
        await page.goto(f"{srv.base_url}/live")
        await page.wait_for_function(LIVE_JS)
        channel = srv.race.hub.channel("public")
        for lap in range(3):
            for i, number in enumerate(CARS[:8]):
                clock.advance(S if i else 70 * S)
                transponder = str(2000 + int(number))
                before = channel.seq
                await srv.race.submit(PassingDetected(clock.now_us(), transponder, "d"))
                # one update per crossing: the next crossing waits for this one's
                await wait_until(lambda before=before: channel.seq > before, 10)
            if lap == 0:
                await wait_until(lambda: bool(dropped), 20)
        want = [f"car-{r.number}:{r.laps}" for r in srv.race.standings()]
        deadline = asyncio.get_running_loop().time() + 30
        while await laps_shown(page) != want:
            assert asyncio.get_running_loop().time() < deadline, await laps_shown(page)
            await asyncio.sleep(0.05)
        assert from_page.count("snapshot") >= 1 and channel.resyncs >= 1
