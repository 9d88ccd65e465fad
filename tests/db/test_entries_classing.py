"""Classes by performance index at entry, on SQLite and PostgreSQL: the entries CSV's
``pi`` and ``other_class`` columns class a car by the series' bands or its equivalency
table; a class given by hand wins and is noted; a car no table places is refused with
the reason, one line of the report, and nothing is imported."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository, series
from server.db.models import CarRow
from server.season.classes import ClassBand
from server.service.entries_import import EntriesImportError, RowError, import_entries

SM = async_sessionmaker[AsyncSession]
EVENT = "Spring 6h"
HEADER = "number,class,team,drivers,transponder,pi,other_class\n"


async def _series(sm: SM) -> None:
    """IMG: A 0-40, B 40-50, C 50-60; NASA E1 -> B, SCCA T3 -> C; counts Spring 6h."""
    async with sm() as db:
        await repository.get_or_create_event(db, EVENT)
        await series.create_series(db, "IMG")
        bands = [ClassBand("A", 0, 40), ClassBand("B", 40, 50), ClassBand("C", 50, 60)]
        await series.set_classes(db, "IMG", bands)
        await series.set_equivalency(db, "IMG", {("NASA", "E1"): "B", ("SCCA", "T3"): "C"})
        await series.add_event(db, "IMG", EVENT)


async def _cars(sm: SM) -> dict[str, tuple[str, float | None, str | None, str | None]]:
    """number -> (class, pi, other_class, class_note)."""
    async with sm() as db:
        event = await repository.get_or_create_event(db, EVENT)
        entries = {e.number: e.class_name for e in await repository.load_entries(db, event.id)}
        rows = await db.scalars(select(CarRow).where(CarRow.event_id == event.id))
        return {
            row.number: (entries[row.number], row.pi, row.other_class, row.class_note)
            for row in rows
        }


async def _errors(sm: SM, text: str, event: str = EVENT) -> list[RowError]:
    with pytest.raises(EntriesImportError) as caught:
        await import_entries(sm, text, event)
    return list(caught.value.errors)


async def test_classed_by_index_and_equivalency(db_sessionmaker: SM) -> None:
    await _series(db_sessionmaker)
    report = await import_entries(
        db_sessionmaker,
        HEADER + "1,,Alpha,Ann,101,43.5,\n"
        "2,,Beta,Bo,102,,NASA:E1\n"
        "3,C,Gamma,Cy,103,12,\n"  # by hand over the index's A: noted
        "4,,Delta,Di,104,99,SCCA:T3\n"  # no band holds 99: the equivalency places it
        "5,B,Echo,Ed,105,45,\n",  # by hand, as the index says: nothing to note
        EVENT,
    )
    assert (report.cars_created, report.classed) == (5, 3)
    assert report.notes == ("row 4, car 3: class C by hand (IMG says A (index 12 in A))",)
    assert str(report).splitlines() == [
        "5 cars (5 new, 0 updated), 2 classes (2 new), 5 transponders,"
        " 3 classed by the series' tables",
        "row 4, car 3: class C by hand (IMG says A (index 12 in A))",
    ]
    assert await _cars(db_sessionmaker) == {
        "1": ("B", 43.5, None, "index 43.5 in B"),
        "2": ("B", None, "NASA:E1", "NASA E1 -> B"),
        "3": ("C", 12.0, None, "by hand (IMG says A (index 12 in A))"),
        "4": ("C", 99.0, "SCCA:T3", "SCCA T3 -> C"),
        "5": ("B", 45.0, None, "by hand (IMG says B (index 45 in B))"),
    }
    # the series' bands change: a re-import classes the car anew
    async with db_sessionmaker() as db:
        bands = [ClassBand("A", 0, 44), ClassBand("B", 44, 50), ClassBand("C", 50, 60)]
        await series.set_classes(db, "IMG", bands)
    again = await import_entries(db_sessionmaker, HEADER + "1,,Alpha,Ann,101,43.5,\n", EVENT)
    assert (again.cars_updated, again.classed, again.notes) == (1, 1, ())
    assert (await _cars(db_sessionmaker))["1"] == ("A", 43.5, None, "index 43.5 in A")


async def test_a_car_no_table_places_is_refused_with_the_reason(db_sessionmaker: SM) -> None:
    await _series(db_sessionmaker)
    errors = await _errors(
        db_sessionmaker,
        HEADER + "1,,Alpha,Ann,101,99,\n"
        "2,,Beta,Bo,102,,NASA:Z9\n"
        "3,,Gamma,Cy,103,fast,\n"
        "4,,Delta,Di,104,,NASA\n"
        "5,,Echo,Ed,105,,\n"
        "6,,Fox,Fay,106,70,ACME:X\n"
        "7,A,Golf,Gus,107,42,\n",  # by hand: fine, noted
    )
    assert [str(error) for error in errors] == [
        "row 2, pi: no class: performance index 99 is in none of the series' classes",
        "row 3, other_class: no class: NASA class Z9 has no equivalent class",
        "row 4, pi: not a number: 'fast'",
        "row 5, other_class: expected BODY:CLASS (NASA:E1): 'NASA'",
        "row 6, class: missing class",
        "row 7, pi: no class: performance index 70 is in none of the series' classes;"
        " ACME class X has no equivalent class",
    ]
    async with db_sessionmaker() as db:  # all or nothing
        assert await db.scalar(select(func.count()).select_from(CarRow)) == 0


async def test_an_event_in_no_series_needs_its_class(db_sessionmaker: SM) -> None:
    errors = await _errors(db_sessionmaker, HEADER + "1,,Alpha,Ann,101,43.5,\n")
    assert [str(error) for error in errors] == [
        f"row 2, class: no class: {EVENT} is in no series with class bands; give its class"
    ]
    report = await import_entries(db_sessionmaker, HEADER + "1,A,Alpha,Ann,101,43.5,\n", EVENT)
    assert (report.classed, report.notes) == (0, ())
    assert await _cars(db_sessionmaker) == {"1": ("A", 43.5, None, "by hand")}


async def test_the_old_header_still_imports(db_sessionmaker: SM) -> None:
    await _series(db_sessionmaker)
    text = "number,class,team,drivers,transponder\n1,A,Alpha,Ann,101\n"
    report = await import_entries(db_sessionmaker, text, EVENT)
    assert (report.cars_created, report.classed) == (1, 0)
    assert await _cars(db_sessionmaker) == {"1": ("A", None, None, None)}
