"""The journal with its fallback: events are durable whether or not the database answers.

Strategy: ``append`` writes to the database journal; when that fails, the batch goes to
the local spool instead (fsynced, as durable as the journal), and while the spool holds
anything every later batch goes there too, so order is kept. ``drain`` moves the spool
into the database, oldest first, when it answers again; ``read`` gives a session's events
from both, journal first. Timing never waits for the database to come back. The spool's
file work runs in a worker thread (``asyncio.to_thread``): an fsync must not stall every
page for its duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from itertools import groupby

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.journal import JournalStore
from server.engine.events import InputEvent
from server.service.spool import Spool

log = logging.getLogger("racecontrol.journal")


class DurableJournal:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], spool: Spool) -> None:
        self.store = JournalStore(sessionmaker)
        self.spool = spool
        self.database_ok = True
        self.down_since_us: int | None = None  # when the database stopped answering

    async def append(self, session_id: int, events: Sequence[InputEvent], at_us: int) -> None:
        """Journal ``events``; while the database is unreachable, spool them instead.
        Raises ``OSError`` only when the spool cannot be written either."""
        if not self.spool:
            try:
                await self.store.append(session_id, events, at_us)
                self.database_ok = True
                return
            except (SQLAlchemyError, OSError) as exc:
                log.error("database unreachable, spooling to %s: %s", self.spool.path, exc)
                self.database_ok = False
                self.down_since_us = at_us
        # keeps order while it is not empty
        await asyncio.to_thread(self.spool.append, session_id, events, at_us)

    async def drain(self) -> None:
        """Move spooled events into the journal, oldest first (raises while the DB is down).

        Each batch (one session, one recording time) is one transaction, acknowledged in the
        spool only once committed: a crash in between replays that batch, never skips it."""
        pending = await asyncio.to_thread(self.spool.pending)
        for (session_id, at_us), batch in groupby(
            pending, key=lambda s: (s.session_id, s.recorded_at_us)
        ):
            group = list(batch)
            await self.store.append(session_id, [s.event for s in group], at_us)
            await asyncio.to_thread(self.spool.acknowledge, group[-1].end_offset)
        if self.spool:  # only unreadable lines were left: set aside, nothing to wait for
            await asyncio.to_thread(self.spool.pending)
        if not self.database_ok:
            log.info("database back: spool drained")
        self.database_ok, self.down_since_us = True, None

    async def try_drain(self) -> None:
        """``drain`` if there is anything to drain; a database still down is no error."""
        if self.spool:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await self.drain()

    async def read(self, session_id: int) -> list[InputEvent]:
        """The session's events: the database's journal, then what waits in the spool."""
        journal = [event for _seq, event in await self.store.read(session_id)]
        return journal + await asyncio.to_thread(self.spool.pending_for, session_id)
