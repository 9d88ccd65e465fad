"""A race service in this process on a temporary SQLite database, for ingest and replay.

Strategy: the same parts ``racecontrol serve`` builds (``RaceService`` with its durable
journal, spool and engine) on a database migrated and filled as an operator would
(``race_world.prepare``: migrate, import the entry list), minus the web layer: nothing
renders, so what is timed is the journal and the engine. A ``ManualClock`` gives the
session time; the passings are ``Detection``s as a P3 runner hands them over
(``on_detection``: mapper, queue, writer's group commit, engine).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from race_world import EVENT, prepare
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import sessions as repository
from server.db.connection import create_engine, sessionmaker
from server.engine.events import Flag, FlagChanged
from server.service.hub import Hub
from server.service.race_service import RaceService
from server.service.spool import Spool
from timing_adapters.adapter import Detection
from timing_adapters.clock import ManualClock

S = 1_000_000
LAP_US = 30 * S  # a car's laps: well above the 20 s double-read window
DECODER = "bench-p3"
START_US = 1_800_000_000 * S  # the session's green flag (2027), decoder time = session time


@dataclass
class ServiceWorld:
    race: RaceService
    db: async_sessionmaker[AsyncSession]
    clock: ManualClock
    db_url: str
    db_path: Path
    session_id: int
    transponders: list[str]
    _writer: asyncio.Task[None]
    _next_number: int = 1

    def passings(self, count: int) -> list[Detection]:
        """The next ``count`` passings, round robin over the cars, each car a lap apart."""
        out: list[Detection] = []
        cars = len(self.transponders)
        for _ in range(count):
            n = self._next_number
            self._next_number += 1
            car, lap = (n - 1) % cars, (n - 1) // cars
            at = START_US + S + car * (LAP_US // cars) + lap * LAP_US
            out.append(Detection(DECODER, self.transponders[car], at, n, offset_us=0))
        return out

    async def restarted(self) -> RaceService:
        """A second race service on the same database, as after a restart (not loaded)."""
        return _service(self.db, self.clock, self.db_path.parent / "restart.spool")


def _service(db: async_sessionmaker[AsyncSession], clock: ManualClock, spool: Path) -> RaceService:
    return RaceService(
        db,
        clock=clock,
        hub=Hub(),
        render=lambda _race, _channels: {},
        heartbeat=lambda _now: "",
        spool=Spool(spool),
    )


@asynccontextmanager
async def service_world(cars: int = 36, hours: int | None = 24) -> AsyncIterator[ServiceWorld]:
    """A green race of ``hours`` with ``cars`` cars, timed by a race service in this process."""
    tmp = Path(tempfile.mkdtemp(prefix="racecontrol-bench-"))
    writer: asyncio.Task[None] | None = None
    db_engine = None
    try:
        db_url, _token, car_list = await prepare(tmp, cars)
        db_engine = create_engine(db_url)
        db = sessionmaker(db_engine)
        async with db() as session:
            rules = {"preset": "wcma"}  # a preset that allows 24 h
            row = await repository.create_session(
                session, EVENT, "race", "Bench", None if hours is None else hours * 60, rules
            )
        clock = ManualClock(START_US)
        race = _service(db, clock, tmp / "bench.spool")
        writer = asyncio.create_task(race.run_writer())
        await race.load_session(row.id)
        await race.submit(FlagChanged(START_US, Flag.GREEN))
        transponders = [str(t) for _n, t in car_list]
        yield ServiceWorld(race, db, clock, db_url, tmp / "bench.db", row.id, transponders, writer)
    finally:
        if writer is not None:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        if db_engine is not None:
            await db_engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
