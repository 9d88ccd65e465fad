"""A whole race weekend through the API of a real server (SQLite and PostgreSQL), with the
clock driven by the test: practice with a contact, qualifying with a tie, the grid, a race
with the stewards' decisions and a voided lap, official results, a late penalty giving
version 2, and the CSV, JSON and PDF exports agreeing; bad input answers 4xx with the
reason and changes nothing. The public results page is checked in headless Chromium.

Hand-worked (times in seconds from the race's green flag G; first crossing = lap 0):
  7: laps of 100 s from G+5           -> 36 laps, G+3605 (takes the checkered flag)
  8: laps of 100.5 s from G+6, but lap 20 is 99 s and lap 21 is 102 s (same total)
                                      -> 36 laps, G+3624; best 99 s on lap 20
  9: laps of 101 s from G+7, lap 15 is 25 s longer (the drive-through, served)
                                      -> 36 laps, G+3668
  10: laps of 101.5 s from G+8, never stops
                                      -> 36 laps, G+3662
Decisions: a drive-through for 9 (served at its pit-in on lap 15), a drive-through for 10
(never served: 30 s at the end, G+3692), a 30 s time penalty for 7 (G+3635: behind 8).
Provisional order 8 (G+3624), 7, 9, 10; lap 20 of 8 voided: its best lap is 100.5 s on lap 1.
Late penalty (after official): 90 s for 9 (G+3758): version 2 is 8, 7, 10, 9.
Grid: qualifying 10 (85.5 s), 9 and 7 (90 s, 9 first), 8 (95 s); 8 and 10 touched in
practice: 9, 7, then 10 and 8 at the back in their qualifying order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pypdf

from server.engine.events import LoopRole, PassingDetected
from tests.fixtures.app_server import (
    RunningServer,
    prepare_database,
    role_token,
    running_server,
    wait_until,
)
from tests.fixtures.browser import chromium
from timing_adapters.clock import ManualClock

EVENT = "Weekend Cup"
ENTRIES = (
    "number,class,team,drivers,transponder\n"
    "7,A,Alder Racing,Ann Alder;Bob Birch,107\n"
    "8,A,Solo Speed,Cy Cole,108\n"
    "9,B,Dunn Motorsport,Di Dunn;Ed Eng,109\n"
    "10,B,Tenth Team,Flo Fox,110\n"
)
S = 1_000_000
START_US = 1_781_352_000_000_000  # 2026-06-13 12:00 UTC
GREEN_S = 2000.0  # the race's green flag, seconds after START_US
LAPS = 36


@dataclass
class Weekend:
    srv: RunningServer
    clock: ManualClock
    control: httpx.AsyncClient
    steward: httpx.AsyncClient
    public: httpx.AsyncClient

    def at(self, seconds: float) -> None:
        self.clock.advance_to(START_US + round(seconds * S))

    async def session(self, kind: str, name: str, at_s: float) -> int:
        body = {"event": EVENT, "type": kind, "name": name, "length_minutes": 60}
        created = await self.control.post("/api/v1/sessions", json=body)
        assert created.status_code == 201, created.text
        session_id: int = created.json()["id"]
        self.at(at_s)
        flag = await self.control.post(
            f"/api/v1/sessions/{session_id}/flag", json={"flag": "green"}
        )
        assert flag.status_code == 200, flag.text
        return session_id

    async def cross(self, number: str, at_s: float, loop: LoopRole = LoopRole.START_FINISH) -> None:
        self.at(at_s)
        passing = PassingDetected(self.clock.now_us(), f"1{number:0>2}", "loop", loop=loop)
        await self.srv.race.submit(passing)

    async def standings(self, session_id: int) -> list[dict[str, Any]]:
        answer = await self.control.get(f"/api/v1/sessions/{session_id}/standings")
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()
        return rows

    async def incidents(self, session_id: int) -> list[dict[str, Any]]:
        answer = await self.steward.get(f"/api/v1/sessions/{session_id}/incidents")
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()
        return found

    async def report(self, session_id: int, at: str, cars: list[str], contact: bool) -> str:
        body = {
            "at": at,
            "place": "Turn 3",
            "cars": cars,
            "description": "cars " + " and ".join(cars),
            "contact": contact,
        }
        answer = await self.control.post(f"/api/v1/sessions/{session_id}/incidents", json=body)
        assert answer.status_code == 201, answer.text
        incident_id: str = answer.json()["id"]
        return incident_id

    async def decide(self, incident_id: str, **body: Any) -> dict[str, Any]:
        answer = await self.steward.post(f"/api/v1/incidents/{incident_id}/decision", json=body)
        assert answer.status_code == 200, answer.text
        decided: dict[str, Any] = answer.json()
        return decided


@asynccontextmanager
async def weekend(db_url: str) -> AsyncIterator[Weekend]:
    token = await prepare_database(db_url, ENTRIES, EVENT)
    steward_token = await role_token(db_url, "steward", "weekend")
    clock = ManualClock(START_US)
    async with (
        running_server(db_url, token, clock=clock) as srv,
        srv.client() as control,
        httpx.AsyncClient(
            base_url=srv.base_url, headers={"Authorization": f"Bearer {steward_token}"}
        ) as steward,
        httpx.AsyncClient(base_url=srv.base_url) as public,
    ):
        yield Weekend(srv, clock, control, steward, public)


def race_crossings() -> list[tuple[float, str, LoopRole]]:
    """Every crossing of the race, as (seconds from START_US, car, loop), in time order."""
    laps = {
        "7": [100.0] * LAPS,
        "8": [100.5] * 19 + [99.0, 102.0] + [100.5] * 15,
        "9": [101.0] * 14 + [126.0] + [101.0] * 21,
        "10": [101.5] * LAPS,
    }
    starts = {"7": 5.0, "8": 6.0, "9": 7.0, "10": 8.0}
    out: list[tuple[float, str, LoopRole]] = []
    for number, times in laps.items():
        at = GREEN_S + starts[number]
        out.append((at, number, LoopRole.START_FINISH))
        for lap, length in enumerate(times, start=1):
            at += length
            if number == "9" and lap == 15:  # in the pit lane: the drive-through
                out.append((at - 30, "9", LoopRole.PIT_IN))
                out.append((at - 3, "9", LoopRole.PIT_OUT))
            out.append((at, number, LoopRole.START_FINISH))
    return sorted(out)


def numbers(rows: list[dict[str, Any]]) -> list[str]:
    return [row["number"] for row in rows]


async def run_practice_and_qualifying(w: Weekend) -> tuple[int, int]:
    practice = await w.session("practice", "Practice", 0)
    for number, at in (("8", 10.0), ("10", 12.0), ("8", 110.0), ("10", 113.0)):
        await w.cross(number, at)
    await w.report(practice, "00:01:30", ["8", "10"], contact=True)
    await w.report(practice, "00:01:40", ["7"], contact=False)  # no contact: nobody sent back

    qualifying = await w.session("qualifying", "Qualifying", 1000)
    # 9 and 7 tie at 90 s, 9 sets it first; 8 95 s; 10 85.5 s, the fastest
    passings: tuple[tuple[str, float], ...] = (
        ("9", 1010), ("7", 1020), ("8", 1030), ("10", 1040),
        ("9", 1100), ("7", 1110), ("8", 1125), ("10", 1125.5),
    )  # fmt: skip
    for number, at in passings:
        await w.cross(number, at)
    standings = await w.standings(qualifying)
    assert numbers(standings) == ["10", "9", "7", "8"]
    return practice, qualifying


async def grid_of(w: Weekend, race: int) -> dict[str, Any]:
    answers: list[httpx.Response] = []

    async def ready() -> bool:  # the qualifying standings may be rebuilding (503)
        answers.append(await w.public.get(f"/api/v1/sessions/{race}/grid"))
        return answers[-1].status_code != 503

    await wait_until(ready)
    assert answers[-1].status_code == 200, answers[-1].text
    grid: dict[str, Any] = answers[-1].json()
    return grid


async def test_a_race_weekend(db_url: str) -> None:
    async with weekend(db_url) as w:
        practice, qualifying = await run_practice_and_qualifying(w)

        # --- the grid: the contact cars at the back, in their qualifying order ---
        race = await w.session("race", "Race", GREEN_S)
        grid = await grid_of(w, race)
        assert grid["qualifying_session_id"] == qualifying
        assert numbers(grid["rows"]) == ["9", "7", "10", "8"]
        assert [r["sent_back"] for r in grid["rows"]] == [False, False, True, True]
        assert grid["rows"][0]["reason"] == "qualifying P2"
        assert grid["rows"][1]["reason"] == "qualifying P3"
        assert "contact with 8 in Practice" in grid["rows"][2]["reason"]
        assert "contact with 10 in Practice" in grid["rows"][3]["reason"]

        # --- the race ---
        crossings = race_crossings()
        decided: dict[str, bool] = {}
        incident_ids: dict[str, str] = {}
        for at, number, loop in crossings:
            if at > GREEN_S + 500 and "9" not in decided:
                incident_ids["9"] = await w.report(race, "00:07:00", ["9", "10"], contact=True)
                await w.decide(
                    incident_ids["9"],
                    decision="drive_through",
                    reason="avoidable contact",
                    cars=["9"],
                )
                decided["9"] = True
                assert await penalty_states(w, race, "9") == ["pending"]
            if at > GREEN_S + 1600 and "9 served" not in decided:
                # the pit-in on lap 15 (about G+1513) served it: nothing added to the time
                assert await penalty_states(w, race, "9") == ["served"]
                decided["9 served"] = True
            if at > GREEN_S + 2000 and "10" not in decided:
                incident_ids["10"] = await w.report(race, "00:33:00", ["10"], contact=False)
                await w.decide(
                    incident_ids["10"], decision="drive_through", reason="pit lane speeding"
                )
                decided["10"] = True
                assert await penalty_states(w, race, "10") == ["pending"]
                await bad_input_while_running(w, race, incident_ids["9"])
            if at > GREEN_S + 2500 and "void" not in decided:
                await void_a_lap(w, race)
                decided["void"] = True
            if at > GREEN_S + 3000 and "7" not in decided:
                incident_ids["7"] = await w.report(race, "00:49:00", ["7", "8"], contact=True)
                before = numbers(await w.standings(race))
                assert before[:2] == ["7", "8"]
                await w.decide(
                    incident_ids["7"],
                    decision="time_penalty",
                    value=30,
                    reason="causing a collision",
                    cars=["7"],
                )
                decided["7"] = True
                # a decision on a closed incident: 409 with the reason, nothing changes
                await refused_without_change(
                    w,
                    race,
                    w.steward.post(
                        f"/api/v1/incidents/{incident_ids['7']}/decision",
                        json={"decision": "warning", "reason": "again"},
                    ),
                    409,
                    "already decided",
                )
            await w.cross(number, at, loop)
        assert set(decided) == {"9", "9 served", "10", "void", "7"}

        # --- provisional results (version 1) ---
        async def has_results() -> bool:
            answer = await w.public.get(f"/api/v1/sessions/{race}/results")
            return answer.status_code == 200

        await wait_until(has_results)
        v1 = (await w.public.get(f"/api/v1/sessions/{race}/results")).json()
        assert (v1["version"], v1["official"], v1["status"]) == (1, False, "provisional")
        assert numbers(v1["rows"]) == ["8", "7", "9", "10"]
        by_number = {r["number"]: r for r in v1["rows"]}
        assert {n: r["laps"] for n, r in by_number.items()} == dict.fromkeys(
            ("7", "8", "9", "10"), LAPS
        )
        assert by_number["8"]["best_lap_ms"] == 100_500
        assert by_number["8"]["best_lap_number"] == 1
        assert by_number["7"]["total_time_ms"] == (3605 + 30) * 1000
        assert by_number["8"]["total_time_ms"] == 3624 * 1000
        assert by_number["9"]["total_time_ms"] == 3668 * 1000
        assert by_number["10"]["total_time_ms"] == (3662 + 30) * 1000  # unserved: 30 s
        assert by_number["9"]["pit_stops"] == 1
        penalties = {n: r["penalties"] for n, r in by_number.items()}
        assert penalties == {
            "7": "30 s time penalty",
            "8": "",
            "9": "drive-through (served)",
            "10": "drive-through (not served: +30 s)",
        }
        assert await penalty_states(w, race, "10") == ["converted"]

        # --- official, then a late penalty: version 2 with its reason ---
        signed = await w.steward.post(
            f"/api/v1/sessions/{race}/official", json={"note": "signed by the chief steward"}
        )
        assert signed.status_code == 200, signed.text
        assert signed.json()["version"] == 1
        again = await w.steward.post(f"/api/v1/sessions/{race}/official", json={"note": ""})
        assert again.status_code == 409 and "official" in again.json()["detail"]
        late = await w.report(race, "00:58:00", ["9"], contact=False)
        await w.decide(late, decision="time_penalty", value=90, reason="unsafe release")

        async def has_version_2() -> bool:
            body = (await w.public.get(f"/api/v1/sessions/{race}/results")).json()
            return bool(body["version"] == 2)

        await wait_until(has_version_2)
        v2 = (await w.public.get(f"/api/v1/sessions/{race}/results")).json()
        assert (v2["version"], v2["official"]) == (2, True)
        assert v2["versions"] == [1, 2]
        assert "unsafe release" in v2["reason"]
        assert numbers(v2["rows"]) == ["8", "7", "10", "9"]
        first = (await w.public.get(f"/api/v1/sessions/{race}/results?version=1")).json()
        assert numbers(first["rows"]) == ["8", "7", "9", "10"] and first["official"] is True

        # --- CSV, JSON and PDF agree ---
        await exports_agree(w, race, v2)
        class_b = await w.public.get(f"/api/v1/sessions/{race}/results", params={"class": "B"})
        assert [(r["number"], r["class_position"]) for r in class_b.json()["rows"]] == [
            ("10", 1),
            ("9", 2),
        ]

        # the practice and qualifying sessions kept their incidents
        assert [i["cars"] for i in await w.incidents(practice)] == [["8", "10"], ["7"]]

        # --- the public results page in the browser ---
        async with chromium() as browser:
            page = await browser.new_page()
            await page.goto(f"{w.srv.base_url}/results/{race}")
            text = await page.inner_text("body")
            assert "OFFICIAL" in text.upper() and "unsafe release" in text
            cells = await page.locator("table").first.locator("tbody tr").all_inner_texts()
            assert [line.split()[1] for line in cells] == ["8", "7", "10", "9"]
            await page.goto(f"{w.srv.base_url}/live/sessions/{race}/grid")
            text = await page.inner_text("body")
            assert "sent to the back" in text
            rows = await page.locator("table tbody tr").all_inner_texts()
            assert [line.split()[1] for line in rows] == ["9", "7", "10", "8"]


async def penalty_states(w: Weekend, race: int, number: str) -> list[str]:
    car = next(r for r in await w.standings(race) if r["number"] == number)
    return [penalty["state"] for penalty in car["penalties"]]


async def void_a_lap(w: Weekend, race: int) -> None:
    """8's best lap (99 s on lap 20) is voided: it no longer counts as its best; its laps do."""
    eight = next(r for r in await w.standings(race) if r["number"] == "8")
    laps = eight["laps"]
    assert eight["best_lap_number"] == 20 and laps > 20
    await refused_without_change(
        w,
        race,
        w.control.post(
            f"/api/v1/sessions/{race}/laps/void",
            json={"number": "8", "lap": laps + 1, "reason": "track limits"},
        ),
        422,
        "has not completed that lap",
    )
    voided = await w.control.post(
        f"/api/v1/sessions/{race}/laps/void",
        json={"number": "8", "lap": 20, "reason": "track limits at Turn 4"},
    )
    assert voided.status_code == 200, voided.text
    assert voided.json()["best_lap_ms"] == 100_500
    eight = next(r for r in await w.standings(race) if r["number"] == "8")
    assert (eight["best_lap_number"], eight["laps"]) == (1, laps)


async def bad_input_while_running(w: Weekend, race: int, decided_id: str) -> None:
    """Each refused with its reason; the standings and the incidents stay as they were."""
    await refused_without_change(
        w,
        race,
        w.control.post(
            f"/api/v1/sessions/{race}/incidents",
            json={
                "at": "00:30:00",
                "place": "Turn 1",
                "cars": ["7", "77"],
                "description": "x",
                "contact": True,
            },
        ),
        422,
        "car 77 is not entered",
    )
    await refused_without_change(
        w,
        race,
        w.steward.post(
            f"/api/v1/incidents/{decided_id}/decision",
            json={"decision": "no_action", "reason": "second look"},
        ),
        409,
        "already decided",
    )
    await refused_without_change(
        w,
        race,
        w.control.post(
            f"/api/v1/sessions/{race}/laps/void",
            json={"number": "7", "lap": 30, "reason": "track limits"},
        ),
        422,
        "has not completed that lap",
    )
    await refused_without_change(
        w,
        race,
        w.control.post(f"/api/v1/sessions/{race}/official", json={"note": "too early"}),
        409,
        "",
    )
    assert (await w.public.get(f"/api/v1/sessions/{race}/results")).status_code == 404


async def refused_without_change(
    w: Weekend, race: int, request: Any, code: int, reason: str
) -> None:
    before = (await w.standings(race), await w.incidents(race))
    answer: httpx.Response = await request
    assert answer.status_code == code, answer.text
    detail = answer.json()["detail"]
    assert detail and reason in str(detail), detail
    assert (await w.standings(race), await w.incidents(race)) == before


async def exports_agree(w: Weekend, race: int, doc: dict[str, Any]) -> None:
    answer = await w.public.get(f"/api/v1/sessions/{race}/results", params={"format": "csv"})
    assert answer.status_code == 200
    assert answer.headers["X-Results-Version"] == "2"
    assert answer.headers["X-Results-Official"] == "true"
    table = list(csv.reader(io.StringIO(answer.text)))
    header, lines = table[0], table[1:]
    keys = [
        "position", "number", "class", "class_position", "team", "drivers", "laps",
        "total_time", "gap", "interval", "best_lap", "best_lap_number", "pit_stops",
        "penalties", "status",
    ]  # fmt: skip
    assert len(header) == len(keys)
    as_text = [
        [
            ", ".join(row[key])
            if key == "drivers"
            else str(row[key] if row[key] is not None else "")
            for key in keys
        ]
        for row in doc["rows"]
    ]
    assert lines == as_text

    pdf = await w.public.get(f"/api/v1/sessions/{race}/results", params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(pdf.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Version 2" in text and "OFFICIAL" in text and EVENT in text
    assert "unsafe release" in text
    # every car's row, in the order of the CSV, with its time, gap, best lap and penalties
    position = 0
    for line in lines:
        for cell in (line[5], line[7], line[8], line[10]):
            if cell:
                assert cell in text, (cell, text)
        found = text.find(line[4], position)
        assert found >= position, (line[4], text)
        position = found
