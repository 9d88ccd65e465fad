"""The single writer: journal first, then the engine, then one render for everyone.

Strategy: every change to race state (a passing from a decoder, a flag from race
control) is queued here as an input event. One task drains the queue in batches,
appends the batch to the journal in ONE transaction (a burst of passings costs one
fsync), then applies the events to the pure engine in journal order, and only then
marks the pages dirty, so nothing is ever shown that is not durable. A publisher task
renders each channel once per change (coalesced to ``publish_interval_s``) and hands
the same string to every subscriber. Loading a session replays its journal, so a
restart ends in the same state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository
from server.db.journal import JournalStore
from server.engine import RaceEngine
from server.engine.events import FlagChanged, InputEvent, PassingDetected
from server.engine.model import Entry, SessionStatus, StandingRow
from server.engine.outbound import LapCompleted
from server.hub import Hub
from server.ingest import PassingMapper
from server.rendering import Renderer
from server.rmonitor_feed import snapshot_of
from server.spool import Spool
from server.views import control_context, heartbeat_html, live_context
from timing_adapters.adapter import DecoderState, Detection
from timing_adapters.clock import Clock
from timing_adapters.rmonitor.server import RMonitorServer

log = logging.getLogger("racecontrol.race")

LIVE_BLOCKS = ("header", "standings")
CONTROL_BLOCKS = ("header", "standings", "decoders", "unknowns", "flag_controls")
_BATCH_MAX = 1000
_Pending = tuple[InputEvent, "asyncio.Future[None]"]


class NoActiveSession(RuntimeError):
    """Race control has not created a session yet; nothing can be timed."""


class RaceService:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        hub: Hub,
        renderer: Renderer,
        spool: Spool,
        publish_interval_s: float = 0.05,
    ) -> None:
        self._db = sessionmaker
        self.journal = JournalStore(sessionmaker)
        self.clock = clock
        self.hub = hub
        self.renderer = renderer
        self.publish_interval_s = publish_interval_s
        self.engine: RaceEngine | None = None
        self.session_id: int | None = None
        self.event_name = ""
        self.decoders: dict[str, DecoderState] = {}
        self.mapper = PassingMapper()
        self.dropped: Counter[str] = Counter()  # passings we could not accept, by reason
        self.journaled = 0  # input events committed (and applied) by this process
        self.spool = spool
        self.entries: list[Entry] = []
        self.rmonitor: RMonitorServer | None = None  # our timing as an RMonitor feed
        self._laps: list[LapCompleted] = []  # completed since the last publish, for $J
        self.database_ok = True
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._dirty = asyncio.Event()

    # --- loading -------------------------------------------------------------------

    async def load_latest(self) -> None:
        async with self._db() as db:
            row = await repository.latest_session(db)
        if row is not None:
            await self.load_session(row.id)

    async def replay(
        self, session_id: int, mapper: PassingMapper | None = None
    ) -> tuple[RaceEngine, str, list[Entry]]:
        """A fresh engine for ``session_id`` with its whole journal applied, the event name
        and the entries.

        Raises ``LookupError`` for an unknown session.
        """
        async with self._db() as db:
            config = await repository.session_config(db, session_id)
            session = await repository.get_session(db, session_id)
            entries = await repository.load_entries(db, session.event_id)
            event = await repository.get_event(db, session.event_id)
        engine = RaceEngine(config, entries)
        journal = [event for _seq, event in await self.journal.read(session_id)]
        for event_in in journal + self.spool.pending_for(session_id):
            if mapper is not None and isinstance(event_in, PassingDetected):
                mapper.remember(event_in)
            engine.apply(event_in)
        engine.tick(self.clock.now_us())
        return engine, event.name, entries

    async def load_session(self, session_id: int) -> None:
        """Make ``session_id`` the timed session, rebuilding its state from the journal."""
        async with self._lock:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await self.drain_spool()
            mapper = PassingMapper()
            engine, event_name, entries = await self.replay(session_id, mapper)
            self.engine, self.mapper, self.entries = engine, mapper, entries
            self.session_id, self.event_name = session_id, event_name
            self._laps.clear()
            log.info("session %s loaded from its journal", session_id)
        self._dirty.set()

    # --- input ---------------------------------------------------------------------

    async def submit(self, event: InputEvent) -> None:
        """Queue ``event``; returns once it is committed to the journal and applied."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((event, future))
        await future

    async def on_detection(self, detection: Detection) -> None:
        """Adapter callback: a decoder passing becomes a journaled input event."""
        event = self.mapper.map(detection)
        if event is None:
            self.dropped["duplicate"] += 1
            return
        if self.session_id is None:
            self.dropped["no_session"] += 1
            log.warning("passing of %s dropped: no session", detection.transponder)
            return
        await self.submit(event)

    def on_decoder_state(self, state: DecoderState) -> None:
        self.decoders[state.url] = state
        self._dirty.set()

    async def flag(self, flag_event: FlagChanged) -> None:
        await self.submit(flag_event)

    async def run_writer(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < _BATCH_MAX:
                batch.append(self._queue.get_nowait())
            async with self._lock:
                await self._write_batch(batch)

    async def _write_batch(self, batch: list[_Pending]) -> None:
        engine, session_id = self.engine, self.session_id
        if engine is None or session_id is None:
            for _event, future in batch:
                if not future.done():
                    future.set_exception(NoActiveSession("no session to time"))
            return
        events = [event for event, _future in batch]
        try:
            await self._persist(session_id, events, self.clock.now_us())
        except OSError as exc:  # neither database nor spool: nothing is applied unjournaled
            log.exception("could not persist %d events", len(events))
            for _event, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.journaled += len(events)
        for event in events:
            self._laps += [out for out in engine.apply(event) if isinstance(out, LapCompleted)]
            if isinstance(event, PassingDetected):
                self.mapper.remember(event)
        for _event, future in batch:
            if not future.done():
                future.set_result(None)
        self._dirty.set()

    async def _persist(self, session_id: int, events: list[InputEvent], at_us: int) -> None:
        """Journal ``events``; while the database is unreachable, spool them instead."""
        if not self.spool:
            try:
                await self.journal.append(session_id, events, at_us)
                self.database_ok = True
                return
            except (SQLAlchemyError, OSError) as exc:
                log.error("database unreachable, spooling to %s: %s", self.spool.path, exc)
                self.database_ok = False
        self.spool.append(session_id, events, at_us)  # keeps order while it is not empty

    async def drain_spool(self) -> None:
        """Move spooled events into the journal, oldest first (raises while the DB is down)."""
        pending = self.spool.pending()
        while pending:
            session_id = pending[0][0]
            group = []
            for sid, at_us, event in pending:
                if sid != session_id or at_us != pending[0][1]:
                    break
                group.append(event)
            await self.journal.append(session_id, group, pending[0][1])
            self.spool.drop_first(len(group))
            pending = pending[len(group) :]
        if not self.database_ok:
            log.info("database back: spool drained")
        self.database_ok = True

    async def run_spool_drain(self, interval_s: float = 2.0) -> None:
        while True:
            await asyncio.sleep(interval_s)
            if self.spool:
                async with self._lock:
                    with contextlib.suppress(SQLAlchemyError, OSError):
                        await self.drain_spool()

    # --- output --------------------------------------------------------------------

    async def run_ticker(self, interval_s: float = 0.5) -> None:
        """Time-driven rules (clock expiry, stopped cars, finish timeout)."""
        while True:
            await asyncio.sleep(interval_s)
            if self.engine is not None:
                async with self._lock:
                    if self.engine.tick(self.clock.now_us()):
                        self._dirty.set()

    async def run_heartbeat(self, interval_s: float) -> None:
        """Lets browsers tell a quiet race from a dead connection."""
        while True:
            await asyncio.sleep(interval_s)
            beat = heartbeat_html(self.clock.now_us())
            for name in ("public", "control"):
                self.hub.channel(name).publish(beat, snapshot=False)

    async def run_publisher(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            self.publish()
            await asyncio.sleep(self.publish_interval_s)

    def publish(self) -> None:
        if self.rmonitor is not None:
            now = self.clock.now_us()
            laps, self._laps = self._laps, []
            self.rmonitor.update(
                snapshot_of(self.status(), self.entries, self.standings(), laps, now)
            )
        self.hub.channel("public").publish(
            self.renderer.fragments("live.html", LIVE_BLOCKS, self.live_context())
        )
        self.hub.channel("control").publish(
            self.renderer.fragments("control.html", CONTROL_BLOCKS, self.control_context())
        )

    # --- views ---------------------------------------------------------------------

    def status(self) -> SessionStatus | None:
        return None if self.engine is None else self.engine.status()

    def standings(self) -> list[StandingRow]:
        return [] if self.engine is None else self.engine.standings()

    def live_context(self) -> dict[str, Any]:
        return live_context(
            event_name=self.event_name,
            status=self.status(),
            rows=self.standings(),
            server_now_us=self.clock.now_us(),
            clock_rate=self.clock.rate,
        )

    def control_context(self) -> dict[str, Any]:
        unknowns: Mapping[str, tuple[int, int, int]] = {}
        rejected: dict[str, int] = dict(self.dropped)
        if self.engine is not None:
            unknowns = {
                code: (u.count, u.first_seen_us, u.last_seen_us)
                for code, u in self.engine.unknown_transponders().items()
            }
            rejected.update(self.engine.rejected_counts())
        return control_context(
            event_name=self.event_name,
            status=self.status(),
            rows=self.standings(),
            server_now_us=self.clock.now_us(),
            clock_rate=self.clock.rate,
            decoders=[asdict(state) for state in self.decoders.values()],
            unknowns=unknowns,
            rejected=rejected,
        )
