"""Results versions and exports over a real server, on SQLite and PostgreSQL: a race
driven to its end (provisional version 1), signed official, then a correction giving
version 2; JSON, CSV and the PDF (its text extracted) agree; bad input answers 4xx."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import httpx
from pypdf import PdfReader

from server.cli.main import main
from server.engine.events import CarRetired
from tests.fixtures.app_server import wait_until
from tests.fixtures.pit_desk import START_US, Desk, S, control_client, race_desk


async def _lap(desk: Desk, numbers: list[str], lap_s: float) -> None:
    desk.advance(lap_s)
    for number in numbers:
        await desk.cross(number)
        desk.advance(1)


async def _has_version(api: httpx.AsyncClient, session_id: int, version: int) -> bool:
    answer = await api.get(f"/api/v1/sessions/{session_id}/results")
    return answer.status_code == 200 and answer.json()["version"] == version


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


async def _agree(api: httpx.AsyncClient, session_id: int, query: str = "") -> dict[str, Any]:
    """JSON, CSV and PDF of the same version and class say the same; the JSON."""
    base = f"/api/v1/sessions/{session_id}/results?{query}"
    body = (await api.get(base + "&format=json")).json()
    csv_answer = await api.get(base + "&format=csv")
    assert csv_answer.headers["content-type"].startswith("text/csv")
    assert csv_answer.headers["x-results-version"] == str(body["version"])
    table = list(csv.reader(io.StringIO(csv_answer.text)))
    keys = ["position", "number", "class", "class_position", "team", "drivers", "laps"]
    keys += ["total_time", "gap", "interval", "best_lap", "best_lap_number", "pit_stops"]
    keys += ["penalties", "status"]
    assert table[0][:2] == ["Pos", "No"] and len(table) == len(body["rows"]) + 1
    for line, row in zip(table[1:], body["rows"], strict=True):
        expected = [", ".join(v) if k == "drivers" else v for k, v in row.items() if k in keys]
        assert line == ["" if v is None else str(v) for v in expected]
    pdf = await api.get(base + "&format=pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = _pdf_text(pdf.content)
    label = "OFFICIAL" if body["official"] else "PROVISIONAL"
    assert f"Version {body['version']} - {label}" in text
    assert body["event"] in text and body["session"] in text
    signed = body["signed_at"][:19].replace("T", " ")
    assert f"signed {signed} UTC" in text
    position = 0
    for row in body["rows"]:  # every row's cells, in the order of the JSON
        for cell in (row["total_time"], row["gap"], row["status"], row["best_lap"]):
            if cell:
                assert cell in text
        found = text.find(row["team"], position)
        assert found >= 0, row["team"]
        position = found
    return dict(body)


async def test_results_versions_official_and_exports(db_url: str, tmp_path: Path) -> None:
    async with race_desk(db_url) as desk, desk.srv.client() as api:
        sid = desk.session_id
        running = await api.post(f"/api/v1/sessions/{sid}/official", json={"note": "x"})
        assert running.status_code == 409 and "still running" in running.json()["detail"]
        again = await api.post(f"/api/v1/sessions/{sid}/flag", json={"flag": "green"})
        assert again.status_code == 409 and "already_shown" in again.json()["detail"]
        none_yet = await api.get(f"/api/v1/sessions/{sid}/results")
        assert none_yet.status_code == 404 and "not ended" in none_yet.json()["detail"]

        # a 2 h race: three laps of 40 min; car 9 retires after two
        await _lap(desk, ["7", "8", "9"], 2400)
        await _lap(desk, ["7", "8", "9"], 2400)
        await desk.submit(CarRetired("9", desk.now(), "gearbox", "rc"))
        await _lap(desk, ["7", "8"], 2400)  # 7 takes the flag, 8 is classified
        await wait_until(lambda: _has_version(api, sid, 1))

        first = await _agree(api, sid)
        assert (first["version"], first["official"], first["reason"]) == (
            1,
            False,
            "session finished",
        )
        assert [(r["number"], r["laps"], r["status"]) for r in first["rows"]] == [
            ("7", 3, "running"),
            ("8", 3, "running"),
            ("9", 2, "DNF"),
        ]
        assert first["rows"][1]["gap"] == "+1.000"
        assert first["rows"][0]["total_time"] == "2:00:06.000"
        assert first["rows"][0]["drivers"] == ["Ann Alder", "Bob Birch"]

        signed = await api.post(f"/api/v1/sessions/{sid}/official", json={"note": "clerk"})
        assert signed.status_code == 200, signed.text
        assert (signed.json()["version"], signed.json()["official"]) == (1, True)
        twice = await api.post(f"/api/v1/sessions/{sid}/official", json={"note": "clerk"})
        assert twice.status_code == 409 and "already official" in twice.json()["detail"]
        official = await _agree(api, sid)
        assert (official["version"], official["official"], official["note"]) == (1, True, "clerk")

        # a correction after the official mark: car 8's first lap was a double read
        first_crossing = START_US + 2401 * S
        async with control_client(desk.srv) as control:
            deleted = await control.post(
                "/control/corrections/delete",
                data={"number": "8", "crossing_at_us": first_crossing, "reason": "loop fault"},
            )
            assert 'data-ok="true"' in deleted.text
        await wait_until(lambda: _has_version(api, sid, 2))
        second = await _agree(api, sid)
        assert (second["version"], second["official"], second["reason"]) == (2, True, "loop fault")
        assert second["versions"] == [1, 2]
        assert [(r["number"], r["laps"]) for r in second["rows"]] == [("7", 3), ("8", 2), ("9", 2)]
        assert second["rows"][1]["gap"] == "+1 lap"
        kept = (await api.get(f"/api/v1/sessions/{sid}/results?version=1")).json()
        assert [r["laps"] for r in kept["rows"]] == [3, 3, 2]

        in_class = await _agree(api, sid, "class=A&version=2")
        assert [(r["number"], r["class_position"]) for r in in_class["rows"]] == [
            ("7", 1),
            ("8", 2),
        ]

        page = await api.get(f"/results/{sid}")
        assert page.status_code == 200
        assert 'data-version="2"' in page.text and "OFFICIAL" in page.text
        assert "Class B" in page.text and "loop fault" in page.text

        # bad input: 4xx with the reason, nothing changes
        unknown = await api.get(f"/api/v1/sessions/{sid}/results?version=9")
        assert unknown.status_code == 404 and "versions: 1, 2" in unknown.json()["detail"]
        bad_format = await api.get(f"/api/v1/sessions/{sid}/results?format=xml")
        assert bad_format.status_code == 422
        no_class = await api.get(f"/api/v1/sessions/{sid}/results?class=Z")
        assert no_class.status_code == 404
        assert (await api.get("/api/v1/sessions/999/results")).status_code == 404
        missing = await api.post("/api/v1/sessions/999/official", json={"note": ""})
        assert missing.status_code == 404
        async with httpx.AsyncClient(base_url=desk.srv.base_url) as anonymous:
            refused = await anonymous.post(f"/api/v1/sessions/{sid}/official", json={})
            assert refused.status_code == 401
        assert await _has_version(api, sid, 2)

        # the CLI reads the same versions from the database, no server needed
        out = tmp_path / "results.csv"
        argv = ["results", str(sid), "--format", "csv", "--out", str(out), "--db", db_url]
        assert await asyncio.to_thread(main, argv) == 0
        exported = await api.get(f"/api/v1/sessions/{sid}/results?format=csv")
        assert out.read_text(encoding="utf-8") == exported.text
        pdf_out = tmp_path / "v1.pdf"
        argv = ["results", str(sid), "--format", "pdf", "--version", "1", "--out", str(pdf_out)]
        assert await asyncio.to_thread(main, [*argv, "--db", db_url]) == 0
        assert "Version 1 - OFFICIAL" in _pdf_text(pdf_out.read_bytes())
        argv = ["results", str(sid), "--version", "7", "--db", db_url]
        assert await asyncio.to_thread(main, argv) == 2  # one line: no such version

        # a correction that reopens the session (car 8 loses the crossing it finished
        # on): the version comes when it ends again (the finish timeout), with its reason
        async with control_client(desk.srv) as control:
            deleted = await control.post(
                "/control/corrections/delete",
                data={"number": "8", "crossing_at_us": START_US + 7207 * S, "reason": "ghost"},
            )
            assert 'data-ok="true"' in deleted.text
        assert desk.race.engine is not None and not desk.race.engine.status().finished
        desk.advance(601)  # past the finish timeout: the ticker classifies car 8
        await wait_until(lambda: _has_version(api, sid, 3))
        third = (await api.get(f"/api/v1/sessions/{sid}/results")).json()
        assert (third["reason"], third["official"]) == ("ghost", True)
        # the retired car 9 stays behind the cars that were still racing
        rows = [(r["number"], r["laps"], r["status"]) for r in third["rows"]]
        assert rows == [("7", 3, "running"), ("8", 1, "running"), ("9", 2, "DNF")]
