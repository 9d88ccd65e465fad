"""Audit lines never fail a decision: held locally while the database is unreachable, written
back in order, with the time each thing happened, when it returns."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.connection import create_engine, sessionmaker
from server.db.models import AuditRow
from server.service.audit import AuditLog


async def audit_rows(
    db: async_sessionmaker[AsyncSession],
) -> list[tuple[str, str, dict[str, object]]]:
    async with db() as session:
        rows = await session.scalars(select(AuditRow).order_by(AuditRow.id))
        return [(r.actor, r.action, r.detail) for r in rows]


async def test_audit_is_held_while_the_database_is_away_and_written_back(
    db_sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    held = tmp_path / "spool.jsonl.audit"
    await AuditLog(db_sessionmaker, held).record("marie", "flag", {"flag": "green"})
    assert not held.exists()

    # the database's disk is gone: SQLite cannot even open the file
    gone = create_engine(f"sqlite+aiosqlite:///{tmp_path}/unmounted/rc.db")
    try:
        away = AuditLog(sessionmaker(gone), held)
        await away.record("pin:Cup", "driver_change", {"number": "7", "driver": "Ann"})
        await away.record("marie", "message", {"text": "Track clear"})
        assert held.read_text().count("\n") == 2
        with pytest.raises(OperationalError, match="unable to open database file"):
            await away.drain()  # still away: nothing is lost, it waits
        assert away.holding
    finally:
        await gone.dispose()

    back = AuditLog(db_sessionmaker, held)
    await back.record("marie", "flag", {"flag": "yellow"})  # held too: order is kept
    await back.drain()
    assert not back.holding
    assert await audit_rows(db_sessionmaker) == [
        ("marie", "flag", {"flag": "green"}),
        ("pin:Cup", "driver_change", {"number": "7", "driver": "Ann"}),
        ("marie", "message", {"text": "Track clear"}),
        ("marie", "flag", {"flag": "yellow"}),
    ]
    async with db_sessionmaker() as session:
        times = list(await session.scalars(select(AuditRow.at).order_by(AuditRow.id)))
    assert times == sorted(times)  # the time each happened, not the time it was written


async def test_lines_held_during_a_drain_are_not_lost(
    db_sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    held = tmp_path / "spool.jsonl.audit"
    held.write_text(
        '{"at": "2026-05-16T10:00:00+00:00", "actor": "a", "action": "x", "detail": {}}\n'
    )
    log = AuditLog(db_sessionmaker, held)
    await asyncio.gather(log.drain(), log.record("b", "y", {}))
    await log.drain()
    assert sorted(await audit_rows(db_sessionmaker)) == [("a", "x", {}), ("b", "y", {})]
