"""/live lists the event's sessions: a practice that took the checkered flag links its
results (provisional, then official once signed), a qualifying that never ended has no
results yet, the race running now links live timing and its grid; every link answers."""

from __future__ import annotations

import re

import httpx

from tests.fixtures.app_server import wait_until
from tests.fixtures.browser import SQLITE_DB, race_databases
from tests.integration.test_race_weekend import Weekend, weekend

ROW = re.compile(r'<tr data-session="(\d+)" data-results="(\w+)">(.*?)</tr>', re.S)
HREF = re.compile(r'href="([^"]+)"')


async def listed(w: Weekend) -> dict[int, tuple[str, str]]:
    """Each listed session: (results state, the row's HTML), in the page's order."""
    live = await w.public.get("/live")
    assert live.status_code == 200 and 'href="/live/sessions"' in live.text
    page = await w.public.get("/live/sessions")
    assert page.status_code == 200
    return {int(i): (state, html) for i, state, html in ROW.findall(page.text)}


async def answers(client: httpx.AsyncClient, url: str) -> int:
    """The status of ``url`` once a grid's qualifying standings are rebuilt (503 before)."""
    codes: list[int] = []

    async def ready() -> bool:
        codes.append((await client.get(url)).status_code)
        return codes[-1] != 503

    await wait_until(ready)
    return codes[-1]


async def finished_practice(w: Weekend) -> int:
    practice = await w.session("practice", "Practice", 0)
    for number, at in (("7", 10.0), ("8", 12.0), ("7", 110.0), ("8", 113.0)):
        await w.cross(number, at)
    flag = await w.control.post(f"/api/v1/sessions/{practice}/flag", json={"flag": "checkered"})
    assert flag.status_code == 200, flag.text
    await w.cross("7", 210.0)
    await w.cross("8", 214.0)

    async def has_results() -> bool:
        answer = await w.public.get(f"/api/v1/sessions/{practice}/results")
        return answer.status_code == 200

    await wait_until(has_results)
    return practice


@race_databases(SQLITE_DB)
async def test_live_lists_past_sessions_with_working_results_links(db_url: str) -> None:
    async with weekend(db_url) as w:
        practice = await finished_practice(w)
        sessions = await listed(w)
        assert list(sessions) == [practice]
        assert sessions[practice][0] == "provisional"
        assert f'href="/results/{practice}"' in sessions[practice][1]

        qualifying = await w.session("qualifying", "Qualifying", 1000)
        for number, at in (("9", 1010.0), ("7", 1020.0), ("9", 1100.0), ("7", 1111.0)):
            await w.cross(number, at)
        race = await w.session("race", "Race", 2000)
        signed = await w.steward.post(f"/api/v1/sessions/{practice}/official", json={"note": ""})
        assert signed.status_code == 200, signed.text

        sessions = await listed(w)
        assert list(sessions) == [practice, qualifying, race]
        state, html = sessions[practice]
        assert state == "official" and "official · version 1" in html
        state, html = sessions[qualifying]
        assert state == "none" and "no results yet" in html and "href" not in html
        state, html = sessions[race]
        assert "running now" in html
        assert HREF.findall(html) == ["/live", f"/live/sessions/{race}/grid"]
        links = [url for _, html in sessions.values() for url in HREF.findall(html)]
        assert f"/results/{practice}" in links
        for url in links:
            assert await answers(w.public, url) == 200, url
        results = await w.public.get(f"/results/{practice}")
        assert "OFFICIAL" in results.text.upper()
