"""The API docs in headless Chromium at a track without internet: every request to a host
other than the server is refused, and Swagger UI and ReDoc still show the operations."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Route

from tests.fixtures.app_server import prepare_database, running_server
from tests.fixtures.browser import SQLITE_DB, chromium, race_databases

pytestmark = pytest.mark.browser
ENTRIES = "number,class,team,drivers,transponder\n1,A,One,Ann,101\n"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@race_databases(SQLITE_DB)
async def test_the_api_docs_work_offline(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Docs Cup")
    async with (
        running_server(db_url, token) as srv,
        srv.client() as api,
        chromium() as browser,
    ):
        spec = (await api.get("/api/v1/openapi.json")).json()
        operations = sum(
            1
            for methods in spec["paths"].values()
            for method in methods
            if method in {"get", "post", "put", "patch", "delete"}
        )
        assert operations >= 5
        refused: list[str] = []

        async def offline(route: Route) -> None:
            url = route.request.url
            if url.startswith("data:") or urlsplit(url).hostname in LOCAL_HOSTS:
                await route.continue_()
            else:
                refused.append(url)
                await route.abort("internetdisconnected")

        context = await browser.new_context()
        await context.route("**/*", offline)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # what the docs' content security policy kept off the network, as the page saw it
        await page.add_init_script(
            "window.__blocked = [];"
            "document.addEventListener('securitypolicyviolation',"
            " e => window.__blocked.push(e.blockedURI));"
        )

        await page.goto(f"{srv.base_url}/api/v1/docs")
        await page.wait_for_function(
            f"document.querySelectorAll('.opblock').length === {operations}", timeout=20_000
        )
        summary = await page.text_content(".opblock .opblock-summary-path")
        assert summary is not None and summary.startswith("/api/v1/")
        assert await page.evaluate("window.__blocked") == []  # Swagger UI wants nothing off-site

        await page.goto(f"{srv.base_url}/api/v1/redoc")
        # ReDoc gives each operation a section with id operation/<operationId>
        await page.wait_for_function(
            f"document.querySelectorAll('[id^=\"operation/\"]').length === {operations}",
            timeout=20_000,
        )
        # the side menu's logo comes from Redocly's CDN: blocked, and the menu is still there
        await page.wait_for_function("window.__blocked.length > 0", timeout=20_000)
        blocked = await page.evaluate("window.__blocked")
        assert blocked == ["https://cdn.redoc.ly/redoc/logo-mini.svg"]
        await context.close()
        assert refused == []
        assert errors == []
