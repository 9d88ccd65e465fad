"""The championship from official results, through the public API and pages, on SQLite
and PostgreSQL: only official versions count, an amended version changes the points, the
stewards' On the Move award and Fast Five come through, and bad asks are 404s.

Hand-worked (IMG scheme), class A:
  Spring race (official): #1 1st of 3 finishers 3+1 = 4; #2 2nd 2 + On the Move = 3;
      #3 3rd 1 + Fast Five (laps 110.0 s x5: spread 0) = 2.
  Summer race (official): #2 1st of 2 finishers 2+1 = 3; #1 2nd 1; #3 DNF (a starter) 1.
  Autumn race: provisional at first (not counted), then official: #3 1st 3+1 = 4,
      #1 2nd 2, #2 3rd 1; then version 3 (a late penalty) swaps #1 and #2.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from server.db import repository, series
from server.db.connection import create_engine, sessionmaker
from server.service.results import ResultRow, rows_json
from tests.fixtures.app_server import running_server

AT = datetime(2027, 5, 1, 18, 0, tzinfo=UTC)
TEAMS = {"1": ("Red", ("Ann", "Bob")), "2": ("Blue", ("Cat",)), "3": ("Green", ("Dan",))}
S = 1_000_000


def row(number: str, position: int, status: str = "running", laps_s: float = 0) -> ResultRow:
    team, drivers = TEAMS[number]
    fastest = tuple(round(laps_s * S) for _ in range(5)) if laps_s else ()
    return ResultRow(
        position, number, "A", position, team, drivers, 30, None, None, 0, None, 0,
        None, 0, None, 0, None, None, 1, "", status, fastest,
    )  # fmt: skip


async def store(db_url: str, event: str, rows: list[ResultRow], official: bool) -> int:
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            session = await repository.create_session(db, event, "race", "Race", 120)
            version = await repository.add_version(
                db, session.id, rows_json(rows), reason="session finished", actor="engine",
                seq=1, at=AT,
            )  # fmt: skip
            if official:
                await repository.sign_official(db, version, "steward", "", AT)
            return session.id
    finally:
        await engine.dispose()


async def amend(db_url: str, session_id: int, rows: list[ResultRow], official: bool) -> None:
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            version = await repository.add_version(
                db, session_id, rows_json(rows), reason="late penalty", actor="steward",
                seq=2, at=AT,
            )  # fmt: skip
            if official:
                await repository.sign_official(db, version, "steward", "signed", AT)
    finally:
        await engine.dispose()


async def set_up_series(db_url: str, spring_id: int) -> None:
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            await series.create_series(db, "IMG 2027")
            for event in ("Spring", "Summer", "Autumn"):
                await series.add_event(db, "IMG 2027", event)
            await series.award_on_the_move(db, spring_id, "A", "2", "steward")
    finally:
        await engine.dispose()


def points(body: dict[str, object], by: str = "driver") -> list[tuple[int, str, int, int]]:
    rows = body["rows"]
    assert isinstance(rows, list)
    return [(r["position"], r[by], r["points"], r["wins"]) for r in rows]


async def test_the_championship_follows_the_official_results(db_url: str) -> None:
    spring = await store(
        db_url, "Spring", [row("1", 1), row("2", 2), row("3", 3, laps_s=110)], official=True
    )
    await store(db_url, "Summer", [row("2", 1), row("1", 2), row("3", 3, "DNF")], official=True)
    autumn = await store(db_url, "Autumn", [row("3", 1), row("1", 2), row("2", 3)], official=False)
    await set_up_series(db_url, spring)
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            token = await repository.create_token(db, "control", "season test")
    finally:
        await engine.dispose()
    async with (
        running_server(db_url, token) as srv,
        httpx.AsyncClient(base_url=srv.base_url) as web,
    ):
        url = "/api/v1/series/IMG 2027/standings"
        # Autumn is provisional: it does not count yet (Ann and Bob tie: by name)
        assert points((await web.get(url)).json()) == [
            (1, "Cat", 6, 1), (2, "Ann", 5, 1), (3, "Bob", 5, 1), (4, "Dan", 3, 0),
        ]  # fmt: skip
        await amend(db_url, autumn, [row("3", 1), row("1", 2), row("2", 3)], official=True)
        body = (await web.get(url)).json()
        # Ann/Bob 4+1+2, Cat 3+3+1, Dan 2+1+4: all 7 with one win each; then second
        # places: Ann and Bob two (Summer, Autumn), Cat one (Spring), Dan none
        assert points(body) == [
            (1, "Ann", 7, 1), (2, "Bob", 7, 1), (3, "Cat", 7, 1), (4, "Dan", 7, 1),
        ]  # fmt: skip
        spring_credit = next(r for r in body["rows"] if r["driver"] == "Cat")["results"][0]
        assert spring_credit["bonuses"] == ["on_the_move"]
        dan = next(r for r in body["rows"] if r["driver"] == "Dan")["results"]
        assert [(c["event"], c["points"], c["bonuses"]) for c in dan] == [
            ("Spring", 2, ["fast_five"]), ("Summer", 1, []), ("Autumn", 4, ["winner"]),
        ]  # fmt: skip
        # version 3 of Autumn, official: a late penalty swaps #1 and #2
        await amend(db_url, autumn, [row("3", 1), row("2", 2), row("1", 3)], official=True)
        table = {name: pts for _pos, name, pts, _w in points((await web.get(url)).json())}
        assert table == {"Ann": 6, "Bob": 6, "Cat": 8, "Dan": 7}
        teams = (await web.get(url, params={"by": "team"})).json()
        assert points(teams, "team") == [(1, "Blue", 8, 1), (2, "Green", 7, 1), (3, "Red", 6, 1)]
        csv_text = (await web.get(url, params={"format": "csv"})).text
        assert csv_text.splitlines()[0] == "class,position,driver,points,wins,results"
        assert "A,1,Cat,8,1," in csv_text
        trophies = (await web.get("/api/v1/series/IMG 2027/trophies?event=Autumn")).json()
        assert [(t["place"], t["number"]) for t in trophies["trophies"]] == [
            (1, "3"), (2, "2"), (3, "1"),
        ]  # fmt: skip
        trophy_csv = await web.get("/api/v1/series/IMG 2027/trophies?event=Autumn&format=csv")
        assert trophy_csv.text.splitlines() == [
            "session,class,place,number,team,drivers",
            "Race,A,1,3,Green,Dan", "Race,A,2,2,Blue,Cat", "Race,A,3,1,Red,Ann; Bob",
        ]  # fmt: skip
        assert (
            'filename="IMG 2027-Autumn-trophies.csv"' in trophy_csv.headers["content-disposition"]
        )
        page = await web.get("/series/IMG 2027")
        assert page.status_code == 200 and "Cat" in page.text and "Fast Five" in page.text
        driver = await web.get("/series/IMG 2027/drivers/Dan")
        assert driver.status_code == 200 and "fast five" in driver.text
        # bad asks: 404 with the reason, never a 500
        for bad in (
            "/api/v1/series/Nope/standings",
            f"{url}?class=Z",
            "/api/v1/series/IMG 2027/trophies?event=Nowhere",
            "/series/IMG 2027/drivers/Nobody",
        ):
            answer = await web.get(bad)
            assert answer.status_code == 404, (bad, answer.text)
            assert answer.json()["detail"]
        assert (await web.get(f"{url}?by=car")).status_code == 422


async def test_an_award_to_a_car_no_longer_in_that_class_does_not_score(db_url: str) -> None:
    """On the Move was given to #2 in class A; its class was changed by hand since, so the
    official results have no #2 in A: the award does not score and the standings stand."""
    spring = await store(db_url, "Spring", [row("1", 1), row("3", 2)], official=True)
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            await series.create_series(db, "Stale")
            await series.add_event(db, "Stale", "Spring")
            await series.award_on_the_move(db, spring, "A", "2", "steward")
            token = await repository.create_token(db, "control", "stale award")
    finally:
        await engine.dispose()
    async with (
        running_server(db_url, token) as srv,
        httpx.AsyncClient(base_url=srv.base_url) as web,
    ):
        answer = await web.get("/api/v1/series/Stale/standings")
        assert answer.status_code == 200, answer.text
        # #1 first of 2: 2 + winner 1; #3 last finisher 1; nobody has On the Move
        assert points(answer.json()) == [(1, "Ann", 3, 1), (2, "Bob", 3, 1), (3, "Dan", 1, 0)]
        assert (await web.get("/series/Stale")).status_code == 200
