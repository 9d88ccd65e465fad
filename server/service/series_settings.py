"""A series' settings as race control enters them on ``/control/event``: the points scheme
and its parameters, class bands and equivalency rows from a form, an entry's class by
hand, and a steward's On the Move award checked against the event's entries.

Strategy: every value a form sends is turned into the season's checked values
(``server.season``) here, so the routes stay thin and a bad value is one ``SchemeError``
with the reason the page shows (the routes answer 422). A blank parameter keeps the
preset's value, so the form only says what differs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import repository, series
from server.db.models import CarRow, ClassRow, SeriesRow
from server.db.sessions import NotFound
from server.engine.events import SessionKind
from server.season.classes import ClassBand, checked_bands
from server.season.scheme import PRESETS, SchemeError

# the scheme's whole-number parameters a form may set (blank: the preset's value)
NUMBER_PARAMETERS = (
    "last_finisher_points",
    "step",
    "starter_minimum",
    "winner_bonus",
    "fast_five_bonus",
    "fast_five_laps",
    "on_the_move_bonus",
    "trophy_depth",
)
AWARDED_KINDS = frozenset({SessionKind.RACE.value, SessionKind.SPRINTDURO.value})


def scheme_overrides(
    numbers: Mapping[str, str], table: str, best_sprints: str, every_sprint: bool
) -> dict[str, Any]:
    """The parameters a form changed: ``numbers`` by name, ``table`` as "20, 17, 15"
    (blank: the preset's), ``best_sprints`` (blank: the preset's) or every sprint."""
    overrides: dict[str, Any] = {}
    for name in NUMBER_PARAMETERS:
        value = numbers.get(name, "").strip()
        if value:
            overrides[name] = _whole(name, value)
    if table.strip():
        parts = [part.strip() for part in table.replace(";", ",").split(",") if part.strip()]
        overrides["table"] = tuple(_whole("points table", part) for part in parts)
    if every_sprint:
        overrides["best_sprints_counted"] = None
    elif best_sprints.strip():
        overrides["best_sprints_counted"] = _whole("best sprints counted", best_sprints.strip())
    return overrides


def _whole(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SchemeError(f"{name}: {value!r} is not a whole number") from None
    if abs(number) > 10_000:
        raise SchemeError(f"{name}: {number} is out of range")
    return number


def bands_from_form(
    names: Sequence[str], lows: Sequence[str], highs: Sequence[str]
) -> tuple[ClassBand, ...]:
    """Class bands from the form's rows (a row left blank is skipped), checked."""
    bands: list[ClassBand] = []
    for row, (name, low, high) in enumerate(zip(names, lows, highs, strict=False), start=1):
        if not (name.strip() or low.strip() or high.strip()):
            continue
        try:
            bands.append(ClassBand(name.strip(), float(low), float(high)))
        except ValueError:
            raise SchemeError(f"row {row}: low and high must be numbers") from None
    if not bands:
        raise SchemeError("give at least one class band")
    return checked_bands(bands)


def equivalency_from_form(
    bodies: Sequence[str], theirs: Sequence[str], ours: Sequence[str]
) -> dict[tuple[str, str], str]:
    """(body, their class) -> our class from the form's rows (blank rows skipped); checked
    against the series' classes by ``series.set_equivalency``."""
    table: dict[tuple[str, str], str] = {}
    for row, (body, their, our) in enumerate(zip(bodies, theirs, ours, strict=False), start=1):
        body, their, our = body.strip(), their.strip(), our.strip()
        if not (body or their or our):
            continue
        if not (body and their and our):
            raise SchemeError(f"row {row}: give the body, its class and our class")
        if (body, their) in table:
            raise SchemeError(f"row {row}: {body} class {their} is given twice")
        table[(body, their)] = our
    return table


async def series_names(db: AsyncSession) -> list[str]:
    return list(await db.scalars(select(SeriesRow.name).order_by(SeriesRow.id)))


@dataclass(frozen=True)
class ByHand:
    event: str
    number: str
    old_class: str
    new_class: str
    note: str


async def set_class_by_hand(
    db: AsyncSession, event: str, number: str, class_name: str, note: str
) -> ByHand:
    """Put car ``number`` of ``event`` in ``class_name`` with race control's ``note``
    (the class is made if the event has none of that name). ``NotFound`` for an unknown
    event or car. The caller journals the change to the timed session."""
    found = await repository.find_event(db, event)
    if found is None:
        raise NotFound(f"no event called {event!r}")
    car = await db.scalar(
        select(CarRow).where(CarRow.event_id == found.id, CarRow.number == number)
    )
    if car is None:
        raise NotFound(f"no car {number} in {event!r}")
    old = await db.get(ClassRow, car.class_id)
    target = await db.scalar(
        select(ClassRow).where(ClassRow.event_id == found.id, ClassRow.name == class_name)
    )
    if target is None:
        target = ClassRow(event_id=found.id, name=class_name)
        db.add(target)
        await db.flush()
    car.class_id = target.id
    car.class_note = f"by hand: {note}"
    await db.commit()
    return ByHand(event, number, old.name if old is not None else "", class_name, note)


async def class_notes(db: AsyncSession, event_id: int) -> dict[str, str]:
    """Car number -> how its class was found (a series' table, or by hand)."""
    rows = await db.execute(
        select(CarRow.number, CarRow.class_note).where(
            CarRow.event_id == event_id, CarRow.class_note.is_not(None)
        )
    )
    return {number: note for number, note in rows if note}


async def checked_award(db: AsyncSession, session_id: int, class_name: str, number: str) -> str:
    """The session's event name, once On the Move for car ``number`` in ``class_name``
    can be given: a race or SprintDuro of a series' event, the car entered in that class.
    ``SchemeError`` (or ``NotFound``) with the reason otherwise."""
    try:
        session = await repository.get_session(db, session_id)
    except LookupError:
        raise NotFound(f"no session {session_id}") from None
    if session.type not in AWARDED_KINDS:
        raise SchemeError(f"On the Move is awarded in a race or SprintDuro, not a {session.type}")
    event = await repository.get_event(db, session.event_id)
    if not await series.series_of_event(db, session.event_id):
        raise SchemeError(f"{event.name!r} is in no series: add it to one first")
    entries = await repository.load_entries(db, session.event_id)
    car = next((entry for entry in entries if entry.number == number), None)
    if car is None:
        raise SchemeError(f"car {number} is not entered in {event.name!r}")
    if car.class_name != class_name:
        raise SchemeError(f"car {number} runs in class {car.class_name}, not {class_name}")
    return event.name


async def series_panel(db: AsyncSession, event: str, chosen: str) -> dict[str, Any]:
    """What the event page shows of the season: every series, the one chosen (else the
    first that counts the event, else the newest), its settings, and the presets."""
    names = await series_names(db)
    found = await repository.find_event(db, event) if event else None
    counting = [s.name for s in await series.series_of_event(db, found.id)] if found else []
    if chosen not in names:
        chosen = counting[0] if counting else (names[-1] if names else "")
    loaded = await series.load_series(db, chosen) if chosen else None
    return {
        "series_names": names,
        "series_of_event": counting,
        "series": loaded,
        "point_presets": sorted(PRESETS.items()),
        "number_parameters": NUMBER_PARAMETERS,
        "class_notes": await class_notes(db, found.id) if found else {},
    }
