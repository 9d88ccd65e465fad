"""A championship series: its points scheme, class bands, equivalency table, events and
the stewards' "On the Move" awards.

Strategy: the scheme is stored resolved (every ``PointsScheme`` field), so changing a
preset in code never changes a published championship. Tables are replaced whole from
a checked value (``server.season.classes``): a bad table is refused before anything is
written. Missing rows are ``NotFound``; a table that cannot be used is ``SchemeError``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import (
    EventRow,
    SeriesAwardRow,
    SeriesClassRow,
    SeriesEquivalencyRow,
    SeriesEventRow,
    SeriesRow,
    SessionRow,
)
from server.db.sessions import NotFound
from server.season.classes import ClassBand, checked_bands, checked_equivalency
from server.season.scheme import PRESETS, PointsScheme, SchemeError


@dataclass(frozen=True)
class Series:
    id: int
    name: str
    scheme: PointsScheme
    bands: tuple[ClassBand, ...]
    equivalency: dict[tuple[str, str], str]
    events: tuple[tuple[int, str, int], ...]  # (event id, event name, season order)


def scheme_json(scheme: PointsScheme) -> dict[str, Any]:
    data = asdict(scheme)
    data["table"] = list(scheme.table) if scheme.table is not None else None
    return data


def scheme_of(data: dict[str, Any]) -> PointsScheme:
    known = {field.name for field in fields(PointsScheme)}
    values = {key: value for key, value in data.items() if key in known}
    if values.get("table") is not None:
        values["table"] = tuple(values["table"])
    return PointsScheme(**values)


async def create_series(
    db: AsyncSession, name: str, preset: str = "img", **overrides: Any
) -> SeriesRow:
    """A new series with ``preset``'s scheme and ``overrides``; ``SchemeError`` if the
    name is taken or the scheme cannot be used."""
    if preset not in PRESETS:
        raise SchemeError(f"no points preset {preset!r}: choose one of {', '.join(PRESETS)}")
    if not name.strip():
        raise SchemeError("a series needs a name")
    if await db.scalar(select(SeriesRow.id).where(SeriesRow.name == name)) is not None:
        raise SchemeError(f"a series called {name!r} exists already")
    scheme = scheme_of({**scheme_json(PRESETS[preset]), **overrides, "name": preset})
    row = SeriesRow(name=name, scheme=scheme_json(scheme))
    db.add(row)
    await db.commit()
    return row


async def _series_row(db: AsyncSession, name: str) -> SeriesRow:
    row = await db.scalar(select(SeriesRow).where(SeriesRow.name == name))
    if row is None:
        raise NotFound(f"no series called {name!r}")
    return row


async def set_classes(db: AsyncSession, name: str, bands: list[ClassBand]) -> None:
    """Replace the series' class bands (checked: no overlap, low below high)."""
    checked = checked_bands(bands)
    row = await _series_row(db, name)
    await db.execute(delete(SeriesClassRow).where(SeriesClassRow.series_id == row.id))
    db.add_all(
        SeriesClassRow(series_id=row.id, name=band.name, low=band.low, high=band.high)
        for band in checked
    )
    await db.commit()


async def set_equivalency(db: AsyncSession, name: str, table: dict[tuple[str, str], str]) -> None:
    """Replace the equivalency table (checked against the series' classes)."""
    series = await load_series(db, name)
    checked = checked_equivalency(table, series.bands)
    await db.execute(
        delete(SeriesEquivalencyRow).where(SeriesEquivalencyRow.series_id == series.id)
    )
    db.add_all(
        SeriesEquivalencyRow(series_id=series.id, body=body, their_class=theirs, class_name=ours)
        for (body, theirs), ours in checked.items()
    )
    await db.commit()


async def add_event(db: AsyncSession, name: str, event: str, order: int | None = None) -> int:
    """Count ``event`` in the series (last, unless ``order`` says); its season order."""
    row = await _series_row(db, name)
    event_id = await db.scalar(select(EventRow.id).where(EventRow.name == event))
    if event_id is None:
        raise NotFound(f"no event called {event!r}")
    taken = await db.scalar(
        select(SeriesEventRow.id).where(
            SeriesEventRow.series_id == row.id, SeriesEventRow.event_id == event_id
        )
    )
    if taken is not None:
        raise SchemeError(f"event {event!r} is in series {name!r} already")
    if order is None:
        last = await db.scalar(
            select(func.max(SeriesEventRow.order)).where(SeriesEventRow.series_id == row.id)
        )
        order = (last or 0) + 1
    db.add(SeriesEventRow(series_id=row.id, event_id=event_id, order=order))
    await db.commit()
    return order


async def award_on_the_move(
    db: AsyncSession, session_id: int, class_name: str, car_number: str, by: str
) -> None:
    """The steward's award for ``class_name`` in the session (replaces an earlier one)."""
    if await db.get(SessionRow, session_id) is None:
        raise NotFound(f"no session {session_id}")
    await db.execute(
        delete(SeriesAwardRow).where(
            SeriesAwardRow.session_id == session_id, SeriesAwardRow.class_name == class_name
        )
    )
    db.add(
        SeriesAwardRow(
            session_id=session_id, class_name=class_name, car_number=car_number, awarded_by=by
        )
    )
    await db.commit()


async def awards_of(db: AsyncSession, session_id: int) -> tuple[tuple[str, str], ...]:
    rows = await db.scalars(
        select(SeriesAwardRow)
        .where(SeriesAwardRow.session_id == session_id)
        .order_by(SeriesAwardRow.class_name)
    )
    return tuple((row.class_name, row.car_number) for row in rows)


async def load_series(db: AsyncSession, name: str) -> Series:
    row = await _series_row(db, name)
    bands = await db.scalars(
        select(SeriesClassRow)
        .where(SeriesClassRow.series_id == row.id)
        .order_by(SeriesClassRow.low)
    )
    equivalency = await db.scalars(
        select(SeriesEquivalencyRow).where(SeriesEquivalencyRow.series_id == row.id)
    )
    events = await db.execute(
        select(EventRow.id, EventRow.name, SeriesEventRow.order)
        .join(SeriesEventRow, SeriesEventRow.event_id == EventRow.id)
        .where(SeriesEventRow.series_id == row.id)
        .order_by(SeriesEventRow.order, EventRow.id)
    )
    return Series(
        id=row.id,
        name=row.name,
        scheme=scheme_of(row.scheme),
        bands=tuple(ClassBand(band.name, band.low, band.high) for band in bands),
        equivalency={(e.body, e.their_class): e.class_name for e in equivalency},
        events=tuple((event_id, event, order) for event_id, event, order in events),
    )


async def series_of_event(db: AsyncSession, event_id: int) -> list[Series]:
    """Every series that counts the event, oldest first (none for a club's own event)."""
    names = await db.scalars(
        select(SeriesRow.name)
        .join(SeriesEventRow, SeriesEventRow.series_id == SeriesRow.id)
        .where(SeriesEventRow.event_id == event_id)
        .order_by(SeriesRow.id)
    )
    return [await load_series(db, name) for name in list(names)]
