"""Entries CSV import: all or nothing, row-by-row errors, re-import by car number."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository
from server.db.models import CarRow, EventRow
from server.engine.model import Entry
from server.service.entries_import import EntriesImportError, ImportReport, RowError, import_entries

SM = async_sessionmaker[AsyncSession]
EVENT = "Spring 6h"

GOOD = """number,class,team,drivers,transponder
07, A ,Double Oh Racing, Ann Lee ; Bo Diddley ,0012345
7,B,Lucky Seven,Cy Twombly,7777777;7777778
12,A,Team Twelve,,
"""


async def _entries(sm: SM, event: str = EVENT) -> list[Entry]:
    async with sm() as db:
        event_row = await repository.get_or_create_event(db, event)
        return await repository.load_entries(db, event_row.id)


async def _count(sm: SM, model: type[CarRow] | type[EventRow]) -> int:
    async with sm() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def _errors(sm: SM, text: str) -> list[RowError]:
    with pytest.raises(EntriesImportError) as caught:
        await import_entries(sm, text, EVENT)
    return list(caught.value.errors)


async def test_a_good_file(db_sessionmaker: SM) -> None:
    report = await import_entries(db_sessionmaker, GOOD, EVENT)
    assert report == ImportReport(
        event_id=report.event_id,
        cars_created=3,
        cars_updated=0,
        classes=2,
        classes_created=2,
        transponders=3,
    )
    assert str(report) == "3 cars (3 new, 0 updated), 2 classes (2 new), 3 transponders"
    assert await _entries(db_sessionmaker) == [
        Entry("07", "A", "Double Oh Racing", ("Ann Lee", "Bo Diddley"), ("0012345",)),
        Entry("7", "B", "Lucky Seven", ("Cy Twombly",), ("7777777", "7777778")),
        Entry("12", "A", "Team Twelve", (), ()),
    ]


async def test_from_a_file_with_a_bom_and_crlf(db_sessionmaker: SM, tmp_path: Path) -> None:
    path = tmp_path / "entries.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())
    await import_entries(db_sessionmaker, path, EVENT)
    assert [e.number for e in await _entries(db_sessionmaker)] == ["07", "7", "12"]
    # a str without a newline is a file name too; bytes are the content
    await import_entries(db_sessionmaker, str(path), "Other")
    await import_entries(db_sessionmaker, "\ufeff" + GOOD, "Third")
    await import_entries(db_sessionmaker, path.read_bytes(), "Fourth")
    assert await _count(db_sessionmaker, CarRow) == 12


async def test_bad_rows_are_all_reported_and_nothing_is_imported(db_sessionmaker: SM) -> None:
    text = """Number, Class, Team, Drivers, Transponder
07,A,Ok Team,Ann,100
,A,No Number,Bo,101
08,,No Class,Cy,102
09,A,,Di,103
07,B,Same Number,Ed,104
10,B,Shared Code,Fi,100
11,B,Twice,Gus;Gus,105;105
12,B,Too Many,Hal,106,surplus

13,B,Short Row
"""
    errors = await _errors(db_sessionmaker, text)
    assert [(e.row, e.column) for e in errors] == [
        (3, "number"),
        (4, "class"),
        (5, "team"),
        (6, "number"),
        (7, "transponder"),
        (8, "drivers"),
        (8, "transponder"),
        (9, None),
    ]
    assert [e.message for e in errors] == [
        "missing number",
        "missing class",
        "missing team",
        "07 also on row 2",
        "100 also on row 2 (car 07)",
        "'Gus' listed twice",
        "'105' listed twice",
        "6 fields, the header has 5",
    ]
    message = str(EntriesImportError(errors))
    assert message.startswith("8 error(s), nothing imported:")
    assert "row 3, number: missing number" in message and "row 9: 6 fields" in message
    assert await _count(db_sessionmaker, CarRow) == 0
    assert await _count(db_sessionmaker, EventRow) == 0  # not even the event


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("number,class,team,drivers\n1,A,T,D\n", "missing transponder"),
        ("number,class,team,drivers,transponder,car\n", "unknown column 'car'"),
        ("number,class,team,team,drivers,transponder\n", "team twice"),
        (b"number,class,team,drivers,transponder\n1,A,Caf\xe9,,\n", "not UTF-8"),
        ('number,class,team,drivers,transponder\n1,A,"T"x,,\n', "not valid CSV"),
        ("number,class,team,drivers,transponder\n1,A,T\x00,,\n", "control character"),
    ],
)
async def test_bad_files(db_sessionmaker: SM, text: str | bytes, message: str) -> None:
    if isinstance(text, str):
        text += "\n"  # always content, never a file name
    with pytest.raises(EntriesImportError, match=message) as caught:
        await import_entries(db_sessionmaker, text, EVENT)
    assert [e.row for e in caught.value.errors] in ([1], [2])


async def test_reimport_updates_cars_by_number(db_sessionmaker: SM) -> None:
    await import_entries(db_sessionmaker, GOOD, EVENT)
    again = """number,class,team,drivers,transponder
7,C,Lucky Seven Racing,Cy Twombly;Dee Dee,0012345
07,A,Double Oh Racing,Bo Diddley,7777777
99,C,Newcomers,Ike,999
"""
    report = await import_entries(db_sessionmaker, again, EVENT)
    assert (report.cars_created, report.cars_updated) == (1, 2)
    assert (report.classes, report.classes_created, report.transponders) == (2, 1, 3)
    # the two cars swapped a transponder; car 12 is not in the file and is left alone
    assert await _entries(db_sessionmaker) == [
        Entry("07", "A", "Double Oh Racing", ("Bo Diddley",), ("7777777",)),
        Entry("7", "C", "Lucky Seven Racing", ("Cy Twombly", "Dee Dee"), ("0012345",)),
        Entry("12", "A", "Team Twelve", (), ()),
        Entry("99", "C", "Newcomers", ("Ike",), ("999",)),
    ]


async def test_a_transponder_of_another_car_of_the_event(db_sessionmaker: SM) -> None:
    await import_entries(db_sessionmaker, GOOD, EVENT)
    text = "number,class,team,drivers,transponder\n70,A,Late Entry,Jo,7777778\n"
    errors = await _errors(db_sessionmaker, text)
    assert errors == [RowError(2, "transponder", "7777778 is already assigned to car 7")]
    assert len(await _entries(db_sessionmaker)) == 3
    # the same code in another event is no conflict
    await import_entries(db_sessionmaker, text, "Another Event")
    assert [e.transponders for e in await _entries(db_sessionmaker, "Another Event")] == [
        ("7777778",)
    ]


async def test_numbers_and_codes_stay_strings(db_sessionmaker: SM) -> None:
    text = "number,class,team,drivers,transponder\n007,A,Bond,James,00042\n7,A,Seven,S,42\n"
    await import_entries(db_sessionmaker, text, EVENT)
    entries = await _entries(db_sessionmaker)
    assert [(e.number, e.transponders) for e in entries] == [("007", ("00042",)), ("7", ("42",))]
