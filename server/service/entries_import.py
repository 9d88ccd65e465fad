"""Import an event's entry list from CSV: ``number,class,team,drivers,transponder``.

Strategy: all or nothing. Every row is checked first (against the file, then against
the cars already in the event) and every problem is reported with its row and column,
as a spreadsheet numbers them (the header is row 1), so the organiser fixes the file in
one pass. Only a clean file is written, in one transaction. Importing again updates cars
by number (class, team, drivers and transponders are replaced) and leaves cars that are
not in the file alone. Numbers and transponder codes stay strings: "07" is not "7".
Optional columns ``licence_expires`` and ``medical_expires`` give each driver's dates (in
the order of ``drivers``); with them, a driver whose licence or medical is missing or
expired on the event date is flagged to race control and refused at a driver change.
Optional columns ``pi`` (the car's performance index) and ``other_class`` (its class with
another sanctioning body, ``BODY:CLASS``) class the car when the event belongs to a series
with class bands (docs/season.md): by the index, else by the equivalency table; a value in
``class`` still wins, and the report notes what the tables would have said. A car no table
places (and with no ``class``) is an error of its row, with the reason.
A transponder code must be one the decoders can report (``code_forms``: by default any kind
of decoder racecontrol reads; a P3 decoder, say, reports only numbers), or the car would
never be timed.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import CarRow, ClassRow, DriverRow, TransponderRow
from server.db.series import Series, series_of_event
from server.db.sessions import ensure_event
from server.season.classes import CarClassing, class_of
from server.season.scheme import SchemeError
from timing_adapters.registry import CODE_FORMS, CodeForm, unreportable

COLUMNS = ("number", "class", "team", "drivers", "transponder")
# optional: ISO dates separated by ";" in the order of ``drivers`` (empty = not on file)
LICENCE_COLUMNS = ("licence_expires", "medical_expires")
# optional: the performance index, and another body's class as BODY:CLASS (docs/season.md)
CLASSING_COLUMNS = ("pi", "other_class")
HEADER = ",".join(COLUMNS)
# the database's column sizes: checked here so both backends refuse the same files
MAX_LENGTH = {"number": 16, "class": 100, "team": 200, "drivers": 200, "transponder": 32}


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # as a spreadsheet shows it: 1 is the header
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.column is None else f"row {self.row}, {self.column}"
        return f"{where}: {self.message}"


class EntriesImportError(ValueError):
    """The file has errors; nothing was imported."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = tuple(errors)
        lines = "\n".join(f"  {error}" for error in self.errors)
        super().__init__(f"{len(self.errors)} error(s), nothing imported:\n{lines}")


@dataclass(frozen=True, slots=True)
class ImportReport:
    event_id: int
    cars_created: int
    cars_updated: int
    classes: int  # distinct classes in the file
    classes_created: int
    transponders: int  # codes assigned by this import
    classed: int = 0  # cars classed by a series' index bands or equivalency table
    notes: tuple[str, ...] = ()  # a class given by hand over what the tables say

    def __str__(self) -> str:
        cars = self.cars_created + self.cars_updated
        text = (
            f"{cars} cars ({self.cars_created} new, {self.cars_updated} updated), "
            f"{self.classes} classes ({self.classes_created} new), "
            f"{self.transponders} transponders"
        )
        if self.classed:
            text += f", {self.classed} classed by the series' tables"
        return "\n".join([text, *self.notes])


@dataclass(frozen=True, slots=True)
class _Car:
    row: int
    number: str
    class_name: str
    team: str
    drivers: tuple[str, ...]
    transponders: tuple[str, ...]
    # per driver (licence expiry, medical expiry); None when the file has no licence columns
    licences: tuple[tuple[date | None, date | None], ...] | None = None
    pi: float | None = None  # performance index
    other: tuple[str, str] | None = None  # (body, their class)
    class_note: str | None = None  # how the class was found (a series' table, or by hand)


def _dates(
    row: int, column: str, value: str, drivers: int, errors: list[RowError]
) -> list[date | None]:
    """One date (or None) per driver from ``2027-03-31;;2026-12-01``."""
    parts = [part.strip() for part in value.split(";")] if value.strip() else [""] * drivers
    if len(parts) != drivers:
        errors.append(RowError(row, column, f"{len(parts)} dates for {drivers} drivers"))
        return [None] * drivers
    out: list[date | None] = []
    for part in parts:
        try:
            out.append(date.fromisoformat(part) if part else None)
        except ValueError:
            errors.append(RowError(row, column, f"not a date (YYYY-MM-DD): {part!r}"))
            out.append(None)
    return out


def _read_text(source: str | Path | bytes) -> str:
    """A ``Path`` or a str without a newline is a file name; other str or bytes are CSV."""
    if isinstance(source, str) and "\n" not in source:
        source = Path(source)
    if isinstance(source, Path):
        source = source.read_bytes()
    if isinstance(source, bytes):
        try:
            return source.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            row = source.count(b"\n", 0, exc.start) + 1
            raise EntriesImportError([RowError(row, None, "not UTF-8 text")]) from None
    return source.removeprefix("\ufeff")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _index(row: int, value: str, errors: list[RowError]) -> float | None:
    if not value:
        return None
    try:
        index = float(value)
    except ValueError:
        index = math.nan
    if not math.isfinite(index):
        errors.append(RowError(row, "pi", f"not a number: {value!r}"))
        return None
    return index


def _other(row: int, value: str, errors: list[RowError]) -> tuple[str, str] | None:
    if not value:
        return None
    body, colon, theirs = (part.strip() for part in value.partition(":"))
    if not (colon and body and theirs):
        errors.append(RowError(row, "other_class", f"expected BODY:CLASS (NASA:E1): {value!r}"))
        return None
    for part in (body, theirs):
        if len(part) > 100 or any(ord(char) < 32 or char == "\x7f" for char in part):
            errors.append(RowError(row, "other_class", f"not a class name: {part!r}"))
            return None
    return body, theirs


def _check_row(
    row: int, values: dict[str, str], forms: Sequence[CodeForm], errors: list[RowError]
) -> _Car:
    pi = _index(row, values.get("pi", ""), errors)
    other = _other(row, values.get("other_class", ""), errors)
    classed_by_table = bool(values.get("pi") or values.get("other_class"))
    for column in ("number", "class", "team"):
        if column == "class" and classed_by_table:
            continue  # the series' tables class it (or the row says why not)
        if not values[column]:
            errors.append(RowError(row, column, f"missing {column}"))
    drivers, transponders = _split(values["drivers"]), _split(values["transponder"])
    for column, items in (
        ("number", [values["number"]]),
        ("class", [values["class"]]),
        ("team", [values["team"]]),
        ("drivers", drivers),
        ("transponder", transponders),
    ):
        for item in items:
            if any(ord(char) < 32 or char == "\x7f" for char in item):
                errors.append(RowError(row, column, f"control character in {item!r}"))
            if len(item) > MAX_LENGTH[column]:
                errors.append(RowError(row, column, f"longer than {MAX_LENGTH[column]}: {item!r}"))
        for item in dict.fromkeys(item for item in items if items.count(item) > 1):
            errors.append(RowError(row, column, f"{item!r} listed twice"))
    for code in transponders:
        if (why := unreportable(code, forms)) is not None:
            errors.append(RowError(row, "transponder", why))
    licences = None
    if all(column in values for column in LICENCE_COLUMNS):
        licence, medical = (
            _dates(row, column, values[column], len(drivers), errors) for column in LICENCE_COLUMNS
        )
        licences = tuple(zip(licence, medical, strict=True))
    return _Car(
        row,
        values["number"],
        values["class"],
        values["team"],
        tuple(drivers),
        tuple(transponders),
        licences,
        pi,
        other,
    )


def _records(text: str) -> tuple[list[tuple[int, list[str]]], list[RowError]]:
    """Non-blank records, numbered from 1; a CSV syntax error ends the file there."""
    records: list[tuple[int, list[str]]] = []
    # strict: a stray quote is an error here, not a field that swallows the next rows
    reader = enumerate(csv.reader(io.StringIO(text, newline=""), strict=True), 1)
    row = 0
    try:
        for row, fields in reader:
            if any(field.strip() for field in fields):
                records.append((row, fields))
    except csv.Error as exc:
        return records, [RowError(row + 1, None, f"not valid CSV: {exc}")]
    return records, []


def _check_header(row: int, fields: list[str]) -> RowError | None:
    header = [field.strip().lower() for field in fields]
    problems = [f"missing {name}" for name in COLUMNS if name not in header]
    problems += [
        f"unknown column {name!r}"
        for name in header
        if name not in COLUMNS + LICENCE_COLUMNS + CLASSING_COLUMNS
    ]
    if any(name in header for name in LICENCE_COLUMNS) and not all(
        name in header for name in LICENCE_COLUMNS
    ):
        problems.append(f"licence columns go together: {', '.join(LICENCE_COLUMNS)}")
    problems += [f"{name} twice" for name in dict.fromkeys(header) if header.count(name) > 1]
    if not problems:
        return None
    return RowError(row, None, f"bad header ({'; '.join(problems)}): expected {HEADER}")


def _parse(text: str, forms: Sequence[CodeForm]) -> tuple[list[_Car], list[RowError]]:
    """The file's cars and every problem found in the file itself."""
    records, errors = _records(text)
    if not records:
        return [], [*errors, RowError(1, None, f"empty file: expected the header {HEADER}")]
    (header_row, header_fields), *rows = records
    if (bad_header := _check_header(header_row, header_fields)) is not None:
        return [], [bad_header]
    header = [field.strip().lower() for field in header_fields]
    cars: list[_Car] = []
    for row, fields in rows:
        if any(field.strip() for field in fields[len(header) :]):
            message = f"{len(fields)} fields, the header has {len(header)}"
            errors.append(RowError(row, None, message))
            continue
        # short rows have blank trailing columns (spreadsheets drop trailing commas)
        values = [field.strip() for field in (fields + [""] * len(header))[: len(header)]]
        cars.append(_check_row(row, dict(zip(header, values, strict=True)), forms, errors))
    by_number: dict[str, _Car] = {}
    by_code: dict[str, _Car] = {}
    for car in cars:
        if car.number and (first := by_number.setdefault(car.number, car)) is not car:
            errors.append(RowError(car.row, "number", f"{car.number} also on row {first.row}"))
        for code in dict.fromkeys(car.transponders):
            if (owner := by_code.setdefault(code, car)) is not car:
                message = f"{code} also on row {owner.row} (car {owner.number})"
                errors.append(RowError(car.row, "transponder", message))
    return cars, errors


async def _check_against_event(
    db: AsyncSession, event_id: int, cars: list[_Car], errors: list[RowError]
) -> None:
    """Transponders held by cars of the event that this file does not re-import."""
    numbers = {car.number for car in cars}
    statement = (
        select(TransponderRow.code, CarRow.number)
        .join(CarRow, TransponderRow.car_id == CarRow.id)
        .where(TransponderRow.event_id == event_id)
    )
    held = {code: number for code, number in await db.execute(statement)}
    for car in cars:
        for code in car.transponders:
            owner = held.get(code)
            # a car re-imported here gives up its codes, so swaps within the file are fine
            if owner is not None and owner != car.number and owner not in numbers:
                message = f"{code} is already assigned to car {owner}"
                errors.append(RowError(car.row, "transponder", message))


async def _write(db: AsyncSession, event_id: int, cars: list[_Car]) -> tuple[int, int, int]:
    """Classes created, cars created, cars updated."""
    classes = {
        row.name: row
        for row in await db.scalars(select(ClassRow).where(ClassRow.event_id == event_id))
    }
    new_classes = [
        ClassRow(event_id=event_id, name=name)
        for name in dict.fromkeys(car.class_name for car in cars)
        if name not in classes
    ]
    db.add_all(new_classes)
    await db.flush()
    classes.update((row.name, row) for row in new_classes)
    existing = {
        row.number: row
        for row in await db.scalars(
            select(CarRow).where(
                CarRow.event_id == event_id, CarRow.number.in_([car.number for car in cars])
            )
        )
    }
    replaced = [row.id for row in existing.values()]
    # drivers and transponders are replaced wholesale; deleting them before the inserts
    # keeps the unique constraints happy when codes move between cars of this file
    await db.execute(delete(DriverRow).where(DriverRow.car_id.in_(replaced)))
    await db.execute(delete(TransponderRow).where(TransponderRow.car_id.in_(replaced)))
    rows: list[tuple[_Car, CarRow]] = []
    for car in cars:
        row = existing.get(car.number) or CarRow(event_id=event_id, number=car.number)
        kept = row.class_note if (row.class_note or "").startswith("by hand") else None
        same_class = row.id is not None and row.class_id == classes[car.class_name].id
        row.class_id, row.team = classes[car.class_name].id, car.team
        # a class set by hand keeps its note while the car stays in that class (a change
        # of team or transponder says nothing about why it is classed so)
        row.pi = car.pi
        row.class_note = car.class_note or (kept if same_class else None)
        row.other_class = None if car.other is None else ":".join(car.other)
        db.add(row)
        rows.append((car, row))
    await db.flush()
    for car, row in rows:
        licences = car.licences or ((None, None),) * len(car.drivers)
        db.add_all(
            DriverRow(
                car_id=row.id,
                name=name,
                order=i,
                licence_expires=licences[i][0],
                medical_expires=licences[i][1],
                licence_checked=car.licences is not None,
            )
            for i, name in enumerate(car.drivers)
        )
        db.add_all(
            TransponderRow(event_id=event_id, car_id=row.id, code=code) for code in car.transponders
        )
    await db.flush()
    return len(new_classes), len(cars) - len(existing), len(existing)


def _placed(series: Series, car: _Car) -> tuple[CarClassing | None, str]:
    """The series' class for the car (by its index, else its other body's class), or
    None and why not."""
    why: list[str] = []
    if car.pi is not None:
        try:
            return class_of(series.bands, series.equivalency, index=car.pi), ""
        except SchemeError as exc:
            why.append(str(exc))
    if car.other is not None:
        body, theirs = car.other
        try:
            return class_of(
                series.bands, series.equivalency, other_body=body, other_class=theirs
            ), ""
        except SchemeError as exc:
            why.append(str(exc))
    return None, "; ".join(why)


def _classed(
    event_name: str, all_series: list[Series], cars: list[_Car], errors: list[RowError]
) -> tuple[list[_Car], int, list[str]]:
    """The cars with the class the series' tables give them (a class by hand wins, and is
    noted); the number classed by the tables; the notes."""
    banded = [series for series in all_series if series.bands]
    out: list[_Car] = []
    classed, notes = 0, []
    for car in cars:
        if car.pi is None and car.other is None:
            out.append(car)
            continue
        placed: dict[str, CarClassing] = {}
        refused: list[str] = []
        for series in banded:
            found, why = _placed(series, car)
            if found is None:
                refused.append(f"{series.name}: {why}" if len(banded) > 1 else why)
            else:
                placed[series.name] = found
        said = "; ".join(
            [f"{name} says {found.car_class} ({found.how})" for name, found in placed.items()]
            + [f"no table places it ({why})" for why in refused]
        )
        if car.class_name:
            note = f"by hand ({said})" if banded else "by hand"
            overrides = any(found.car_class != car.class_name for found in placed.values())
            if overrides or refused:
                notes.append(f"row {car.row}, car {car.number}: class {car.class_name} {note}")
            out.append(replace(car, class_note=note))
            continue
        column = "pi" if car.pi is not None else "other_class"
        if not banded:
            message = f"no class: {event_name} is in no series with class bands; give its class"
            errors.append(RowError(car.row, "class", message))
        elif refused:
            errors.append(RowError(car.row, column, f"no class: {'; '.join(refused)}"))
        elif len({found.car_class for found in placed.values()}) > 1:
            errors.append(RowError(car.row, column, f"no class: {said}; give its class"))
        else:
            found = next(iter(placed.values()))
            out.append(replace(car, class_name=found.car_class, class_note=found.how))
            classed += 1
            continue
        out.append(car)
    return out, classed, notes


async def import_entries(
    db_sessionmaker: async_sessionmaker[AsyncSession],
    path_or_text: str | Path | bytes,
    event_name: str,
    event_date: date | None = None,
    on_imported: Callable[[], Awaitable[object]] | None = None,
    code_forms: Sequence[CodeForm] = CODE_FORMS,
) -> ImportReport:
    """Import a CSV entry list into ``event_name`` (created if missing); all or nothing.

    Raises :class:`EntriesImportError` listing every bad row; then nothing is written.
    ``on_imported`` is awaited after the commit: in the server's process, the race
    service's ``entries_changed`` journals the changes for the timed session at once
    (from another process, the service's entry watch finds them within seconds).
    ``code_forms``: the decoders' code forms a transponder code must fit one of.
    """
    cars, errors = _parse(_read_text(path_or_text), code_forms)
    async with db_sessionmaker() as db, db.begin():
        event = await ensure_event(db, event_name)
        if event_date is not None:
            event.date = event_date  # the day licences and medicals must be valid on
        await _check_against_event(db, event.id, cars, errors)
        all_series = await series_of_event(db, event.id)
        cars, classed, notes = _classed(event_name, all_series, cars, errors)
        if errors:
            raise EntriesImportError(sorted(errors, key=lambda error: error.row))
        classes_created, created, updated = await _write(db, event.id, cars)
    if on_imported is not None:
        await on_imported()
    return ImportReport(
        event_id=event.id,
        cars_created=created,
        cars_updated=updated,
        classes=len({car.class_name for car in cars}),
        classes_created=classes_created,
        transponders=sum(len(car.transponders) for car in cars),
        classed=classed,
        notes=tuple(notes),
    )
