"""Cross-site requests in headless Chromium (issue 10): a page served from another port of
127.0.0.1 (the same "site", so SameSite lets the login cookie go along) can neither post a
race-control message nor read ``/ws/control`` while race control is logged in, in the
same browser; race control's own page still shows flags and posts messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from server.engine.events import Flag, FlagChanged, RaceControlMessagePosted
from tests.fixtures.app_server import free_port, wait_until
from tests.fixtures.browser import WIDE, chromium, control_page
from tests.fixtures.pit_desk import race_desk

pytestmark = pytest.mark.browser

ATTACK = """<!doctype html><html><body>
<form id="post" method="post" action="{victim}/control/messages">
  <input name="text" value="form from another site"></form>
<script>
window.report = {{fetch: "pending", ws: "pending", data: []}};
fetch("{victim}/control/messages", {{
  method: "POST", mode: "no-cors", credentials: "include",
  body: new URLSearchParams({{text: "fetch from another site"}})
}}).then(function () {{ window.report.fetch = "sent"; }},
         function () {{ window.report.fetch = "failed"; }});
var ws = new WebSocket("{ws}/ws/control");
ws.onmessage = function (e) {{ window.report.data.push(e.data); }};
ws.onopen = function () {{ window.report.ws = "open"; }};
ws.onclose = function (e) {{ window.report.ws = "closed " + e.code; }};
</script></body></html>"""


@asynccontextmanager
async def attacker_site(victim: str) -> AsyncIterator[str]:
    """The attacker's page, served by a server of its own on another loopback port."""
    page = ATTACK.format(victim=victim, ws=victim.replace("http://", "ws://"))

    async def attack(_request: object) -> HTMLResponse:
        return HTMLResponse(page)

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/", attack)]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    task = asyncio.create_task(server.serve())
    await wait_until(lambda: server.started or task.done())
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        await task


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_another_origin_can_neither_post_nor_read_race_control(db_url: str) -> None:
    async with race_desk(db_url) as desk, chromium() as browser:
        control = await control_page(browser, desk, WIDE)  # the victim, logged in
        async with attacker_site(desk.srv.base_url) as evil_url:
            evil = await control.context.new_page()  # same browser: the cookie goes along
            await evil.goto(evil_url)
            await evil.wait_for_function(
                "window.report.fetch !== 'pending' && window.report.ws.startsWith('closed')"
            )
            report = await evil.evaluate("window.report")
            assert report["data"] == []  # not one frame of race control's feed
            assert report["ws"] != "open"
            async with evil.expect_navigation():
                await evil.evaluate("document.getElementById('post').submit()")
            assert "cross-site request refused" in await evil.content()
        posted = [e for e in await desk.journal() if isinstance(e, RaceControlMessagePosted)]
        assert posted == []

        # race control's own page still works: a flag (two taps) and a message
        yellow_button = control.locator("#flag-controls .flag-button[data-flag='yellow']")
        await yellow_button.click()
        await yellow_button.click()

        def yellow() -> bool:
            status = desk.race.status()
            return status is not None and status.flag is Flag.YELLOW

        await wait_until(yellow)
        await control.fill(".messages input[name=text]", "Debris at turn 4")
        await control.click(".messages button[type=submit]")
        await control.wait_for_selector(".messages .result [data-ok='true']")
        journal = await desk.journal()
        assert [e.text for e in journal if isinstance(e, RaceControlMessagePosted)] == [
            "Debris at turn 4"
        ]
        assert any(isinstance(e, FlagChanged) and e.flag is Flag.YELLOW for e in journal)
