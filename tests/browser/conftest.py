"""Browser tests run on the session's event loop and share one Chromium
(``tests.fixtures.browser.chromium`` hands it out, each test's contexts closed after it)."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser

from tests.fixtures.browser import shared_chromium


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = __file__.rsplit("/", 1)[0]
    for item in items:
        test = getattr(item, "obj", None)
        if str(item.path).startswith(here) and inspect.iscoroutinefunction(test):
            # first, so it is the closest asyncio mark (asyncio_mode=auto adds one unscoped)
            item.add_marker(pytest.mark.asyncio(loop_scope="session"), append=False)


@pytest_asyncio.fixture(scope="session", loop_scope="session", autouse=True)
async def _one_chromium() -> AsyncIterator[Browser]:
    async for browser in shared_chromium():
        yield browser
