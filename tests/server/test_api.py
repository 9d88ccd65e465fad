"""The JSON API over a real server: auth, validation, sessions, flags, standings."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.app_server import prepare_database, running_server

ENTRIES = "number,class,team,drivers,transponder\n7,A,Seven,Ann;Bob,1007\n07,B,Oh Seven,Cy,1070\n"


async def test_writes_need_a_control_token(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Auth Cup")
    async with running_server(db_url, token) as srv:
        body = {"event": "Auth Cup", "type": "race", "name": "R", "length_minutes": 60}
        async with httpx.AsyncClient(base_url=srv.base_url) as anonymous:
            missing = await anonymous.post("/api/v1/sessions", json=body)
            assert missing.status_code == 401
            wrong = await anonymous.post(
                "/api/v1/sessions", json=body, headers={"Authorization": "Bearer nope"}
            )
            assert wrong.status_code == 401
            # reads are public
            assert (await anonymous.get("/api/v1/sessions")).status_code == 200
            assert (await anonymous.get("/api/v1/openapi.json")).status_code == 200


async def test_session_flag_and_standings(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Api Cup")
    async with running_server(db_url, token) as srv, srv.client() as api:
        bad = await api.post("/api/v1/sessions", json={"event": "Api Cup", "type": "drag"})
        assert bad.status_code == 422
        created = await api.post(
            "/api/v1/sessions",
            json={"event": "Api Cup", "type": "race", "name": "Race 1", "length_minutes": 90},
        )
        assert created.status_code == 201
        session = created.json()
        assert session["active"] is True
        sid = session["id"]
        assert (
            await api.post(f"/api/v1/sessions/{sid}/flag", json={"flag": "purple"})
        ).status_code == 422
        assert (
            await api.post(f"/api/v1/sessions/{sid + 99}/flag", json={"flag": "green"})
        ).status_code == 409
        green = await api.post(f"/api/v1/sessions/{sid}/flag", data={"flag": "green"})
        assert green.status_code == 200
        assert green.json()["flag"] == "green"
        rows = (await api.get(f"/api/v1/sessions/{sid}/standings")).json()
        assert {r["number"] for r in rows} == {"7", "07"}  # "07" and "7" are two cars
        assert set(rows[0]) >= {
            "position",
            "number",
            "class",
            "class_position",
            "team",
            "laps",
            "last_lap_ms",
            "best_lap_ms",
            "best_lap_number",
            "gap_ms",
            "interval_ms",
            "in_pit",
        }
        assert (await api.get("/api/v1/sessions/999/standings")).status_code == 404
        listed = (await api.get("/api/v1/sessions")).json()
        assert [s["id"] for s in listed if s["active"]] == [sid]


async def test_a_session_takes_a_rule_set(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Rules Cup")
    async with running_server(db_url, token) as srv, srv.client() as api:
        body = {"event": "Rules Cup", "type": "race", "name": "R", "length_minutes": 120}
        unknown = await api.post("/api/v1/sessions", json={**body, "rules": {"preset": "nope"}})
        assert unknown.status_code == 422
        assert "nope" in unknown.text
        created = await api.post(
            "/api/v1/sessions",
            json={**body, "rules": {"preset": "img", "max_stint_us": 90 * 60 * 1_000_000}},
        )
        assert created.status_code == 201
        assert srv.race.engine is not None
        assert srv.race.engine.config.rules.max_stint_us == 90 * 60 * 1_000_000


LENGTHS: list[tuple[dict[str, Any], bool]] = [
    ({"type": "race", "length_minutes": 30}, False),  # IMG: 1 to 4 h
    ({"type": "race", "length_minutes": 300}, False),
    ({"type": "sprintduro", "length_minutes": 180}, False),  # 1.5 to 2 h
    ({"type": "qualifying", "length_minutes": 9}, False),
    ({"type": "race", "length_minutes": 240}, True),
    ({"type": "race", "length_minutes": 1440, "rules": {"preset": "aer"}}, True),  # 24 h
    ({"type": "race", "length_minutes": 840, "rules": {"preset": "brscc"}}, True),  # 14 h
    ({"type": "practice", "length_minutes": 10}, True),
    ({"type": "race"}, True),  # no time-certain end: race control shows the checkered
]


async def test_session_lengths_follow_the_rule_set(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Length Cup")
    async with running_server(db_url, token) as srv, srv.client() as api:
        for body, allowed in LENGTHS:
            before = len((await api.get("/api/v1/sessions")).json())
            answer = await api.post(
                "/api/v1/sessions", json={"event": "Length Cup", "name": "S", **body}
            )
            after = len((await api.get("/api/v1/sessions")).json())
            if allowed:
                assert answer.status_code == 201, (body, answer.text)
                assert after == before + 1
            else:
                assert answer.status_code == 422, body
                assert "minutes" in answer.json()["detail"] and after == before
