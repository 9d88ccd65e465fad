"""The entry list of an event, as the engine wants it.

Strategy: one query per relationship (``selectinload``), never a lazy load: cars in the
order they were entered, each with its class name, drivers in their listed order and
transponder codes. Writing entries is ``server.service.entries_import``'s job.

A driver's licence and medical live with the driver across the season: the check on an
event's date uses the latest record of that driver (by name) from any event's entry list
that carried licence columns, so a licence renewed at one event counts at the next, and
an event whose list has no licence columns still checks its drivers.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.db.models import CarRow, DriverRow
from server.engine.model import Entry


def licence_flagged(driver: DriverRow, on_date: date) -> bool:
    """Licence or medical missing or expired on ``on_date`` (only for checked drivers)."""
    if not driver.licence_checked:
        return False
    return any(
        expires is None or expires < on_date
        for expires in (driver.licence_expires, driver.medical_expires)
    )


async def load_entries(db: AsyncSession, event_id: int, on_date: date | None = None) -> list[Entry]:
    """The event's cars; with ``on_date``, drivers whose licence or medical is not valid
    that day are in ``flagged_drivers``."""
    statement = (
        select(CarRow)
        .where(CarRow.event_id == event_id)
        .order_by(CarRow.id)
        .options(
            selectinload(CarRow.car_class),
            selectinload(CarRow.drivers),
            selectinload(CarRow.transponders),
        )
    )
    cars = list(await db.scalars(statement))
    records = await latest_licence_records(
        db, {driver.name for car in cars for driver in car.drivers}
    )
    return [
        Entry(
            number=car.number,
            class_name=car.car_class.name,
            team=car.team,
            drivers=tuple(driver.name for driver in car.drivers),
            transponders=tuple(transponder.code for transponder in car.transponders),
            flagged_drivers=tuple(
                driver.name
                for driver in car.drivers
                if on_date is not None
                and driver.name in records
                and licence_flagged(records[driver.name], on_date)
            ),
        )
        for car in cars
    ]


async def latest_licence_records(db: AsyncSession, names: set[str]) -> dict[str, DriverRow]:
    """Each named driver's latest licence record (any event), if one was ever entered."""
    if not names:
        return {}
    statement = (
        select(DriverRow)
        .where(DriverRow.licence_checked, DriverRow.name.in_(sorted(names)))
        .order_by(DriverRow.id)
    )
    return {driver.name: driver for driver in await db.scalars(statement)}
