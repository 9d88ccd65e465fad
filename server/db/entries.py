"""The entry list of an event, as the engine wants it.

Strategy: one query per relationship (``selectinload``), never a lazy load: cars in the
order they were entered, each with its class name, drivers in their listed order and
transponder codes. Writing entries is ``server.cli.entries_import``'s job.
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
                if on_date is not None and licence_flagged(driver, on_date)
            ),
        )
        for car in await db.scalars(statement)
    ]
