"""Cross-site writes (issue 10): a cookie-authenticated write needs this site's Origin and
the session's CSRF token; a cross-site websocket handshake is refused; bearer calls are
exempt. Over a real server, as a browser would send them."""

from __future__ import annotations

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from server.engine.events import RaceControlMessagePosted
from server.web.csrf import csrf_token, same_origin
from tests.fixtures.browser import SQLITE_DB, race_databases
from tests.fixtures.pit_desk import browser_client, control_client, race_desk

ATTACKER = "http://127.0.0.1:1"  # another port of the same host: the same "site"


def cookie_header(client: httpx.AsyncClient) -> str:
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


@race_databases(SQLITE_DB)
async def test_a_write_with_the_cookie_needs_our_origin_and_the_token(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        token = control.headers["X-CSRF-Token"]
        form = {"text": "debris at turn 4"}
        cases = {
            "another origin": {"Origin": ATTACKER, "X-CSRF-Token": token},
            "another referer": {"Origin": "", "Referer": f"{ATTACKER}/page"},
            "no origin": {"Origin": ""},
            "origin null": {"Origin": "null", "X-CSRF-Token": token},
            "no token": {"X-CSRF-Token": ""},
            "wrong token": {"X-CSRF-Token": "0" * 64},
        }
        for name, headers in cases.items():
            request = control.build_request("POST", "/control/messages", data=form)
            for key, value in headers.items():
                if value:
                    request.headers[key] = value
                else:
                    del request.headers[key]
            answer = await control.send(request)
            assert answer.status_code == 403, (name, answer.text)
            assert answer.json()["detail"], name
        assert not [e for e in await desk.journal() if isinstance(e, RaceControlMessagePosted)]

        # our pages: the header (htmx), or a form's hidden field, with a Referer alone
        assert (await control.post("/control/messages", data=form)).status_code == 200
        del control.headers["X-CSRF-Token"]
        plain = control.build_request(
            "POST", "/control/messages", data={**form, "csrf_token": token}
        )
        del plain.headers["Origin"]
        plain.headers["Referer"] = f"{desk.srv.base_url}/control"
        assert (await control.send(plain)).status_code == 200
        # the cookie is signed anew on every answer: the page's token stays good
        page = await control.get("/control")
        assert f'<meta name="csrf-token" content="{token}">' in page.text
        posted = [e for e in await desk.journal() if isinstance(e, RaceControlMessagePosted)]
        assert len(posted) == 2


@race_databases(SQLITE_DB)
async def test_an_upload_carries_the_token_in_its_query(db_url: str) -> None:
    """A multipart body is not parsed by the guard: upload forms put the token in their
    action's query (csrf.js); every page with a login carries it, the event page's too."""
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        token = control.headers.pop("X-CSRF-Token")
        page = await control.get("/control/event")
        assert f'<meta name="csrf-token" content="{token}">' in page.text
        assert f'name="csrf_token" value="{token}"' in page.text  # the plain forms' field
        entries = {"file": ("entries.csv", b"number,class,team,drivers,transponder\n")}
        upload = "/control/event/entries/upload"
        refused = await control.post(upload, files=entries, data={"event": "x"})
        assert refused.status_code == 403
        wrong = await control.post(f"{upload}?csrf_token={'0' * 64}", files=entries)
        assert wrong.status_code == 403
        taken = await control.post(f"{upload}?csrf_token={token}", files=entries)
        assert taken.status_code != 403, taken.text


@race_databases(SQLITE_DB)
async def test_logins_need_our_origin_and_bearer_calls_are_exempt(db_url: str) -> None:
    async with race_desk(db_url) as desk, browser_client(desk.srv) as browser:
        login = {"name": "rc", "password": "s3cret-pass"}
        cross = await browser.post("/login", data=login, headers={"Origin": ATTACKER})
        assert cross.status_code == 403 and "session" not in browser.cookies
        del browser.headers["Origin"]
        assert (await browser.post("/login/pin", data={"pin": "2468"})).status_code == 403
        async with desk.srv.client() as api:  # a bearer token: no cookie, no Origin needed
            url = f"/api/v1/sessions/{desk.session_id}/flag"
            answer = await api.post(url, json={"flag": "yellow"}, headers={"Origin": ATTACKER})
            assert answer.status_code == 200


@race_databases(SQLITE_DB)
async def test_a_cross_site_websocket_handshake_is_refused(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        cookie = cookie_header(control)
        for path in ("/ws/control", "/ws/live"):
            with pytest.raises(InvalidStatus) as refused:
                async with websockets.connect(
                    f"{desk.srv.ws_url}{path}",
                    additional_headers={"Cookie": cookie, "Origin": ATTACKER},
                ):
                    pass
            assert refused.value.response.status_code == 403
        async with websockets.connect(
            f"{desk.srv.ws_url}/ws/control",
            additional_headers={"Cookie": cookie, "Origin": desk.srv.base_url},
        ) as ws:
            assert 'id="flag-controls"' in str(await ws.recv())


def test_same_origin_compares_host_and_port() -> None:
    assert same_origin("http://127.0.0.1:8000", "127.0.0.1:8000", "http")
    assert not same_origin("http://127.0.0.1:8001", "127.0.0.1:8000", "http")
    assert not same_origin("http://evil.example", "timing.example", "http")
    assert same_origin("https://timing.example", "timing.example", "http")  # behind TLS
    assert same_origin("https://timing.example/control?x=1", "timing.example:443", "https")
    assert not same_origin("null", "timing.example", "http")
    assert not same_origin("file:///x", "timing.example", "http")
    assert not same_origin("http://timing.example", "", "http")


def test_the_token_binds_the_session_not_the_stamp() -> None:
    payload = "eyJ1c2VyIjogInJjIn0="
    first = csrf_token("key", f"{payload}.aBc.sig1")
    assert first == csrf_token("key", f"{payload}.aBd.sig2")  # signed anew: same session
    assert first != csrf_token("key", "eyJ1c2VyIjogInBpdCJ9.aBc.sig1")  # another session
    assert first != csrf_token("other-key", f"{payload}.aBc.sig1")
    assert csrf_token("key", "") == ""
