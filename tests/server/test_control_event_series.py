"""``/control/event``'s series forms over a real server (docs/season.md): create a series
with a preset and its parameters, class bands and the equivalency table (form and CSV),
count the event, award On the Move (race control, or a steward from the stewards' page),
and class a car by hand with a note. Each happy path is audited; each refusal answers
4xx with the reason on the page and changes nothing."""

from __future__ import annotations

import html
from typing import Any

import httpx
from sqlalchemy import select

from server.db import series
from server.db.connection import create_engine, sessionmaker
from server.db.models import AuditRow, CarRow, SeriesAwardRow
from server.engine.events import EntryChanged
from tests.fixtures.browser import SQLITE_DB, race_databases
from tests.fixtures.pit_desk import (
    EVENT,
    STEWARD,
    STEWARD_PASSWORD,
    Desk,
    add_steward,
    browser_client,
    control_client,
    log_in,
    race_desk,
)

NAME = "IMG 2027"


async def _db(db_url: str, work: Any) -> Any:
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            return await work(db)
    finally:
        await engine.dispose()


async def _audit(db_url: str, action: str) -> list[dict[str, Any]]:
    async def read(db: Any) -> list[dict[str, Any]]:
        rows = await db.scalars(select(AuditRow).where(AuditRow.action == action))
        return [{"actor": row.actor, **row.detail} for row in rows]

    return await _db(db_url, read)


def _refused(answer: httpx.Response, reason: str, code: int = 422) -> None:
    assert answer.status_code == code, answer.text
    assert reason in html.unescape(answer.text), answer.text


async def _create(control: httpx.AsyncClient, **form: str) -> httpx.Response:
    return await control.post("/control/event/series", data={"event": EVENT, **form})


def _bands(*rows: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "event": EVENT,
        "series_name": NAME,
        "band_name": [r[0] for r in rows],
        "band_low": [r[1] for r in rows],
        "band_high": [r[2] for r in rows],
    }


@race_databases(SQLITE_DB)
async def test_a_series_is_created_with_its_preset_and_parameters(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        made = await _create(
            control, name=NAME, preset="club-20", table="25, 18, 15", trophy_depth="5"
        )
        assert made.status_code == 303 and "series=IMG+2027" in made.headers["location"]
        page = await control.get(made.headers["location"])
        assert "places 25-18-15" in page.text and "trophies to the top 5" in page.text
        every = await _create(control, name="Club", every_sprint="true", winner_bonus="2")
        assert every.status_code == 303

        async def load(db: Any) -> Any:
            return await series.load_series(db, NAME), await series.load_series(db, "Club")

        club, img = await _db(db_url, load)
        assert (club.scheme.table, club.scheme.trophy_depth) == ((25, 18, 15), 5)
        assert (img.scheme.table, img.scheme.best_sprints_counted) == (None, None)
        assert (img.scheme.winner_bonus, img.scheme.fast_five_bonus) == (2, 1)
        audited = await _audit(db_url, "series.create")
        assert [(a["actor"], a["series"], a["preset"]) for a in audited] == [
            ("rc", NAME, "club-20"),
            ("rc", "Club", "img"),
        ]
        assert audited[0]["table"] == [25, 18, 15]


@race_databases(SQLITE_DB)
async def test_a_bad_series_is_refused_with_the_reason(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        _refused(
            await _create(control, name=NAME, table="20, 20, 15"),
            "the points table is not decreasing: place 1 scores 20, place 2 scores 20",
        )
        _refused(await _create(control, name=NAME, preset="f1"), "no points preset 'f1'")
        _refused(await _create(control, name=NAME, step="two"), "step: 'two' is not a whole")
        _refused(await _create(control, name=NAME, winner_bonus="-1"), "points cannot be negative")
        _refused(await _create(control, name=NAME, best_sprints_counted="0"), "at least 1")
        assert (await _create(control, name=NAME)).status_code == 303
        _refused(await _create(control, name=NAME), "a series called 'IMG 2027' exists already")
        assert len(await _audit(db_url, "series.create")) == 1


@race_databases(SQLITE_DB)
async def test_class_bands_by_form_and_csv_and_their_refusals(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        await _create(control, name=NAME)
        url = "/control/event/series/classes"
        saved = await control.post(
            url, data=_bands(("A", "0", "40"), ("B", "40", "80"), ("", "", ""))
        )
        assert saved.status_code == 303
        _refused(
            await control.post(url, data=_bands(("A", "0", "50"), ("B", "40", "80"))),
            "class bands A (0-50) and B (40-80) overlap",
        )
        _refused(await control.post(url, data=_bands(("A", "x", "40"))), "must be numbers")
        _refused(await control.post(url, data=_bands(("A", "50", "40"))), "is not below 40")
        _refused(
            await control.post(url, data={**_bands(("A", "0", "1")), "series_name": "Nope"}),
            "no series called 'Nope'",
            404,
        )

        upload = f"{url}/upload?csrf_token={control.headers['X-CSRF-Token']}"
        form = {"event": EVENT, "series_name": NAME}

        def csv(text: bytes) -> dict[str, Any]:
            return {"file": ("bands.csv", text, "text/csv")}

        taken = await control.post(
            upload, data=form, files=csv(b"class,low,high\nA,0,30\nB,30,60\nC,60,90\n")
        )
        assert taken.status_code == 303
        _refused(
            await control.post(upload, data=form, files=csv(b"name,low\nA,0\n")),
            "line 2: expected class,low,high",
        )
        _refused(
            await control.post(upload, data=form, files=csv(b"class,low,high\nA,0,30\nB,20,60\n")),
            "overlap",
        )
        _refused(await control.post(upload, data=form, files=csv(b"\xff\xfe\x00")), "not UTF-8")

        loaded = await _db(db_url, lambda db: series.load_series(db, NAME))
        assert [(b.name, b.low, b.high) for b in loaded.bands] == [
            ("A", 0, 30), ("B", 30, 60), ("C", 60, 90),
        ]  # fmt: skip
        audited = await _audit(db_url, "series.classes")
        assert audited[0]["form"] == ["A 0-40", "B 40-80"]
        assert audited[1]["csv"] == ["A 0-30", "B 30-60", "C 60-90"]
        assert len(audited) == 2


@race_databases(SQLITE_DB)
async def test_the_equivalency_table_by_form_and_csv_and_its_refusals(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        await _create(control, name=NAME)
        await control.post(
            "/control/event/series/classes", data=_bands(("A", "0", "40"), ("B", "40", "80"))
        )
        url = "/control/event/series/equivalency"

        def rows(*given: tuple[str, str, str]) -> dict[str, Any]:
            return {
                "event": EVENT,
                "series_name": NAME,
                "body": [g[0] for g in given],
                "their_class": [g[1] for g in given],
                "our_class": [g[2] for g in given],
            }

        saved = await control.post(
            url, data=rows(("NASA", "E1", "A"), ("SCCA", "T2", "B"), ("", "", ""))
        )
        assert saved.status_code == 303
        _refused(
            await control.post(url, data=rows(("NASA", "E1", "Z"))),
            "NASA class E1 maps to Z, which is not one of the series' classes (A, B)",
        )
        _refused(await control.post(url, data=rows(("NASA", "", "A"))), "row 1: give the body")
        upload = f"{url}/upload?csrf_token={control.headers['X-CSRF-Token']}"
        form = {"event": EVENT, "series_name": NAME}
        bad = {"file": ("eq.csv", b"body,class\nNASA,A\n", "text/csv")}
        _refused(
            await control.post(upload, data=form, files=bad), "expected body,their_class,class"
        )
        unknown = {"file": ("eq.csv", b"body,their_class,class\nNASA,E2,Q\n", "text/csv")}
        _refused(await control.post(upload, data=form, files=unknown), "maps to Q")
        good = {"file": ("eq.csv", b"body,their_class,class\nNASA,E2,B\n", "text/csv")}
        assert (await control.post(upload, data=form, files=good)).status_code == 303

        page = await control.get(f"/control/event?series={NAME}")
        assert 'value="E2"' in page.text
        loaded = await _db(db_url, lambda db: series.load_series(db, NAME))
        assert loaded.equivalency == {("NASA", "E2"): "B"}
        audited = await _audit(db_url, "series.equivalency")
        assert [a.get("form") or a.get("csv") for a in audited] == [
            ["NASA E1 -> A", "SCCA T2 -> B"],
            ["NASA E2 -> B"],
        ]


async def _in_series(control: httpx.AsyncClient) -> None:
    await _create(control, name=NAME)
    added = await control.post(
        "/control/event/series/events", data={"event": EVENT, "series_name": NAME}
    )
    assert added.status_code == 303


@race_databases(SQLITE_DB)
async def test_the_event_counts_in_a_series_once(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        await _in_series(control)
        page = await control.get("/control/event")
        assert f"{EVENT} counts in {NAME}." in page.text
        _refused(
            await control.post(
                "/control/event/series/events", data={"event": EVENT, "series_name": NAME}
            ),
            "is in series 'IMG 2027' already",
        )
        _refused(
            await control.post(
                "/control/event/series/events", data={"event": "Nowhere", "series_name": NAME}
            ),
            "no event called 'Nowhere'",
            404,
        )
        assert await _audit(db_url, "series.event") == [
            {"actor": "rc", "series": NAME, "event": EVENT, "order": 1}
        ]


async def _awards(db_url: str) -> list[tuple[str, str, str]]:
    async def read(db: Any) -> list[tuple[str, str, str]]:
        rows = await db.scalars(select(SeriesAwardRow).order_by(SeriesAwardRow.id))
        return [(r.class_name, r.car_number, r.awarded_by) for r in rows]

    return await _db(db_url, read)


@race_databases(SQLITE_DB)
async def test_on_the_move_is_checked_against_the_entries(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        url = "/control/event/series/award"
        award = {"session_id": str(desk.session_id), "class_name": "A", "number": "8"}
        _refused(await control.post(url, data=award), "is in no series: add it to one first")
        await _in_series(control)
        _refused(await control.post(url, data={**award, "number": "99"}), "car 99 is not entered")
        _refused(
            await control.post(url, data={**award, "number": "9"}), "car 9 runs in class B, not A"
        )
        assert (await control.post(url, data={**award, "session_id": "999"})).status_code == 404
        given = await control.post(url, data={**award, "series_name": NAME})
        assert given.status_code == 303
        page = await control.get(given.headers["location"])
        assert "On the Move in class A: car 8" in page.text
        assert await _awards(db_url) == [("A", "8", "rc")]
        assert await _audit(db_url, "series.on_the_move") == [
            {"actor": "rc", "session": desk.session_id, "class": "A", "car": "8"}
        ]


@race_databases(SQLITE_DB)
async def test_a_steward_awards_on_the_move_from_the_stewards_page(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        await _in_series(control)
        await add_steward(db_url)
        async with browser_client(desk.srv) as steward:
            await log_in(steward, STEWARD, STEWARD_PASSWORD)
            page = await steward.get("/stewards")
            assert 'hx-post="/control/event/series/award"' in page.text
            htmx = {"HX-Request": "true"}
            award = {"session_id": str(desk.session_id), "class_name": "B", "number": "7"}
            refused = await steward.post("/control/event/series/award", data=award, headers=htmx)
            assert refused.status_code == 200 and 'data-ok="false"' in refused.text
            assert "car 7 runs in class A, not B" in html.unescape(refused.text)
            given = await steward.post(
                "/control/event/series/award", data={**award, "number": "9"}, headers=htmx
            )
            assert 'data-ok="true"' in given.text and "car 9" in given.text
            # without htmx (no script): back to the stewards' page, not race control's
            plain = {**award, "class_name": "A", "number": "7"}
            again = await steward.post("/control/event/series/award", data=plain)
            assert again.status_code == 303 and again.headers["location"] == "/stewards"
            # a steward sets no series up
            create = await steward.post("/control/event/series", data={"event": EVENT, "name": "X"})
            assert create.status_code == 403
        assert await _awards(db_url) == [("B", "9", STEWARD), ("A", "7", STEWARD)]


async def _car(db_url: str, number: str) -> tuple[int, str | None]:
    async def read(db: Any) -> tuple[int, str | None]:
        car = await db.scalar(select(CarRow).where(CarRow.number == number))
        return car.class_id, car.class_note

    return await _db(db_url, read)


async def _changed(desk: Desk, number: str) -> list[EntryChanged]:
    return [
        e for e in await desk.journal() if isinstance(e, EntryChanged) and e.entry.number == number
    ]


@race_databases(SQLITE_DB)
async def test_a_car_is_classed_by_hand_with_a_note_journaled(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        url = "/control/event/entries/class"
        form = {"event": EVENT, "number": "8", "class_name": "B", "note": "new engine, scrutineer"}
        done = await control.post(url, data=form)
        assert done.status_code == 303
        page = await control.get(done.headers["location"])
        assert "by hand: new engine, scrutineer" in page.text
        assert (await _car(db_url, "8"))[1] == "by hand: new engine, scrutineer"
        changed = await _changed(desk, "8")
        assert [(e.entry.class_name, e.actor) for e in changed] in (
            [("B", "rc")],
            [("B", "import")],  # the entry watch (every 2 s) may journal it first
        )
        assert next(r for r in desk.race.standings() if r.number == "8").class_name == "B"
        assert await _audit(db_url, "entries.class") == [
            {"actor": "rc", "event": EVENT, "car": "8", "from": "A", "to": "B",
             "note": "new engine, scrutineer"},
        ]  # fmt: skip

        # changing the car's transponder keeps its class and the note; a new class drops it
        car = {"event": EVENT, "number": "8", "class_name": "B", "team": "Solo Speed"}
        edit = await control.post("/control/event/entries", data={**car, "transponder": "118"})
        assert edit.status_code == 303
        assert (await _car(db_url, "8"))[1] == "by hand: new engine, scrutineer"
        moved = await control.post("/control/event/entries", data={**car, "class_name": "A"})
        assert moved.status_code == 303 and (await _car(db_url, "8"))[1] is None

        _refused(await control.post(url, data={**form, "number": "99"}), "no car 99", 404)
        _refused(await control.post(url, data={**form, "note": "   "}), "a note saying why")
        assert (await control.post(url, data={**form, "note": ""})).status_code == 422
        assert [e.entry.class_name for e in await _changed(desk, "8")] == ["B", "B", "A"]


@race_databases(SQLITE_DB)
async def test_the_series_forms_need_the_csrf_token(db_url: str) -> None:
    async with race_desk(db_url) as desk, control_client(desk.srv) as control:
        token = control.headers.pop("X-CSRF-Token")
        page = await control.get("/control/event")
        assert (
            'id="series-create"' in page.text and f'name="csrf_token" value="{token}"' in page.text
        )
        form = {"event": EVENT, "name": NAME}
        assert (await control.post("/control/event/series", data=form)).status_code == 403
        wrong = {**form, "csrf_token": "0" * 64}
        assert (await control.post("/control/event/series", data=wrong)).status_code == 403
        upload = "/control/event/series/classes/upload"
        files = {"file": ("b.csv", b"class,low,high\nA,0,1\n", "text/csv")}
        data = {"event": EVENT, "series_name": NAME}
        assert (await control.post(upload, data=data, files=files)).status_code == 403
        assert await _audit(db_url, "series.create") == []
        taken = await control.post("/control/event/series", data={**form, "csrf_token": token})
        assert taken.status_code == 303
