"""The timing loops of an event's track: which decoder is which line.

Strategy: a track is a list of loops, each named by the id its decoder reports (a P3
decoder id, an AMB decoder number, a MyLaps location, or the adapter URL for decoders
without one) with its role (start/finish, pit-in, pit-out, sector n) and distance.
Replacing the list is one transaction; the ingest reads it when a session loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.db.models import DecoderRow, LoopRow
from server.engine.events import LoopRole


@dataclass(frozen=True, slots=True)
class LoopConfig:
    decoder: str  # the id the decoder reports (Detection.decoder_id)
    role: LoopRole
    sector: int | None = None  # 1, 2, ... for LoopRole.SECTOR
    distance_m: float | None = None  # from the start/finish line
    name: str = ""


async def load_track(db: AsyncSession, event_id: int) -> list[LoopConfig]:
    statement = (
        select(DecoderRow)
        .where(DecoderRow.event_id == event_id)
        .order_by(DecoderRow.id)
        .options(selectinload(DecoderRow.loops))
    )
    return [
        LoopConfig(
            decoder=row.decoder_id or row.name,
            role=LoopRole(loop.role),
            sector=loop.sector_index,
            distance_m=loop.distance_m,
            name=row.name,
        )
        for row in await db.scalars(statement)
        for loop in row.loops
    ]


async def replace_track(db: AsyncSession, event_id: int, loops: Sequence[LoopConfig]) -> None:
    """The event's loops become exactly ``loops`` (one transaction)."""
    async with db.begin():
        await db.execute(delete(DecoderRow).where(DecoderRow.event_id == event_id))
        for loop in loops:
            decoder = DecoderRow(
                event_id=event_id,
                name=loop.name or loop.decoder,
                url="",
                decoder_id=loop.decoder,
            )
            db.add(decoder)
            await db.flush()
            db.add(
                LoopRow(
                    decoder_id=decoder.id,
                    role=loop.role.value,
                    sector_index=loop.sector,
                    distance_m=loop.distance_m,
                )
            )
