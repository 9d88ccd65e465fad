"""Past sessions' standings: read from storage, never replayed on a request.

Strategy: a session's standings are stored (``session_results``, at the journal seq they
were computed at) when another session becomes the timed one or when a finished one is
loaded. A request reads that row; if it is missing or older than the journal, one
background task per session rebuilds it (the replay's CPU work in a thread) and the caller
gets None meanwhile (the API answers 503 with ``Retry-After``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository
from server.engine import RaceEngine
from server.engine.model import Entry, StandingRow

log = logging.getLogger("racecontrol.race")

Replay = Callable[[int], Awaitable[tuple[RaceEngine, str, list[Entry]]]]
LastSeq = Callable[[int], Awaitable[int]]


class PastResults:
    def __init__(
        self, db: async_sessionmaker[AsyncSession], last_seq: LastSeq, replay: Replay
    ) -> None:
        self._db, self._last_seq, self._replay = db, last_seq, replay
        self._rebuilding: dict[int, asyncio.Task[None]] = {}

    async def store(self, engine: RaceEngine, session_id: int) -> None:
        """Store ``engine``'s standings as session ``session_id``'s, at its last journal seq."""
        seq = await self._last_seq(session_id)
        async with self._db() as db:
            await repository.save_results(db, session_id, seq, engine.standings())

    async def standings(self, session_id: int) -> list[StandingRow] | None:
        """A session's stored standings, or None while they are being rebuilt (started
        here if missing or stale: the replay runs in a background task and a thread,
        never in the caller). Raises ``LookupError`` for an unknown session."""
        async with self._db() as db:
            stored = await repository.current_results(db, session_id)
        if stored is not None:
            return stored.standings
        if session_id not in self._rebuilding:
            task = asyncio.create_task(self._rebuild(session_id))
            self._rebuilding[session_id] = task
            task.add_done_callback(lambda done: self._rebuilt(session_id, done))
        return None

    async def _rebuild(self, session_id: int) -> None:
        seq = await self._last_seq(session_id)
        engine, _event_name, _entries = await self._replay(session_id)
        async with self._db() as db:
            await repository.save_results(db, session_id, seq, engine.standings())
        log.info("session %s: standings rebuilt at journal seq %s", session_id, seq)

    def _rebuilt(self, session_id: int, task: asyncio.Task[None]) -> None:
        self._rebuilding.pop(session_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "session %s: rebuilding its standings failed", session_id, exc_info=task.exception()
            )
