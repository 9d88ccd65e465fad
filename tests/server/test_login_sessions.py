"""Logins that can be ended (issue 10), over a real server: the cookie names a row, so a
logout, a PIN change or a user's removal ends every copy of it at once; tokens expire
and are revoked; cookies are Secure over HTTPS; a database outage keeps confirmed logins."""

from __future__ import annotations

import asyncio
import json
from base64 import b64encode
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import websockets
from itsdangerous import TimestampSigner

from server.cli import commands
from server.db import repository
from server.db.connection import create_engine, sessionmaker
from server.web.csrf import csrf_token
from tests.fixtures.app_server import RunningServer, prepare_database, running_server
from tests.fixtures.databases import set_postgres_connections
from tests.fixtures.pit_desk import (
    ENTRIES,
    EVENT,
    PASSWORD,
    START_US,
    USER,
    add_accounts,
    control_client,
    pin_client,
    race_desk,
)

START = datetime.fromtimestamp(START_US / 1_000_000, UTC)


def cookie_of(client: httpx.AsyncClient) -> str:
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def copy_of(srv: RunningServer, client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Another browser holding a copy of ``client``'s cookie (and of its page's CSRF token,
    which a thief holding the cookie can read from the page too)."""
    headers = {"Cookie": cookie_of(client), "Origin": srv.base_url}
    headers["X-CSRF-Token"] = client.headers.get("X-CSRF-Token", "")
    return httpx.AsyncClient(base_url=srv.base_url, headers=headers)


async def ws_closed_code(srv: RunningServer, path: str, cookie: str) -> int | None:
    """The close code when the websocket is refused, None when it streams."""
    async with websockets.connect(
        f"{srv.ws_url}{path}", additional_headers={"Cookie": cookie}
    ) as ws:
        try:
            await ws.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else -1
    return None


async def closed_at_next_message(ws: websockets.ClientConnection) -> int:
    """Read until the server closes the socket (heartbeats come every 0.5 s); its code."""
    async with asyncio.timeout(30):
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else -1


async def test_a_copied_cookie_stops_working_after_logout(db_url: str) -> None:
    """The issue's measurement: a copy of the cookie still changed a flag after logout."""
    async with race_desk(db_url) as desk, control_client(desk.srv) as browser:
        srv = desk.srv
        async with copy_of(srv, browser) as thief:
            before = await thief.post("/control/messages", data={"text": "still mine"})
            assert before.status_code == 200, before.text
            assert await ws_closed_code(srv, "/ws/control", cookie_of(browser)) is None
            stolen = cookie_of(browser)
            async with websockets.connect(
                f"{srv.ws_url}/ws/control", additional_headers={"Cookie": stolen}
            ) as open_ws:
                assert 'id="flag-controls"' in str(await open_ws.recv())
                assert (await browser.post("/logout")).status_code == 303
                assert await closed_at_next_message(open_ws) == 1008  # the open one too
            after = await thief.post("/control/flag", data={"flag": "red"})
            assert after.status_code == 401
            assert (await thief.get("/control")).status_code == 303
            assert await ws_closed_code(srv, "/ws/control", stolen) == 1008
        # a cookie forged with another key, and one signed with the right key but naming
        # no login row (as every cookie did before sessions had rows), are nobody
        rowless = TimestampSigner("test-secret").sign(
            b64encode(json.dumps({"user": USER, "role": "control"}).encode())
        )
        # (the forged one cannot even send its CSRF token: 403 before any role check)
        for value, refusal in (("forged.value.here", 403), (rowless.decode(), 401)):
            headers = {"Cookie": f"session={value}", "Origin": srv.base_url}
            headers["X-CSRF-Token"] = csrf_token("test-secret", value)  # who holds the key
            if refusal == 403:
                headers["X-CSRF-Token"] = csrf_token("not-the-key", value)
            async with httpx.AsyncClient(base_url=srv.base_url, headers=headers) as forger:
                assert (await forger.get("/control")).status_code == 303
                refused = await forger.post("/control/flag", data={"flag": "red"})
                assert refused.status_code == refusal


async def test_a_pin_session_ends_when_the_pin_changes(db_url: str) -> None:
    async with race_desk(db_url) as desk, pin_client(desk.srv) as marshal:
        assert (await marshal.get("/pit")).status_code == 200
        cookie = cookie_of(marshal)
        async with websockets.connect(
            f"{desk.srv.ws_url}/ws/pit", additional_headers={"Cookie": cookie}
        ) as open_ws:
            assert 'id="pit-panels"' in str(await open_ws.recv())
            await commands.set_pit_pin(db_url, EVENT, "135790")  # as `racecontrol pin set`
            desk.advance(30)  # open websockets ask the database again every 30 s
            assert await closed_at_next_message(open_ws) == 1008
        page = await marshal.get("/pit")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/pit"
        assert (await marshal.post("/pit/in", data={"number": "7"})).status_code == 401
        assert await ws_closed_code(desk.srv, "/ws/pit", cookie) == 1008
        async with pin_client(desk.srv, "135790") as again:  # the new PIN logs in
            assert (await again.get("/pit")).status_code == 200


async def test_removing_a_user_ends_its_logins(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as browser:
        assert (await browser.get("/control")).status_code == 200
        assert await commands.remove_user(db_url, USER) == 1  # as `racecontrol user remove`
        assert (await browser.get("/control")).status_code == 303
        gone = await browser.post("/login", data={"name": USER, "password": PASSWORD})
        assert gone.status_code == 401


async def test_tokens_expire_and_are_revoked_at_once(db_url: str) -> None:
    async with race_desk(db_url) as desk:
        engine = create_engine(db_url)
        try:
            async with sessionmaker(engine)() as db:  # the server's clock says START
                expired = await repository.create_token(
                    db, "control", "old", START - timedelta(seconds=1)
                )
                current = await repository.create_token(
                    db, "control", "shift", START + timedelta(hours=8)
                )
        finally:
            await engine.dispose()
        flag_url = f"/api/v1/sessions/{desk.session_id}/flag"

        def bearer(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}

        async with httpx.AsyncClient(base_url=desk.srv.base_url) as api:
            old = await api.post(flag_url, json={"flag": "yellow"}, headers=bearer(expired))
            assert old.status_code == 401
            ok = await api.post(flag_url, json={"flag": "yellow"}, headers=bearer(current))
            assert ok.status_code == 200, ok.text
            desk.advance(8 * 3600)  # the shift is over
            late = await api.post(flag_url, json={"flag": "green"}, headers=bearer(current))
            assert late.status_code == 401
            # revoked by label, as `racecontrol token revoke tests`: refused at once
            ok = await api.post(flag_url, json={"flag": "green"}, headers=bearer(desk.srv.token))
            assert ok.status_code == 200
            assert await commands.revoke_token(db_url, "tests") == 1
            revoked = await api.post(
                flag_url, json={"flag": "yellow"}, headers=bearer(desk.srv.token)
            )
            assert revoked.status_code == 401


async def test_cookies_are_secure_over_https_only(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, EVENT)
    await add_accounts(db_url)

    async def set_cookie(headers: dict[str, str], **settings: Any) -> str:
        """The login's Set-Cookie, lower case, from a server with ``settings``."""
        async with (
            running_server(db_url, token, **settings) as srv,
            httpx.AsyncClient(base_url=srv.base_url, headers={"Origin": srv.base_url}) as client,
        ):
            answer = await client.post(
                "/login", data={"name": USER, "password": PASSWORD}, headers=headers
            )
            assert answer.status_code == 303, answer.text
            return answer.headers["set-cookie"].lower()

    https = {"X-Forwarded-Proto": "https"}
    proxy = {"forwarded_allow_ips": ["127.0.0.1/32"]}
    assert "secure" not in await set_cookie({}, **proxy)
    behind_tls = await set_cookie(https, **proxy)
    assert "; secure" in behind_tls and "samesite=strict" in behind_tls
    assert "httponly" in behind_tls
    assert "secure" not in await set_cookie(https)  # the proxy is not trusted
    assert "; secure" in await set_cookie({}, secure_cookies="on")
    assert "secure" not in await set_cookie(https, secure_cookies="off", **proxy)


@pytest.mark.parametrize("empty_db_url", ["postgres"], indirect=True)
async def test_logins_go_on_through_a_database_outage(db_url: str) -> None:
    """Confirmed logins are kept for an outage, like tokens; a logout during it holds."""
    async with race_desk(db_url) as desk, control_client(desk.srv) as browser:
        srv = desk.srv
        async with control_client(srv) as other:
            assert (await browser.get("/control")).status_code == 200
            assert (await other.get("/control")).status_code == 200
            await set_postgres_connections(db_url, allowed=False)
            try:
                assert (await browser.get("/control")).status_code == 200
                posted = await browser.post("/control/messages", data={"text": "Oil at T1"})
                assert posted.status_code == 200, posted.text
                async with copy_of(srv, other) as copy:
                    assert (await other.post("/logout")).status_code == 303
                    assert (await copy.get("/control")).status_code == 303
                async with httpx.AsyncClient(
                    base_url=srv.base_url, headers={"Origin": srv.base_url}
                ) as newcomer:
                    login = {"name": USER, "password": PASSWORD}
                    refused = await newcomer.post("/login", data=login)
                    assert refused.status_code == 503 and "unreachable" in refused.text
                stale = httpx.AsyncClient(
                    base_url=srv.base_url, headers={"Cookie": "session=nothing"}
                )
                async with stale:
                    assert (await stale.get("/control")).status_code == 303
            finally:
                await set_postgres_connections(db_url, allowed=True)
            assert (await browser.get("/control")).status_code == 200
