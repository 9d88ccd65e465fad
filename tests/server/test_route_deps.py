"""The routes' typed dependencies over a real server: before any session exists, a command
that needs the engine answers 409 (after the role check), pages still open and the pit page
says nothing is being timed; once one is timed, a refusal is the engine's, in its words."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.app_server import prepare_database, running_server
from tests.fixtures.pit_desk import ENTRIES, EVENT, add_accounts, control_client, race_desk

NEEDS_THE_ENGINE = [
    ("post", "/control/flag", {"flag": "green"}),
    ("post", "/control/clock", {"action": "pause"}),
    ("post", "/control/alerts/ack", {"alert_id": "x"}),
    ("post", "/control/messages", {"text": "hello"}),
    ("post", "/control/corrections/add", {"number": "7", "time": "12:00:00", "reason": "r"}),
    ("post", "/control/corrections/delete", {"number": "7", "crossing_at_us": 1, "reason": "r"}),
    ("post", "/control/corrections/assign", {"transponder": "5", "number": "7", "reason": "r"}),
    ("post", "/control/driver-change", {"number": "7", "driver": "Bob Birch"}),
    ("post", "/control/retire", {"number": "7", "reason": "gearbox"}),
    ("get", "/control/cars/7", None),
    ("get", "/control/crossings", None),
]


@pytest.mark.parametrize(("method", "path", "form"), NEEDS_THE_ENGINE)
async def test_no_session_is_a_409_after_the_role_check(
    db_url: str, method: str, path: str, form: dict[str, object] | None
) -> None:
    token = await prepare_database(db_url, ENTRIES, EVENT)
    async with (
        running_server(db_url, token) as srv,
        srv.client() as api,
        httpx.AsyncClient(base_url=srv.base_url) as anonymous,
    ):
        if method == "post":
            answer = await api.post(path, data=form)
            refused = await anonymous.post(path, data=form)
        else:
            answer = await api.get(path)
            refused = await anonymous.get(path)
        assert answer.status_code == 409
        assert answer.json() == {"detail": "no session is being timed"}
        assert refused.status_code == 401  # who asks is checked before what is timed


async def test_pages_open_and_the_pit_says_nothing_is_timed(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, EVENT)
    await add_accounts(db_url)
    async with running_server(db_url, token) as srv, control_client(srv) as control:
        for page in ("/live", "/control", "/pit", "/control/snapshots"):
            assert (await control.get(page)).status_code == 200, page
        assert (await control.get("/api/v1/sessions")).json() == []
        answer = await control.post("/pit/in", data={"number": "7"})
        assert answer.status_code == 200 and 'data-reason="no_session"' in answer.text
        assert "no session is being timed" in answer.text


async def test_race_control_hears_the_engines_refusal_in_its_words(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        first = await control.post("/control/retire", data={"number": "9", "reason": "gearbox"})
        assert 'data-ok="true"' in first.text and "car 9 retired" in first.text
        again = await control.post("/control/retire", data={"number": "9", "reason": "again"})
        assert 'data-ok="false"' in again.text and 'data-reason="already_retired"' in again.text
        assert "car 9 is already retired" in again.text
        mark = await control.post("/pit/in", data={"number": "9"})
        assert 'data-reason="car_retired"' in mark.text and "car 9 is retired" in mark.text
        forced = await control.post(
            "/control/driver-change", data={"number": "9", "driver": "Ed Eng", "override": "1"}
        )
        assert 'data-reason="car_retired"' in forced.text  # not a refusal race control clears
