"""The entry list of an event, as the engine wants it.

Strategy: one query per relationship (``selectinload``), never a lazy load: cars in the
order they were entered, each with its class name, drivers in their listed order and
transponder codes. Writing entries is ``server.entries_import``'s job.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.db.models import CarRow
from server.engine.model import Entry


async def load_entries(db: AsyncSession, event_id: int) -> list[Entry]:
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
        )
        for car in await db.scalars(statement)
    ]
