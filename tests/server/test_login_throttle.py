"""Logins that resist guessing (issue 10), over a real server: attempts are counted before
the PIN or password is checked, so parallel guesses get 429 after the free tries; waits
grow, then a lockout holds until race control lifts it; hash work is bounded; only a
listed proxy may say where a client is."""

from __future__ import annotations

import asyncio
import threading

import httpx
from sqlalchemy import select

from server.db import repository
from server.db.connection import create_engine, sessionmaker
from server.db.models import AuditRow
from tests.fixtures.app_server import wait_until
from tests.fixtures.pit_desk import EVENT, PASSWORD, PIN, USER, Desk, control_client, race_desk


def as_browser(desk: Desk) -> dict[str, str]:
    """A browser's login post names the site's origin (the login's cross-site check)."""
    return {"Origin": desk.srv.base_url}


PARALLEL = 60


async def audit_actions(db_url: str) -> list[tuple[str, str]]:
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            rows = await db.scalars(select(AuditRow).order_by(AuditRow.id))
            return [(row.actor, row.action) for row in rows]
    finally:
        await engine.dispose()


async def test_parallel_pin_guesses_get_429_and_never_find_the_pin(db_url: str) -> None:
    """The issue's measurement: 60 parallel PIN logins from one address gave 59 x 401 and
    1 x 303. Now the 5 free tries are counted before any check: the rest get 429."""
    guesses = [f"{n:04d}" for n in range(1000, 1000 + PARALLEL)]
    guesses[-1] = PIN  # the right PIN is among them
    async with (
        # hash checks wait their turn (a short wait would add 429s of its own)
        race_desk(db_url, started=False, hash_wait_s=60) as desk,
        # argon2 on a busy machine: the checked tries may take seconds each
        httpx.AsyncClient(
            base_url=desk.srv.base_url, headers=as_browser(desk), timeout=120
        ) as guesser,
        desk.srv.client() as api,
    ):
        answers = await asyncio.gather(
            *(guesser.post("/login/pin", data={"pin": pin}) for pin in guesses)
        )
        codes = [answer.status_code for answer in answers]
        assert codes.count(303) <= 1 and codes.count(401) + codes.count(303) == 5
        assert codes.count(429) == PARALLEL - 5
        refused = next(answer for answer in answers if answer.status_code == 429)
        assert "wait a minute" in refused.text and refused.headers["Retry-After"] == "60"
        if 303 not in codes:  # the right PIN came too late: refused unchecked
            late = await guesser.post("/login/pin", data={"pin": PIN})
            assert late.status_code == 429
            # race control lifts the wait (a bearer token: its own address is waiting too)
            lifted = await api.post("/control/logins/lift", data={"key": ""})
            assert lifted.status_code == 303
            assert (await guesser.post("/login/pin", data={"pin": PIN})).status_code == 303
    actions = await audit_actions(db_url)
    failed = [actor for actor, action in actions if action == "login.failed"]
    assert failed == [f"pin:{EVENT}"] * codes.count(401)


async def test_waits_grow_then_a_lockout_holds_until_race_control_lifts_it(db_url: str) -> None:
    async with (
        race_desk(db_url, started=False) as desk,
        httpx.AsyncClient(base_url=desk.srv.base_url, headers=as_browser(desk)) as guesser,
        desk.srv.client() as api,
    ):

        async def guess(pin: str = "1111") -> httpx.Response:
            return await guesser.post("/login/pin", data={"pin": pin})

        for _ in range(5):
            assert (await guess()).status_code == 401
        waits = []
        for attempt in range(5, 10):  # each try after the free ones waits twice as long
            refused = await guess(PIN)
            assert refused.status_code == 429
            waits.append(int(refused.headers["Retry-After"]))
            desk.advance(waits[-1] - 1)
            assert (await guess(PIN)).status_code == 429  # a second early: still waiting
            desk.advance(1)
            assert (await guess()).status_code == 401, attempt
        assert waits == [60, 120, 240, 480, 960]
        locked = await guess(PIN)
        assert locked.status_code == 429 and "until race control lifts" in locked.text
        desk.advance(24 * 3600)
        assert (await guess(PIN)).status_code == 429  # a day later: still locked

        page = await api.get("/control/logins")
        assert page.status_code == 200
        assert f"pin:{EVENT}" in page.text and "addr:127.0.0.1" in page.text
        assert page.text.count("locked") >= 2
        async with httpx.AsyncClient(
            base_url=desk.srv.base_url, headers=as_browser(desk)
        ) as anonymous:
            refused_lift = await anonymous.post("/control/logins/lift", data={"key": ""})
            assert refused_lift.status_code == 401
        for key in (f"pin:{EVENT}", "addr:127.0.0.1"):
            lifted = await api.post("/control/logins/lift", data={"key": key})
            assert lifted.status_code == 303
        assert (await guess(PIN)).status_code == 303
    actions = await audit_actions(db_url)
    assert actions.count((f"pin:{EVENT}", "login.failed")) == 10
    assert actions.count((f"pin:{EVENT}", "login.locked")) == 2  # the event and the address
    assert actions.count(("api", "login.lift")) == 2


async def test_parallel_password_guesses_are_throttled_per_account(db_url: str) -> None:
    async with (
        race_desk(db_url, started=False, forwarded_allow_ips=["127.0.0.1"], hash_wait_s=60) as desk,
        httpx.AsyncClient(
            base_url=desk.srv.base_url, headers=as_browser(desk), timeout=120
        ) as guesser,
    ):
        # each from an address of its own (a trusted proxy says so): the account's count
        # alone stops them
        answers = await asyncio.gather(
            *(
                guesser.post(
                    "/login",
                    data={"name": USER, "password": f"guess-{n}"},
                    headers={"X-Forwarded-For": f"10.1.0.{n}"},
                )
                for n in range(PARALLEL)
            )
        )
        codes = [answer.status_code for answer in answers]
        assert codes.count(401) == 5 and codes.count(429) == PARALLEL - 5
        late = await guesser.post(
            "/login",
            data={"name": USER, "password": PASSWORD},
            headers={"X-Forwarded-For": "10.2.0.1"},
        )
        assert late.status_code == 429 and "wait a minute" in late.text
        # another account is not held up by this one
        other = await guesser.post(
            "/login",
            data={"name": "nobody", "password": "x"},
            headers={"X-Forwarded-For": "10.2.0.2"},
        )
        assert other.status_code == 401


async def test_at_most_two_hash_checks_at_once(db_url: str) -> None:
    """The issue's measurement: 16 parallel loops of wrong passwords, each an argon2 check
    of 64 MiB, took the server from 105 MB to 481 MB. Now two run at a time."""
    async with race_desk(
        db_url, started=False, login_free_tries=100, login_lockout_after=200, hash_wait_s=60
    ) as desk:
        gate = desk.srv.state.hash_gate
        assert gate.limit == 2
        async with httpx.AsyncClient(
            base_url=desk.srv.base_url, headers=as_browser(desk), timeout=120
        ) as client:
            answers = await asyncio.gather(
                *(
                    client.post("/login", data={"name": USER, "password": f"wrong-{n}"})
                    for n in range(16)
                )
            )
        assert [answer.status_code for answer in answers] == [401] * 16
        assert 1 <= gate.peak <= 2


async def test_a_login_waits_briefly_for_a_hash_slot_then_gets_429(db_url: str) -> None:
    """Both hash slots held by slow work: a login is told to come back, and that try is
    not counted; once the work is done, the same login succeeds."""
    async with race_desk(db_url, started=False, hash_wait_s=0.05) as desk:
        gate = desk.srv.state.hash_gate
        release = threading.Event()
        holders = [asyncio.create_task(gate.run(release.wait, 30)) for _ in range(gate.limit)]
        try:
            await wait_until(lambda: gate.peak == gate.limit)  # both slots taken
            async with httpx.AsyncClient(
                base_url=desk.srv.base_url, headers=as_browser(desk)
            ) as client:
                for _ in range(6):  # more than the free tries: none of them counted
                    busy = await client.post("/login", data={"name": USER, "password": PASSWORD})
                    assert busy.status_code == 429 and "try again in a moment" in busy.text
                    assert busy.headers["Retry-After"] == "1"
        finally:
            release.set()
        assert await asyncio.gather(*holders) == [True, True]
        async with control_client(desk.srv) as browser:
            assert (await browser.get("/control")).status_code == 200


async def test_forwarded_for_counts_only_from_a_listed_proxy(db_url: str) -> None:
    """The issue's measurement: X-Forwarded-For from 127.0.0.1 was believed, so a local
    client rotated addresses and was never throttled."""

    async def tries(desk_settings: dict[str, object]) -> list[int]:
        async with (
            race_desk(db_url, started=False, **desk_settings) as desk,
            httpx.AsyncClient(base_url=desk.srv.base_url, headers=as_browser(desk)) as client,
        ):
            codes = []
            for n in range(8):  # a new account name and a new claimed address each time
                answer = await client.post(
                    "/login",
                    data={"name": f"user{n}", "password": "x"},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"},
                )
                codes.append(answer.status_code)
            return codes

    assert await tries({}) == [401] * 5 + [429] * 3  # one address: 127.0.0.1
    clients = {
        str(row.detail.get("client"))
        for row in await audit_rows(db_url)
        if row.action == "login.failed"
    }
    assert clients == {"127.0.0.1"}


async def test_forwarded_for_from_a_listed_proxy_names_the_client(db_url: str) -> None:
    async with (
        race_desk(db_url, started=False, forwarded_allow_ips=["127.0.0.1"]) as desk,
        httpx.AsyncClient(base_url=desk.srv.base_url, headers=as_browser(desk)) as client,
    ):
        for n in range(8):
            answer = await client.post(
                "/login",
                data={"name": f"user{n}", "password": "x"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            )
            assert answer.status_code == 401
        # the proxy's own address is not the client's: a PIN guesser behind it is counted
        # by the address it came from
        for _ in range(5):
            wrong = await client.post(
                "/login/pin", data={"pin": "0000"}, headers={"X-Forwarded-For": "198.51.100.7"}
            )
            assert wrong.status_code == 401
    clients = {
        str(row.detail.get("client"))
        for row in await audit_rows(db_url)
        if row.action == "login.failed"
    }
    assert clients == {f"203.0.113.{n}" for n in range(8)} | {"198.51.100.7"}


async def audit_rows(db_url: str) -> list[AuditRow]:
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            return list(await db.scalars(select(AuditRow).order_by(AuditRow.id)))
    finally:
        await engine.dispose()


async def test_a_right_login_is_not_counted_and_a_new_pin_starts_afresh(db_url: str) -> None:
    async with (
        race_desk(db_url, started=False) as desk,
        httpx.AsyncClient(base_url=desk.srv.base_url, headers=as_browser(desk)) as client,
    ):
        for _ in range(4):
            assert (await client.post("/login/pin", data={"pin": "0000"})).status_code == 401
        for _ in range(3):  # right PINs do not add to the count
            assert (await client.post("/login/pin", data={"pin": PIN})).status_code == 303
        assert (await client.post("/login/pin", data={"pin": "0000"})).status_code == 401
        assert (await client.post("/login/pin", data={"pin": PIN})).status_code == 429
        engine = create_engine(db_url)
        try:
            async with sessionmaker(engine)() as db:
                await repository.set_pit_pin(db, EVENT, "97531")
                await repository.lift_lockouts(db, repository.address_key("127.0.0.1"))
        finally:
            await engine.dispose()
        assert (await client.post("/login/pin", data={"pin": "97531"})).status_code == 303
