"""``racecontrol import track FILE --event NAME``: an event's timing loops from CSV.

Strategy: like the entries import, every row is validated first and a file with any bad
row changes nothing, with every bad row reported. Header:
``decoder,role,sector,distance_m,name`` (sector only for role ``sector``; distance and
name optional). ``decoder`` is the id the decoder reports: the P3 decoder id shown on
the control page, an AMB decoder number, a MyLaps location name.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.sessions import get_or_create_event
from server.db.track import LoopConfig, replace_track
from server.engine.events import LoopRole

HEADER = ["decoder", "role", "sector", "distance_m", "name"]


class TrackImportError(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def parse_track(text: str) -> list[LoopConfig]:
    """The loops of ``text``; ``TrackImportError`` lists every bad row."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header = [c.strip().lower() for c in rows[0]] if rows else []
    if header[:2] != HEADER[:2] or any(c not in HEADER for c in header):
        raise TrackImportError([f"row 1: columns must be among {','.join(HEADER)}"])
    errors: list[str] = []
    loops: list[LoopConfig] = []
    seen: set[str] = set()
    for number, raw in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in raw):
            continue
        cells = dict(zip(header, (c.strip() for c in raw), strict=False))
        decoder, role_text = cells.get("decoder", ""), cells.get("role", "").lower()
        problems: list[str] = []
        if not decoder:
            problems.append("decoder is missing")
        elif decoder in seen:
            problems.append(f"decoder {decoder!r} is listed twice")
        try:
            role = LoopRole(role_text)
        except ValueError:
            roles = ", ".join(r.value for r in LoopRole)
            problems.append(f"role {role_text!r} is not one of {roles}")
            role = LoopRole.START_FINISH
        sector: int | None = None
        if cells.get("sector"):
            if cells["sector"].isdigit() and int(cells["sector"]) >= 1:
                sector = int(cells["sector"])
            else:
                problems.append("sector must be 1, 2, ...")
        if role is LoopRole.SECTOR and sector is None:
            problems.append("a sector loop needs its sector number")
        distance: float | None = None
        if cells.get("distance_m"):
            try:
                distance = float(cells["distance_m"])
            except ValueError:
                problems.append("distance_m must be a number")
        errors += [f"row {number}: {p}" for p in problems]
        seen.add(decoder)
        loops.append(LoopConfig(decoder, role, sector, distance, cells.get("name", "")))
    if not errors and sum(loop.role is LoopRole.START_FINISH for loop in loops) != 1:
        errors.append("the track needs exactly one start_finish loop")
    if errors:
        raise TrackImportError(errors)
    return loops


async def import_track(
    sessionmaker: async_sessionmaker[AsyncSession], path: Path, event_name: str
) -> str:
    loops = parse_track(path.read_text(encoding="utf-8"))
    async with sessionmaker() as db:
        event = await get_or_create_event(db, event_name)
        await replace_track(db, event.id, loops)
    return f"{len(loops)} loops for {event_name}"
