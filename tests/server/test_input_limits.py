"""Input limits (issue 10): each reproduction of a 500 or of an unbounded body, now a 4xx
that says what to fix, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message

from server.db import repository
from server.db.connection import create_engine, sessionmaker
from server.db.models import AuditRow
from server.db.text_limits import TextRefused
from server.engine.events import PassingDeleted
from server.web.limits import JSON_LIMIT, BodyLimit
from tests.fixtures.app_server import prepare_database, running_server
from tests.fixtures.pit_desk import (
    ENTRIES,
    EVENT,
    add_accounts,
    browser_client,
    control_client,
    log_in_pin,
    race_desk,
)

BAD_BODIES = {
    "malformed": (b'{"flag": "green"', 400, "not JSON"),
    "empty": (b"", 400, "empty"),
    "not UTF-8": (b'{"flag": "gr\xffeen"}', 400, "not UTF-8"),
    "30k deep": (b"[" * 30_000 + b"]" * 30_000, 400, "nested too deeply"),
    "100k deep": (b"[" * 100_000 + b"]" * 100_000, 413, "over 64 KB"),  # 200 KB: capped first
}


async def send_ten_mb(base_url: str, path: str, token: str) -> tuple[int, str]:
    """Announce a 10 MB JSON body, send its first 64 KB only and read the answer: the
    server answers 413 from the announced length, without waiting for the rest."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {10 * 1024 * 1024}\r\n\r\n"
        )
        writer.write(head.encode() + b'{"flag": "green", "pad": "' + b"x" * JSON_LIMIT)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])["detail"]


async def test_bodies_that_are_not_json_answer_400(db_url: str) -> None:
    async with race_desk(db_url) as desk, desk.srv.client() as api:
        url = f"/api/v1/sessions/{desk.session_id}/flag"
        for name, (body, code, said) in BAD_BODIES.items():
            answer = await api.post(url, content=body, headers={"content-type": "application/json"})
            assert answer.status_code == code, (name, answer.text)
            assert said in answer.json()["detail"], name
        # the same bodies to a route whose body FastAPI parses: 4xx too, never 500
        for name, (body, _, _) in BAD_BODIES.items():
            answer = await api.post(
                "/api/v1/sessions", content=body, headers={"content-type": "application/json"}
            )
            assert 400 <= answer.status_code < 500, (name, answer.status_code)
        status, detail = await send_ten_mb(desk.srv.base_url, url, desk.srv.token)
        assert status == 413 and "64 KB" in detail
        ok = await api.post(url, json={"flag": "yellow"})
        assert ok.status_code == 200 and ok.json()["flag"] == "yellow"


async def test_the_cap_stops_reading_at_the_first_byte_over() -> None:
    """A body sent without Content-Length (chunked) is read no further than the cap."""

    async def echo(request: Request) -> Response:
        return Response(str(len(await request.body())))

    app = BodyLimit(Starlette(routes=[Route("/", echo, methods=["POST"])]))
    chunk = b"x" * 16 * 1024
    pulled = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < 640}  # 10 MB

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-type", b"application/json")],
        "query_string": b"",
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert pulled == JSON_LIMIT // len(chunk) + 1  # 5 chunks of 640: stopped at the cap


async def test_ids_out_of_64_bits_are_422(db_url: str) -> None:
    async with race_desk(db_url) as desk, browser_client(desk.srv) as anonymous:
        answer = await anonymous.get("/api/v1/sessions/9223372036854775808/standings")
        assert answer.status_code == 422
        assert "less than or equal to 2147483647" in answer.text
        assert (await anonymous.get("/api/v1/sessions/0/standings")).status_code == 422
        missing = await anonymous.get("/api/v1/sessions/2147483647/standings")
        assert missing.status_code == 404
        async with desk.srv.client() as api:
            flag = await api.post(
                "/api/v1/sessions/99999999999999999999/flag", json={"flag": "red"}
            )
            assert flag.status_code == 422


async def test_a_correction_out_of_the_event_is_422_before_it_is_saved(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        for at in (10**30, -1, desk.now() + 1):
            answer = await control.post(
                "/control/corrections/delete",
                data={"number": "7", "crossing_at_us": str(at), "reason": "bad read"},
            )
            assert answer.status_code == 422, (at, answer.text)
        assert not [e for e in await desk.journal() if isinstance(e, PassingDeleted)]
        ok = await control.post(
            "/control/corrections/delete",
            data={"number": "7", "crossing_at_us": str(desk.now()), "reason": "bad read"},
        )
        assert ok.status_code == 200


async def test_names_with_nul_or_control_characters_are_422(db_url: str) -> None:
    async with (
        race_desk(db_url) as desk,
        desk.srv.client() as api,
        control_client(desk.srv) as control,
    ):
        for event, name in (("Cup\x00", "Race"), ("Cup", "Ra\x00ce"), ("Cup", "Bell\x07")):
            answer = await api.post(
                "/api/v1/sessions", json={"event": event, "type": "race", "name": name}
            )
            assert answer.status_code == 422, answer.text
            assert "control characters" in answer.text
        bad_forms = [
            ("/control/messages", {"text": "oil\x00 at turn 3"}),
            ("/control/driver-change", {"number": "7", "driver": "Bob\x00Birch"}),
            ("/control/flag", {"flag": "local_yellow", "station": "T\x1b1"}),
        ]
        for path, form in bad_forms:
            answer = await control.post(path, data=form)
            assert answer.status_code == 422, (path, answer.text)
            assert "control characters" in answer.text
        # line breaks in a message are words apart, not control characters
        fine = await control.post("/control/messages", data={"text": "oil\nat turn 3"})
        assert fine.status_code == 200
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            with pytest.raises(TextRefused, match="control characters"):
                await repository.add_user(db, "r\x00c", "s3cret-pass", "control")
            await db.rollback()
            with pytest.raises(TextRefused, match="at most 100"):
                await repository.add_user(db, "r" * 101, "s3cret-pass", "control")
    finally:
        await engine.dispose()


async def test_a_long_event_name_still_takes_pit_pin_logins(db_url: str) -> None:
    """The audit actor is "pin:<event>" in a 100-character column: cut to fit, never a 500."""
    long_event = "Twenty-Four Hours of the Paddock Club " * 4  # 152 characters
    token = await prepare_database(db_url, ENTRIES, EVENT)
    await add_accounts(db_url)
    async with running_server(db_url, token) as srv, srv.client() as api:
        too_long = await api.post(
            "/api/v1/sessions", json={"event": "E" * 201, "type": "race", "name": "Race"}
        )
        assert too_long.status_code == 422
        created = await api.post(
            "/api/v1/sessions", json={"event": long_event, "type": "race", "name": "Race"}
        )
        assert created.status_code == 201, created.text
        engine = create_engine(db_url)
        try:
            async with sessionmaker(engine)() as db:
                await repository.set_pit_pin(db, long_event, "1357")
        finally:
            await engine.dispose()
        async with browser_client(srv) as marshal:
            await log_in_pin(marshal, "1357")
            assert (await marshal.get("/pit")).status_code == 200
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            rows = list(await db.scalars(select(AuditRow).where(AuditRow.action == "login.pin")))
    finally:
        await engine.dispose()
    assert len(rows) == 1
    assert len(rows[0].actor) <= 100 and rows[0].actor.startswith(f"pin:{long_event[:90]}")
