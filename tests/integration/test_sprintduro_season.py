"""A SprintDuro driven on a ManualClock desk, on SQLite and PostgreSQL: its sprint is
versioned on its own once the sprint cut is decided (while the race goes on), signed
official with the race, exported with ``?part=sprint``, and both results score in the
series standings.

The desk (tests/fixtures/pit_desk.py): #7 (Ann Alder, Bob Birch) and #8 (Cy Cole) in class
A, #9 (Di Dunn, Ed Eng) in class B, 2 hours, laps of 40 min. At 30:00 the sprint flag is
out: #8 leads lap 1 and takes it, #7 and #9 are classified a second apart. #7 passes #8
on lap 2 and wins the race.

Hand-worked (IMG scheme): class A, sprint: #8 1st of 2 finishers 2 + winner 1 = 3,
#7 2nd 1; race: #7 1st 2 + 1 = 3, #8 2nd 1 + On the Move (a steward's) 1 = 2. No Fast
Five: nobody has five laps. Class B, #9 alone: sprint 1 + 1 = 2, race 1 + 1 = 2.
Drivers: Cy 3 + 2 = 5, Ann and Bob 1 + 3 = 4 each, Di and Ed 2 + 2 = 4 each. Teams (the
endurance results only): Alder Racing 3, Solo Speed 2; Dunn Motorsport 2. Then a
correction after the official mark (#9's lap-1 crossing deleted) gives both parts an
official version 2 with its reason; class A's points stay as they were.
"""

from __future__ import annotations

import io
from typing import Any

import httpx
from pypdf import PdfReader

from server.db import repository, series
from server.db.connection import create_engine, sessionmaker
from tests.fixtures.app_server import wait_until
from tests.fixtures.pit_desk import EVENT, START_US, Desk, S, control_client, race_desk

LAP_S = 2400


async def _lap(desk: Desk, numbers: list[str]) -> None:
    desk.advance(LAP_S)
    for number in numbers:
        await desk.cross(number)
        desk.advance(1)


async def _version(api: httpx.AsyncClient, url: str, version: int) -> bool:
    answer = await api.get(url)
    return answer.status_code == 200 and answer.json()["version"] == version


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def _set_up_series(db_url: str, session_id: int) -> None:
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            await series.create_series(db, "Desk Series")
            await series.add_event(db, "Desk Series", EVENT)
            await series.award_on_the_move(db, session_id, "A", "8", "steward")
    finally:
        await engine.dispose()


def _table(body: dict[str, Any], by: str = "driver") -> dict[str, tuple[str, int, int]]:
    return {row[by]: (row["class"], row["points"], row["wins"]) for row in body["rows"]}


async def test_sprint_and_race_of_a_sprintduro_both_score(db_url: str) -> None:
    async with race_desk(db_url, kind="sprintduro") as desk, desk.srv.client() as api:
        sid = desk.session_id
        results = f"/api/v1/sessions/{sid}/results"
        sprint_url = results + "?part=sprint"
        early = await api.get(sprint_url)
        assert early.status_code == 404 and "not classified yet" in early.json()["detail"]

        await _lap(desk, ["8", "7", "9"])  # 40:00: the sprint flag, every car classified
        await wait_until(lambda: _version(api, sprint_url, 1))
        sprint = (await api.get(sprint_url)).json()
        assert (sprint["part"], sprint["official"], sprint["reason"]) == (
            "sprint",
            False,
            "sprint classified",
        )
        assert [(r["number"], r["class_position"], r["laps"]) for r in sprint["rows"]] == [
            ("8", 1, 1),
            ("7", 2, 1),
            ("9", 1, 1),
        ]
        # the race goes on: it has no results yet, and cannot be signed
        assert (await api.get(results)).status_code == 404
        running = await api.post(f"/api/v1/sessions/{sid}/official", json={"note": "x"})
        assert running.status_code == 409

        await _lap(desk, ["7", "8", "9"])
        await _lap(desk, ["7", "8", "9"])  # 2:00:00 passed: #7 takes the flag
        await wait_until(lambda: _version(api, results, 1))
        race = (await api.get(results)).json()
        assert race["part"] == "race"
        assert [r["number"] for r in race["rows"]] == ["7", "8", "9"]
        # the laps after the cut changed nothing in the sprint: still its version 1
        assert (await api.get(sprint_url)).json()["versions"] == [1]

        # signed official together
        signed = await api.post(f"/api/v1/sessions/{sid}/official", json={"note": "clerk"})
        assert signed.status_code == 200, signed.text
        sprint = (await api.get(sprint_url)).json()
        assert (sprint["version"], sprint["official"], sprint["note"]) == (1, True, "clerk")
        csv_answer = await api.get(sprint_url + "&format=csv")
        assert csv_answer.headers["x-results-official"] == "true"
        assert (
            'filename="results-' + str(sid) + '-sprint-v1.csv"'
            in (csv_answer.headers["content-disposition"])
        )
        assert [line.split(",")[1] for line in csv_answer.text.splitlines()[1:]] == ["8", "7", "9"]
        pdf = await api.get(sprint_url + "&format=pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        bad = await api.get(results + "?part=qualifying")
        assert bad.status_code == 422

        await _set_up_series(db_url, sid)
        url = "/api/v1/series/Desk Series/standings"
        body = (await api.get(url)).json()
        assert _table(body) == {
            "Cy Cole": ("A", 5, 1),
            "Ann Alder": ("A", 4, 1),
            "Bob Birch": ("A", 4, 1),
            "Di Dunn": ("B", 4, 2),
            "Ed Eng": ("B", 4, 2),
        }
        cy = next(row for row in body["rows"] if row["driver"] == "Cy Cole")["results"]
        assert [
            (c["session"], c["kind"], c["position"], c["points"], c["bonuses"]) for c in cy
        ] == [
            ("2 Hours (sprint)", "sprint", 1, 3, ["winner"]),
            ("2 Hours", "endurance", 2, 2, ["on_the_move"]),
        ]
        pdf_answer = await api.get(url, params={"format": "pdf"})
        assert pdf_answer.headers["content-type"] == "application/pdf"
        assert 'filename="Desk Series-driver.pdf"' in pdf_answer.headers["content-disposition"]
        text = _pdf_text(pdf_answer.content)
        assert "Class A" in text and "Class B" in text and "Fast Five" in text
        # the table's rows in the JSON's order, each with its points and results
        position = 0
        for row in body["rows"]:
            found = text.find(row["driver"], position)
            assert found >= 0, row["driver"]
            position = found
        assert "Desk Cup 2 Hours (sprint): P1 3 (winner)" in text
        assert "Desk Cup 2 Hours: P2 2 (On the Move)" in text
        one = _pdf_text((await api.get(url, params={"format": "pdf", "class": "B"})).content)
        assert "Di Dunn" in one and "Cy Cole" not in one
        teams = _table((await api.get(url, params={"by": "team"})).json(), "team")
        assert teams == {
            "Alder Racing": ("A", 3, 1),
            "Solo Speed": ("A", 2, 0),
            "Dunn Motorsport": ("B", 2, 1),
        }
        # a correction after the official mark: #9's lap-1 crossing was a loop fault, so
        # it has no lap at the sprint flag; both parts get an official version 2
        async with control_client(desk.srv) as control:
            deleted = await control.post(
                "/control/corrections/delete",
                data={"number": "9", "crossing_at_us": START_US + 2402 * S, "reason": "loop fault"},
            )
            assert 'data-ok="true"' in deleted.text
        await wait_until(lambda: _version(api, sprint_url, 2))
        amended = (await api.get(sprint_url)).json()
        assert (amended["official"], amended["reason"], amended["versions"]) == (
            True,
            "loop fault",
            [1, 2],
        )
        assert [(r["number"], r["laps"]) for r in amended["rows"]] == [("8", 1), ("7", 1), ("9", 0)]
        await wait_until(lambda: _version(api, results, 2))
        race = (await api.get(results)).json()
        assert (race["official"], race["reason"]) == (True, "loop fault")
        assert [(r["number"], r["laps"]) for r in race["rows"]] == [("7", 3), ("8", 3), ("9", 2)]
        class_a = _table((await api.get(url, params={"class": "A"})).json())
        assert class_a == {
            "Cy Cole": ("A", 5, 1),
            "Ann Alder": ("A", 4, 1),
            "Bob Birch": ("A", 4, 1),
        }
        trophies = await api.get("/api/v1/series/Desk Series/trophies", params={"event": EVENT})
        listed = [
            (t["session"], t["class"], t["place"], t["number"]) for t in trophies.json()["trophies"]
        ]
        assert ("2 Hours (sprint)", "A", 1, "8") in listed and ("2 Hours", "A", 1, "7") in listed


async def test_a_provisional_sprint_does_not_score(db_url: str) -> None:
    """Only official results count: the sprint classified mid-race is provisional."""
    async with race_desk(db_url, kind="sprintduro") as desk, desk.srv.client() as api:
        await _lap(desk, ["8", "7", "9"])
        sprint_url = f"/api/v1/sessions/{desk.session_id}/results?part=sprint"
        await wait_until(lambda: _version(api, sprint_url, 1))
        engine = create_engine(db_url)
        try:
            async with sessionmaker(engine)() as db:
                await series.create_series(db, "Desk Series")
                await series.add_event(db, "Desk Series", EVENT)
                stored = await repository.versions(db, desk.session_id, "sprint")
                assert [(v.part, v.official) for v in stored] == [("sprint", False)]
        finally:
            await engine.dispose()
        body = (await api.get("/api/v1/series/Desk Series/standings")).json()
        assert body["rows"] == []
        # a name a header cannot carry as it is: the exports still answer
        async with sessionmaker(engine)() as db:
            await series.create_series(db, "Coupe \u2713 d'été")
        await engine.dispose()
        for format in ("csv", "pdf"):
            answer = await api.get(f"/api/v1/series/Coupe \u2713 d'été/standings?format={format}")
            assert answer.status_code == 200, answer.text
            assert (
                f'filename="Coupe _ d__t_-driver.{format}"' in answer.headers["content-disposition"]
            )
