"""The season, public: standings per class by driver or team, a driver's own results,
the trophy list of an event (docs/season.md).

Strategy: thin routes over ``server.service.season``, which reads the official results
and scores them (pure, ``server.season``); JSON and CSV from the same rows.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import HTMLResponse, Response

from server.db.series import load_series
from server.db.sessions import NotFound
from server.season.standings import Credit, StandingRow
from server.service.season import series_standings, series_trophies
from server.service.standings_pdf import standings_pdf
from server.web.deps import DbDep, StateDep
from server.web.limits import Name

router = APIRouter(prefix="/api/v1", tags=["season"])
pages = APIRouter(include_in_schema=False)
ByQuery = Annotated[Literal["driver", "team"], Query(description="driver or team standings")]
ClassQuery = Annotated[str | None, Query(alias="class", max_length=100)]


def _file(name: str) -> str:
    """The series' name as a file name any header can carry (ASCII, no quotes)."""
    return re.sub(r"[^A-Za-z0-9._ -]", "_", name)


def _credit(credit: Credit) -> dict[str, Any]:
    return {
        "event": credit.event,
        "session": credit.session,
        "kind": credit.kind,
        "number": credit.number,
        "position": credit.position,
        "points": credit.points,
        "bonuses": list(credit.bonuses),
        "counted": credit.counted,
    }


def _row(row: StandingRow, by: str) -> dict[str, Any]:
    return {
        "position": row.position,
        "class": row.car_class,
        by: row.name,
        "points": row.points,
        "wins": row.wins,
        "results": [_credit(credit) for credit in row.results],
    }


async def _standings(
    db: DbDep, name: str, by: str, class_name: str | None
) -> dict[str, tuple[StandingRow, ...]]:
    try:
        table = await series_standings(db, name, "team" if by == "team" else "driver")
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    if class_name is not None:
        if class_name not in table:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"no class {class_name!r} has points in {name!r}"
            )
        table = {class_name: table[class_name]}
    return table


@router.get("/series/{name}/standings", responses={404: {"description": "no such series"}})
async def standings_api(
    name: Name,
    db: DbDep,
    by: ByQuery = "driver",
    class_name: ClassQuery = None,
    format: Annotated[Literal["json", "csv", "pdf"], Query()] = "json",
) -> Any:
    """The championship per class (official results only), best first: points, wins, and
    each counted result (a dropped sprint is listed with ``counted: false``); JSON, CSV
    or an A4 PDF."""
    table = await _standings(db, name, by, class_name)
    if format == "pdf":
        return Response(
            standings_pdf(name, by, table),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{_file(name)}-{by}.pdf"'},
        )
    rows = [_row(row, by) for rows in table.values() for row in rows]
    if format == "json":
        return {"series": name, "by": by, "rows": rows}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["class", "position", by, "points", "wins", "results"])
    for row in rows:
        results = "; ".join(
            f"{r['event']} {r['session']}: P{r['position']} {r['points']}"
            + ("" if r["counted"] else " (not counted)")
            for r in row["results"]
        )
        writer.writerow(
            [row["class"], row["position"], row[by], row["points"], row["wins"], results]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_file(name)}-{by}.csv"'},
    )


@router.get("/series/{name}/trophies", responses={404: {"description": "no such series"}})
async def trophies_api(
    name: Name,
    db: DbDep,
    event: Annotated[str, Query(min_length=1, max_length=200)],
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    """The top finishers of each class at ``event`` (the series' trophy depth); JSON, or
    CSV for the prize-giving."""
    try:
        listed = await series_trophies(db, name, event)
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    if format == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["session", "class", "place", "number", "team", "drivers"])
        for t in listed:
            writer.writerow(
                [t.session, t.car_class, t.place, t.number, t.team, "; ".join(t.drivers)]
            )
        filename = f"{_file(name)}-{_file(event)}-trophies.csv"
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return {
        "series": name,
        "event": event,
        "trophies": [
            {
                "session": t.session,
                "class": t.car_class,
                "place": t.place,
                "number": t.number,
                "team": t.team,
                "drivers": list(t.drivers),
            }
            for t in listed
        ],
    }


@pages.get("/series/{name}")
async def series_page(
    name: Name, db: DbDep, state: StateDep, by: ByQuery = "driver", class_name: ClassQuery = None
) -> HTMLResponse:
    everything = await _standings(db, name, by, None)
    chosen = class_name if class_name in everything else next(iter(everything), None)
    loaded = await load_series(db, name)
    context = {
        "series": name,
        "scheme": loaded.scheme,  # the legend says how points are scored
        "events": [event for _id, event, _order in loaded.events],
        "by": by,
        "classes": list(everything),
        "chosen": chosen,
        "rows": everything.get(chosen, ()) if chosen is not None else (),
    }
    return HTMLResponse(state.renderer.page("series.html", context))


@pages.get("/series/{name}/drivers/{driver}")
async def driver_page(name: Name, driver: Name, db: DbDep, state: StateDep) -> HTMLResponse:
    everything = await _standings(db, name, "driver", None)
    mine = [row for rows in everything.values() for row in rows if row.name == driver]
    if not mine:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{driver!r} has no points in {name!r}")
    context = {"series": name, "driver": driver, "rows": mine}
    return HTMLResponse(state.renderer.page("series_driver.html", context))
