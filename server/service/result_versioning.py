"""The versions of a session's results: stored when it finishes, again whenever an input
changes them after that, and signed official by race control.

Strategy: the race service's writer calls in here (holding its lock) after it applies a
batch; this keeps, per session, the rows of the latest stored version (read once from the
database, dropped when a store fails so the next call reads again) and the inputs applied
to an ended session that no version carries yet, whose reasons become the next version's.
A SprintDuro's sprint has its own versions (part ``sprint``), signed with the race.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository
from server.db.models import ResultVersionRow
from server.engine import RaceEngine
from server.engine.events import InputEvent
from server.service.results import result_rows, rows_json
from timing_adapters.clock import Clock

log = logging.getLogger("racecontrol.race")

FINISHED_REASON = "session finished"
SPRINT = "sprint"  # the results part of a SprintDuro's sprint (result_versions.part)
SPRINT_REASON = "sprint classified"
SPRINT_CHANGED = "sprint classification changed"

Rows = list[dict[str, Any]]


class ResultsRefused(ValueError):
    """Results cannot be signed official now (a running session, none yet, signed)."""


def _reason_of(late: list[InputEvent]) -> tuple[str, str]:
    """Why a finished session's results changed: the reasons (and who gave them) of the
    inputs applied to it that give one, else the inputs' types."""
    given = [e for e in late if getattr(e, "reason", "")]  # corrections, decisions
    late = given or late
    reasons = [str(getattr(e, "reason", "") or type(e).__name__) for e in late]
    actors = [str(getattr(e, "actor", "")) for e in late if getattr(e, "actor", "")]
    return "; ".join(dict.fromkeys(reasons)) or FINISHED_REASON, ", ".join(
        dict.fromkeys(actors)
    ) or "engine"


class ResultVersioning:
    """Stores and signs the result versions of the sessions a ``RaceService`` times."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        last_seq: Callable[[int], Awaitable[int]],
        clock: Clock,
    ) -> None:
        self._db = sessionmaker
        self._last_seq = last_seq  # the journal seq a version is taken at
        self._clock = clock
        # the rows of each session's latest stored result version (None: none stored)
        self._versioned: dict[int, Rows | None] = {}
        # inputs applied to an ended session that no version carries yet, by session
        self._late: dict[int, list[InputEvent]] = {}
        # the rows of each SprintDuro's latest stored sprint version (None: none stored)
        self._sprint_versioned: dict[int, Rows | None] = {}

    def ended(self, session_id: int) -> bool:
        """The session had finished (a version is stored), even if a correction reopened it."""
        return self._versioned.get(session_id) is not None

    def add_late(self, session_id: int, late: list[InputEvent]) -> None:
        """Inputs applied to an ended session: kept until a version carries them (a
        reopened session ends later)."""
        self._late.setdefault(session_id, []).extend(late)

    def results_unknown(self, session_id: int | None) -> bool:
        """No version of the session's results checked since it was loaded (or a store failed)."""
        return session_id not in self._versioned

    def sprint_unknown(self, session_id: int | None) -> bool:
        """No version of the session's sprint results checked yet (or a store failed)."""
        return session_id not in self._sprint_versioned

    def _wall(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now_us() / 1_000_000, UTC)

    async def version_results(
        self, engine: RaceEngine | None, session_id: int | None
    ) -> ResultVersionRow | None:
        """Store the next version of the timed session's results if it has finished and
        they differ from its latest version (the first: ``FINISHED_REASON``). The caller
        holds the race service's lock. Generic: whatever input changed a finished
        session's results (a correction, a steward's decision) gets a version with its
        reason (the inputs applied since the last version, ``_late``, even when one
        reopened the session and it ended again later, by a crossing or the finish
        timeout). With the database down, nothing is stored: the next input or tick
        tries again."""
        if engine is not None and session_id is not None:
            await self.version_sprint(engine, session_id, self._late.get(session_id, []))
        if engine is None or session_id is None or not engine.status().finished:
            return None
        rows = rows_json(
            result_rows(
                engine.standings(),
                engine.entries(),
                engine.status().green_at_us,
                {row.number: engine.laps_of(row.number) for row in engine.standings()},
            )
        )
        try:
            if session_id not in self._versioned:
                async with self._db() as db:
                    latest = await repository.latest_version(db, session_id)
                self._versioned[session_id] = None if latest is None else latest.rows
            known = self._versioned[session_id]
            if known == rows:
                self._late.pop(session_id, None)  # they changed nothing
                return None
            reason, actor = _reason_of(self._late.get(session_id, []))
            if known is None:
                reason, actor = FINISHED_REASON, "engine"
            seq = await self._last_seq(session_id)
            async with self._db() as db:
                stored = await repository.add_version(
                    db, session_id, rows, reason=reason, actor=actor, seq=seq, at=self._wall()
                )
        except (SQLAlchemyError, OSError) as exc:
            log.warning("session %s: results version not stored yet (%s)", session_id, exc)
            self._versioned.pop(session_id, None)
            return None
        self._versioned[session_id] = rows
        self._late.pop(session_id, None)
        log.info("session %s: results version %s (%s)", session_id, stored.version, reason)
        return stored

    async def version_sprint(
        self, engine: RaceEngine | None, session_id: int | None, inputs: list[InputEvent]
    ) -> ResultVersionRow | None:
        """Store the next version of a SprintDuro's sprint results (part ``sprint``) once
        the sprint cut is decided (every car that started is classified) and whenever
        they change after that (a correction of a lap before the cut, a decision), with
        the reasons of ``inputs`` (those applied since). The caller holds the lock; with
        the database down nothing is stored and the next input or tick tries again."""
        if engine is None or session_id is None:
            return None
        sprint = engine.sprint_standings()
        if sprint is None or not sprint.complete:
            return None
        laps = {
            row.number: [lap for lap in engine.laps_of(row.number) if lap.lap <= row.laps]
            for row in sprint.rows
        }
        green_at_us = engine.status().green_at_us
        rows = rows_json(result_rows(sprint.rows, engine.entries(), green_at_us, laps))
        try:
            if session_id not in self._sprint_versioned:
                async with self._db() as db:
                    latest = await repository.latest_version(db, session_id, SPRINT)
                self._sprint_versioned[session_id] = None if latest is None else latest.rows
            known = self._sprint_versioned[session_id]
            if known == rows:
                return None
            reason, actor = _reason_of(inputs) if inputs else (SPRINT_CHANGED, "engine")
            if known is None:
                reason, actor = SPRINT_REASON, "engine"
            seq = await self._last_seq(session_id)
            async with self._db() as db:
                stored = await repository.add_version(
                    db, session_id, rows, reason=reason, actor=actor, seq=seq,
                    at=self._wall(), part=SPRINT,
                )  # fmt: skip
        except (SQLAlchemyError, OSError) as exc:
            log.warning("session %s: sprint results version not stored yet (%s)", session_id, exc)
            self._sprint_versioned.pop(session_id, None)
            return None
        self._sprint_versioned[session_id] = rows
        log.info("session %s: sprint results version %s (%s)", session_id, stored.version, reason)
        return stored

    async def sign_latest(self, session_id: int, actor: str, note: str) -> ResultVersionRow:
        """Sign the session's latest stored version official (and a SprintDuro's sprint
        with it). ``ResultsRefused`` before it has results or when they are signed
        already. The caller holds the lock and has versioned the timed session."""
        async with self._db() as db:
            latest = await repository.latest_version(db, session_id)
            if latest is None:
                raise ResultsRefused(f"session {session_id} has no results: it has not ended")
            if latest.official and latest.official_at is not None:
                raise ResultsRefused(
                    f"version {latest.version} of session {session_id} is already official"
                )
            # a SprintDuro's sprint is signed with its race
            sprint = await repository.latest_version(db, session_id, SPRINT)
            if sprint is not None and not (sprint.official and sprint.official_at):
                await repository.sign_official(db, sprint, actor, note, self._wall())
            return await repository.sign_official(db, latest, actor, note, self._wall())
