"""The audit log that never blocks a decision: who did what, in the database or held locally.

Strategy: every write from the pages (a flag, a driver change, a correction) is audited. While
the database is unreachable the decision itself is safe in the outage spool, and its audit line
must not turn the answer into a 500: it goes to a local JSON-lines file beside the spool
(fsynced, off the event loop), with the time it happened, and the spool drain writes those lines
back, oldest first, in one transaction, before it deletes the file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import AuditRow

log = logging.getLogger("racecontrol.audit")


class AuditLog:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], held_path: Path) -> None:
        self._db = sessionmaker
        self.held_path = held_path  # lines waiting for the database
        # what a drain took (renamed, so lines held meanwhile are never lost)
        self._draining = held_path.with_name(held_path.name + ".draining")

    @property
    def holding(self) -> bool:
        return self.held_path.exists() or self._draining.exists()

    async def record(self, actor: str, action: str, detail: Mapping[str, Any]) -> None:
        """Audit now; while the database cannot take it (or lines already wait), hold it."""
        at = datetime.now(UTC)
        if not self.holding:  # order: once lines are held, every later one is held too
            try:
                async with self._db() as db:
                    db.add(AuditRow(at=at, actor=actor, action=action, detail=dict(detail)))
                    await db.commit()
                return
            except (SQLAlchemyError, OSError) as exc:
                log.error("audit held locally, database unreachable: %s", exc)
        line = json.dumps(
            {"at": at.isoformat(), "actor": actor, "action": action, "detail": dict(detail)}
        )
        await asyncio.to_thread(self._hold, line)

    def _hold(self, line: str) -> None:
        with self.held_path.open("a", encoding="utf-8") as held:
            held.write(line + "\n")
            held.flush()
            os.fsync(held.fileno())

    async def drain(self) -> None:
        """Write the held lines to the database, oldest first (raises while it is still
        unreachable; what it took is kept and tried again first)."""
        while self.holding:
            if not self._draining.exists():
                await asyncio.to_thread(os.replace, self.held_path, self._draining)
            await self._drain_taken()

    async def _drain_taken(self) -> None:
        text = await asyncio.to_thread(self._draining.read_text, "utf-8")
        rows = []
        for line in text.splitlines():
            try:
                data = json.loads(line)
                rows.append(
                    AuditRow(
                        at=datetime.fromisoformat(data["at"]),
                        actor=str(data["actor"]),
                        action=str(data["action"]),
                        detail=dict(data["detail"]),
                    )
                )
            except (ValueError, KeyError, TypeError):
                log.error("unreadable held audit line dropped: %r", line[:200])
        async with self._db() as db:
            db.add_all(rows)
            await db.commit()
        await asyncio.to_thread(self._draining.unlink)
