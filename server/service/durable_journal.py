"""The journal with its fallback: events are durable whether or not the database answers.

Strategy: ``append`` writes to the database journal; when that fails, the batch goes to
the local spool instead (fsynced, as durable as the journal), and while the spool holds
anything every later batch goes there too, so order is kept. ``drain`` moves the spool
into the database, oldest first, when it answers again; ``read`` gives a session's events
from both, journal first. Timing never waits for the database to come back. The spool's
file work runs in a worker thread (``asyncio.to_thread``): an fsync must not stall every
page for its duration.
Only an outage is spooled: a batch the database refuses for a reason of its own (a number
too large for its column, a string it cannot store) would be refused again after every
drain, so it is ``RejectedEvents`` instead, and the caller journals the batch event by
event to find the one at fault. ``is_outage`` tells the two apart by the error's type
(connection, operational and interface errors, ``OSError``); a driver error that says
neither is settled by asking the database a trivial question.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.journal import JournalStore
from server.engine.events import InputEvent, to_record
from server.service.session_copy import SessionCopy
from server.service.spool import Spool, Spooled

log = logging.getLogger("racecontrol.journal")

_OUTAGE = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    OSError,  # ConnectionError, a refused or reset socket, a full disk
    TimeoutError,
)
# the statement reached a working database, which refused these values
_REFUSED = (DataError, IntegrityError, ProgrammingError)


class RejectedEvents(Exception):
    """The database works but refuses this batch: the fault is in the events."""


def outage_by_type(exc: BaseException) -> bool | None:
    """True for an outage, False for a refused batch, None when the type does not say."""
    if isinstance(exc, _OUTAGE):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        return False if isinstance(exc, _REFUSED) else None
    # StatementError (a value no column type takes), OverflowError, ValueError, ...
    return False


class DurableJournal:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        spool: Spool,
        copy: SessionCopy | None = None,
    ) -> None:
        self.store = JournalStore(sessionmaker)
        self._db = sessionmaker
        self.spool = spool
        self.copy = (
            copy
            if copy is not None
            else SessionCopy(spool.path.with_name(spool.path.name + ".session"))
        )
        self.database_ok = True
        self.down_since_us: int | None = None  # when the database stopped answering
        self._copy_started: asyncio.Task[None] | None = None  # a copy being (re)written

    async def is_outage(self, exc: BaseException) -> bool:
        """Whether ``exc`` from the journal means the database is unreachable."""
        by_type = outage_by_type(exc)
        if by_type is not None:
            return by_type
        try:
            async with self._db() as db:
                await db.execute(text("SELECT 1"))
        except Exception:
            return True
        return False

    async def append(self, session_id: int, events: Sequence[InputEvent], at_us: int) -> int | None:
        """Journal ``events``; while the database is unreachable, spool them instead.
        The journal seq of the last one, None when spooled (or no events).
        Raises ``RejectedEvents`` when the database refuses the batch itself, and
        ``OSError`` only when the spool cannot be written either."""
        if not self.spool:
            try:
                # made once, for the journal and its local copy (a burst's largest cost)
                records = [to_record(event) for event in events]
                seqs = await self.store.append(session_id, events, at_us, records)
                self.database_ok = True
                await self._copied(session_id, events, records)
                return seqs[-1] if seqs else None
            except Exception as exc:
                if not await self.is_outage(exc):
                    raise RejectedEvents(f"{type(exc).__name__}: {exc}") from exc
                log.error("database unreachable, spooling to %s: %s", self.spool.path, exc)
                self.database_ok = False
                self.down_since_us = at_us
        # keeps order while it is not empty
        await asyncio.to_thread(self.spool.append, session_id, events, at_us)
        return None

    async def drain(self) -> None:
        """Move spooled events into the journal, oldest first (raises while the DB is down).

        Each batch (one session, one recording time) is one transaction, acknowledged in the
        spool only once committed: a crash in between replays that batch, never skips it."""
        pending = await asyncio.to_thread(self.spool.pending)
        for (session_id, at_us), batch in groupby(
            pending, key=lambda s: (s.session_id, s.recorded_at_us)
        ):
            group = list(batch)
            try:
                await self.store.append(session_id, [s.event for s in group], at_us)
            except Exception as exc:
                if await self.is_outage(exc):
                    raise
                await self._drain_one_by_one(session_id, group, at_us)
            else:
                await asyncio.to_thread(self.spool.acknowledge, group[-1].end_offset)
                await self._copied(session_id, [s.event for s in group])
        if self.spool:  # only unreadable lines were left: set aside, nothing to wait for
            await asyncio.to_thread(self.spool.pending)
        if not self.database_ok:
            log.info("database back: spool drained")
        self.database_ok, self.down_since_us = True, None

    async def _drain_one_by_one(
        self, session_id: int, group: Sequence[Spooled], at_us: int
    ) -> None:
        """A spooled group the database refuses: journal what it takes, log the rest.
        Each event leaves the spool as soon as it is settled, so an outage half-way
        through journals nothing twice."""
        for spooled in group:
            try:
                await self.store.append(session_id, [spooled.event], at_us)
            except Exception as exc:
                if await self.is_outage(exc):
                    raise
                log.error(
                    "spooled event refused by the database, dropped: %r (%s)", spooled.event, exc
                )
            else:
                await self._copied(session_id, [spooled.event])
            await asyncio.to_thread(self.spool.acknowledge, spooled.end_offset)

    def offline_since(self, at_us: int) -> None:
        """The database did not answer at start-up: spool from the first event on."""
        self.database_ok, self.down_since_us = False, at_us

    def start_copy(self, write: Callable[[], None]) -> None:
        """(Re)write the local copy with ``write`` in a worker thread, without waiting: the
        events journaled meanwhile are appended to it once it is written. A loaded
        session times on at once (a long session's copy is tens of MB, fsynced)."""

        async def written(before: asyncio.Task[None] | None) -> None:
            if before is not None:
                await asyncio.gather(before, return_exceptions=True)
            try:
                await asyncio.to_thread(write)
            except OSError as exc:  # a convenience: a full disk costs it, never timing
                log.error("local session copy %s not written: %s", self.copy.path, exc)

        self._copy_started = asyncio.create_task(written(self._copy_started))

    async def copy_written(self) -> None:
        """Wait until the copy started last is written (or failed, logged)."""
        if self._copy_started is not None:
            await self._copy_started

    async def _copied(
        self,
        session_id: int,
        events: Sequence[InputEvent],
        records: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        """Keep the local copy of the timed session's journal (``session_copy``) in step;
        it is a convenience, so a full disk costs it, never the journal."""
        await self.copy_written()  # its start first: the events go after it
        try:
            await asyncio.to_thread(self.copy.append, session_id, events, records)
        except OSError as exc:
            log.error("local session copy %s not written: %s", self.copy.path, exc)

    async def try_drain(self) -> None:
        """``drain`` if there is anything to drain; a database still down is no error."""
        if self.spool:
            with contextlib.suppress(SQLAlchemyError, OSError):  # still down: try again later
                await self.drain()

    async def read(self, session_id: int, after_seq: int = 0) -> list[InputEvent]:
        """The session's events (those after ``after_seq``, if given): the database's
        journal, then what waits in the spool."""
        journal = [event for _seq, event in await self.store.read(session_id, after_seq)]
        return journal + await asyncio.to_thread(self.spool.pending_for, session_id)
