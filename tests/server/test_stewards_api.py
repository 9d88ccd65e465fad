"""The stewards' API over a real server (SQLite and PostgreSQL): incidents, decisions,
amendments, voided laps and the grid, with bad input answered 4xx and nothing changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from server.engine.events import IncidentDecided, IncidentReported, LapVoided, PassingDetected
from tests.fixtures.app_server import RunningServer, prepare_database, role_token, running_server
from timing_adapters.clock import ManualClock

EVENT = "Stewards Cup"
ENTRIES = (
    "number,class,team,drivers,transponder\n"
    "7,A,Alder Racing,Ann Alder;Bob Birch,107\n"
    "8,A,Solo Speed,Cy Cole,108\n"
    "9,B,Dunn Motorsport,Di Dunn;Ed Eng,109\n"
    "10,B,Tenth Team,Flo Fox,110\n"
)
S = 1_000_000
START_US = 1_781_352_000_000_000


@dataclass
class Weekend:
    srv: RunningServer
    clock: ManualClock
    control: httpx.AsyncClient
    steward: httpx.AsyncClient

    async def session(self, kind: str, name: str) -> int:
        body = {"event": EVENT, "type": kind, "name": name, "length_minutes": 60}
        created = await self.control.post("/api/v1/sessions", json=body)
        assert created.status_code == 201, created.text
        session_id: int = created.json()["id"]
        flag = await self.control.post(
            f"/api/v1/sessions/{session_id}/flag", json={"flag": "green"}
        )
        assert flag.status_code == 200
        return session_id

    async def cross(self, number: str, at_s: float) -> None:
        self.clock.advance_to(START_US + round(at_s * S))
        await self.srv.race.submit(PassingDetected(self.clock.now_us(), f"1{number:0>2}", "loop"))

    async def standings(self, session_id: int) -> list[dict[str, Any]]:
        answer = await self.control.get(f"/api/v1/sessions/{session_id}/standings")
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()
        return rows

    async def journal_length(self, session_id: int) -> int:
        return len(await self.srv.race.journal.read(session_id))


@asynccontextmanager
async def weekend(db_url: str) -> AsyncIterator[Weekend]:
    token = await prepare_database(db_url, ENTRIES, EVENT)
    steward_token = await role_token(db_url, "steward", "tests")
    clock = ManualClock(START_US)
    async with running_server(db_url, token, clock=clock) as srv, srv.client() as control:
        headers = {"Authorization": f"Bearer {steward_token}"}
        async with httpx.AsyncClient(base_url=srv.base_url, headers=headers) as steward:
            yield Weekend(srv, clock, control, steward)


def contact(*cars: str, at: str = "00:05:00") -> dict[str, Any]:
    return {
        "at": at,
        "place": "Turn 3",
        "cars": list(cars),
        "description": "side by side, touched",
        "contact": True,
    }


async def test_incident_decision_amendment_and_refusals(db_url: str) -> None:
    async with weekend(db_url) as w:
        sid = await w.session("race", "Race 1")
        for lap in range(4):  # 7 leads 8 by 1 s, 9 by 2 s; 10 never crosses
            for offset, number in enumerate(("7", "8", "9")):
                await w.cross(number, 10 + lap * 100 + offset)
        assert [r["number"] for r in await w.standings(sid)][:3] == ["7", "8", "9"]

        reported = await w.control.post(f"/api/v1/sessions/{sid}/incidents", json=contact("7", "8"))
        assert reported.status_code == 201, reported.text
        iid = reported.json()["id"]
        assert iid == f"{sid}-1"

        # bad input: a car not entered, a bad time, no cars; nothing recorded
        before = await w.journal_length(sid)
        unknown = await w.control.post(f"/api/v1/sessions/{sid}/incidents", json=contact("7", "77"))
        assert unknown.status_code == 422 and "car 77 is not entered" in unknown.text
        assert (
            await w.control.post(
                f"/api/v1/sessions/{sid}/incidents", json={**contact("7"), "at": "5pm"}
            )
        ).status_code == 422
        assert (
            await w.control.post(f"/api/v1/sessions/{sid}/incidents", json=contact())
        ).status_code == 422
        listed = (await w.steward.get(f"/api/v1/sessions/{sid}/incidents")).json()
        assert [i["id"] for i in listed] == [iid] and listed[0]["state"] == "open"
        assert listed[0]["cars"] == ["7", "8"] and listed[0]["contact"] is True
        # the refused report was journaled (the record of what was asked), the others not
        assert await w.journal_length(sid) == before + 1

        # decisions are the chief steward's
        body = {
            "decision": "time_penalty",
            "value": 30,
            "reason": "avoidable contact",
            "cars": ["7"],
        }
        assert (
            await w.control.post(f"/api/v1/incidents/{iid}/decision", json=body)
        ).status_code == 403
        missing = await w.steward.post(
            f"/api/v1/incidents/{iid}/decision", json={**body, "value": None}
        )
        assert missing.status_code == 422 and "positive value" in missing.text
        negative = await w.steward.post(
            f"/api/v1/incidents/{iid}/decision", json={**body, "value": -5}
        )
        assert negative.status_code == 422
        outsider = await w.steward.post(
            f"/api/v1/incidents/{iid}/decision", json={**body, "cars": ["9"]}
        )
        assert outsider.status_code == 422 and "not in this incident" in outsider.text
        nowhere = await w.steward.post(f"/api/v1/incidents/{sid}-99/decision", json=body)
        assert nowhere.status_code == 404
        unamended = await w.steward.post(f"/api/v1/incidents/{iid}/amend", json=body)
        assert unamended.status_code == 409 and "no decision to amend" in unamended.text
        assert [r["number"] for r in await w.standings(sid)][:3] == ["7", "8", "9"]

        decided = await w.steward.post(f"/api/v1/incidents/{iid}/decision", json=body)
        assert decided.status_code == 200, decided.text
        assert decided.json()["state"] == "decided"
        assert decided.json()["decision"]["text"] == "30 s time penalty"
        rows = await w.standings(sid)
        assert [r["number"] for r in rows][:3] == ["8", "9", "7"]
        seven = next(r for r in rows if r["number"] == "7")
        assert (
            seven["penalties"][0]["state"] == "applied"
            and seven["penalties"][0]["time_ms"] == 30_000
        )
        assert seven["gap_ms"] == 29_000

        async with httpx.AsyncClient(base_url=w.srv.base_url) as anonymous:
            live = (await anonymous.get("/live")).text
        assert "Car 7</b> 30 s time penalty" in live  # the penalties list
        assert "Stewards: car 7 30 s time penalty (avoidable contact)" in live  # the ticker

        closed = await w.steward.post(f"/api/v1/incidents/{iid}/decision", json=body)
        assert closed.status_code == 409 and "already decided" in closed.text
        amended = await w.steward.post(
            f"/api/v1/incidents/{iid}/amend",
            json={"decision": "warning", "reason": "video: 8 moved under braking", "cars": ["8"]},
        )
        assert amended.status_code == 200, amended.text
        assert [d["decision"] for d in amended.json()["history"]] == ["time_penalty", "warning"]
        rows = await w.standings(sid)
        assert [r["number"] for r in rows][:3] == ["7", "8", "9"]
        assert next(r for r in rows if r["number"] == "7")["penalties"] == []

        # disqualification: DSQ at the bottom
        dsq = (await w.control.post(f"/api/v1/sessions/{sid}/incidents", json=contact("9"))).json()[
            "id"
        ]
        await w.steward.post(
            f"/api/v1/incidents/{dsq}/decision",
            json={"decision": "disqualification", "reason": "dangerous driving"},
        )
        rows = await w.standings(sid)
        assert rows[-1]["number"] == "9" and rows[-1]["status"] == "DSQ"

        # the journal alone rebuilds the same classification and incidents
        replayed, _event, _entries = await w.srv.race.replay(sid)
        live_engine = w.srv.race.engine
        assert live_engine is not None
        assert [(r.number, r.status, r.penalties) for r in replayed.standings()] == [
            (r.number, r.status, r.penalties) for r in live_engine.standings()
        ]
        assert [i.decisions for i in replayed.incidents()] == [
            i.decisions for i in live_engine.incidents()
        ]

        # the queue is the stewards' and race control's: nobody else's
        async with httpx.AsyncClient(base_url=w.srv.base_url) as anonymous:
            assert (await anonymous.get(f"/api/v1/sessions/{sid}/incidents")).status_code == 401
            assert (await anonymous.get("/stewards")).status_code == 303
        events = await w.srv.race.journal.read(sid)
        assert sum(isinstance(e, IncidentReported) for e in events) == 3
        assert [e.amend for e in events if isinstance(e, IncidentDecided)][-3:] == [
            False,
            True,
            False,
        ]


async def test_void_a_lap(db_url: str) -> None:
    async with weekend(db_url) as w:
        sid = await w.session("race", "Race 1")
        for at in (10, 100, 195, 295):  # laps of 90, 95, 100 s
            await w.cross("7", at)
        seven = next(r for r in await w.standings(sid) if r["number"] == "7")
        assert seven["best_lap_number"] == 1 and seven["laps"] == 3

        before = await w.journal_length(sid)
        nothing = await w.control.post(
            f"/api/v1/sessions/{sid}/laps/void", json={"number": "7", "lap": 9, "reason": "T4"}
        )
        assert nothing.status_code == 422 and "has not completed that lap" in nothing.text
        nobody = await w.control.post(
            f"/api/v1/sessions/{sid}/laps/void", json={"number": "77", "lap": 1, "reason": "T4"}
        )
        assert nobody.status_code == 422
        assert (
            await w.control.post(
                f"/api/v1/sessions/{sid}/laps/void", json={"number": "7", "lap": 0, "reason": "T4"}
            )
        ).status_code == 422
        seven = next(r for r in await w.standings(sid) if r["number"] == "7")
        assert seven["best_lap_number"] == 1
        assert await w.journal_length(sid) == before + 2  # the two refused voids, journaled

        voided = await w.control.post(
            f"/api/v1/sessions/{sid}/laps/void",
            json={"number": "7", "lap": 1, "reason": "track limits at T4"},
        )
        assert voided.status_code == 200, voided.text
        assert voided.json()["best_lap_ms"] == 95_000
        seven = next(r for r in await w.standings(sid) if r["number"] == "7")
        assert seven["best_lap_number"] == 2 and seven["laps"] == 3
        laps = await w.control.get("/control/cars/7/laps")
        assert laps.status_code == 200
        assert laps.text.count("<s ") == 1 and "data-voided" in laps.text
        again = await w.control.post(
            f"/api/v1/sessions/{sid}/laps/void", json={"number": "7", "lap": 1, "reason": "T4"}
        )
        assert again.status_code == 422 and "already voided" in again.text
        events = await w.srv.race.journal.read(sid)
        # car 7 lap 9 and car 77 refused, car 7 lap 1 voided, then refused again
        assert [(e.number, e.lap) for e in events if isinstance(e, LapVoided)] == [
            ("7", 9),
            ("77", 1),
            ("7", 1),
            ("7", 1),
        ]


async def test_the_grid_from_qualifying_and_practice_contact(db_url: str) -> None:
    async with weekend(db_url) as w:
        practice = await w.session("practice", "Practice")
        await w.cross("8", 10)
        reported = await w.control.post(
            f"/api/v1/sessions/{practice}/incidents", json=contact("8", "10", at="00:12:30")
        )
        assert reported.status_code == 201
        # a report without contact sends nobody back
        calm = {**contact("7"), "contact": False}
        assert (
            await w.control.post(f"/api/v1/sessions/{practice}/incidents", json=calm)
        ).status_code == 201

        qualifying = await w.session("qualifying", "Qualifying")
        # 9 and 7 tie at 90 s; 9 sets it first (lap ends at 1100 s, 7's at 1110 s)
        for number, start in (("9", 1010), ("7", 1020), ("8", 1030), ("10", 1040)):
            await w.cross(number, start)
        await w.cross("9", 1100)
        await w.cross("7", 1110)
        await w.cross("8", 1125)  # 95 s
        await w.cross("10", 1125.5)  # 85.5 s: fastest, but sent back by the practice contact
        race = await w.session("race", "Race")

        practice_grid = await w.control.get(f"/api/v1/sessions/{practice}/grid")
        assert practice_grid.status_code == 409 and "not a race" in practice_grid.text

        answer = await w.control.get(f"/api/v1/sessions/{race}/grid")
        for _ in range(100):  # the qualifying standings may be rebuilding: bounded retries
            if answer.status_code != 503:
                break
            await w.srv.race.journal.try_drain()
            answer = await w.control.get(f"/api/v1/sessions/{race}/grid")
        assert answer.status_code == 200, answer.text
        grid = answer.json()
        assert grid["qualifying_session_id"] == qualifying
        rows = grid["rows"]
        assert [r["number"] for r in rows] == ["9", "7", "10", "8"]
        assert rows[0]["reason"] == "qualifying P2" and rows[1]["reason"] == "qualifying P3"
        assert [r["sent_back"] for r in rows] == [False, False, True, True]
        assert "contact with 8 in Practice" in rows[2]["reason"]
        assert "contact with 10 in Practice" in rows[3]["reason"]
        # the public page prints the same grid
        async with httpx.AsyncClient(base_url=w.srv.base_url) as anonymous:
            page = await anonymous.get(f"/live/sessions/{race}/grid")
            assert page.status_code == 200
            text = page.text
            assert text.index(">9<") < text.index(">7<") < text.index(">10<") < text.index(">8<")
            assert "sent to the back" in text
            assert "Stewards Cup · Race: starting grid" in text and "From Qualifying" in text


async def test_no_qualifying_no_grid(db_url: str) -> None:
    async with weekend(db_url) as w:
        race = await w.session("race", "Race")
        answer = await w.control.get(f"/api/v1/sessions/{race}/grid")
        assert answer.status_code == 409 and "no qualifying" in answer.text
        assert (await w.control.get("/api/v1/sessions/999/grid")).status_code == 404
