"""Events, sessions, users, tokens and the audit log on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository
from server.db.models import ApiTokenRow, AuditRow, EventRow, Role, UserRow
from server.engine.events import SessionKind
from server.engine.model import SessionConfig

SM = async_sessionmaker[AsyncSession]


async def test_sessions_of_an_event(db_sessionmaker: SM) -> None:
    async with db_sessionmaker() as db:
        assert await repository.latest_session(db) is None
        practice = await repository.create_session(db, "Spring 6h", "practice", "Practice", 30)
        race = await repository.create_session(db, "Spring 6h", SessionKind.RACE, "Race", None)
        other = await repository.create_session(db, "Summer", "sprintduro", "SprintDuro", 120)
    async with db_sessionmaker() as db:
        event = await repository.get_or_create_event(db, "Spring 6h")
        assert practice.event_id == race.event_id == event.id != other.event_id
        assert event.min_lap_ms == 20_000
        assert event.created_at.tzinfo is UTC
        assert (await repository.get_event(db, event.id)).name == "Spring 6h"
        assert [s.id for s in await repository.list_sessions(db)] == [
            practice.id,
            race.id,
            other.id,
        ]
        assert [s.name for s in await repository.list_sessions(db, event.id)] == [
            "Practice",
            "Race",
        ]
        latest = await repository.latest_session(db)
        assert latest is not None and latest.id == other.id
        loaded = await repository.get_session(db, race.id)
        assert (loaded.type, loaded.state, loaded.length_minutes) == ("race", "not_started", None)
        assert len(list(await db.scalars(select(EventRow)))) == 2


async def test_session_state_and_config(db_sessionmaker: SM) -> None:
    async with db_sessionmaker() as db:
        event = await repository.get_or_create_event(db, "Enduro")
        event.min_lap_ms = 45_500
        await db.commit()
        race = await repository.create_session(db, "Enduro", "race", "4 Hour", 240)
        await repository.set_session_state(db, race.id, "green")
    async with db_sessionmaker() as db:
        assert (await repository.get_session(db, race.id)).state == "green"
        config = await repository.session_config(db, race.id)
    assert config == SessionConfig(
        session_id=race.id,
        kind=SessionKind.RACE,
        name="4 Hour",
        length_us=240 * 60_000_000,
        min_lap_us=45_500_000,
    )


async def test_missing_rows_and_bad_values(db_sessionmaker: SM) -> None:
    async with db_sessionmaker() as db:
        with pytest.raises(repository.NotFound):
            await repository.get_session(db, 404)
        with pytest.raises(repository.NotFound):
            await repository.get_event(db, 404)
        with pytest.raises(repository.NotFound):
            await repository.session_config(db, 404)
        with pytest.raises(ValueError):
            await repository.create_session(db, "E", "endurance", "Race", 60)
        with pytest.raises(ValueError):
            await repository.create_session(db, "E", "race", "Race", 0)
        assert await repository.list_sessions(db) == []


async def test_users_log_in_with_the_right_password_only(db_sessionmaker: SM) -> None:
    async with db_sessionmaker() as db:
        user = await repository.add_user(db, "alice", "correct horse", "steward")
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
        await repository.add_user(db, "bob", "hunter2", Role.CONTROL)
    async with db_sessionmaker() as db:
        assert await repository.verify_user(db, "alice", "correct horse") is Role.STEWARD
        assert await repository.verify_user(db, "bob", "hunter2") == "control"
        assert await repository.verify_user(db, "alice", "hunter2") is None
        assert await repository.verify_user(db, "nobody", "hunter2") is None
        with pytest.raises(ValueError):
            await repository.add_user(db, "carol", "pw", "admin")
        with pytest.raises(ValueError):
            await repository.add_user(db, "carol", "", "pit")
    async with db_sessionmaker() as db:
        with pytest.raises(IntegrityError):
            await repository.add_user(db, "alice", "again", "pit")
    async with db_sessionmaker() as db:
        assert len(list(await db.scalars(select(UserRow)))) == 2


async def test_tokens_are_stored_hashed(db_sessionmaker: SM) -> None:
    async with db_sessionmaker() as db:
        token = await repository.create_token(db, "timing", "decoder laptop")
        other = await repository.create_token(db, Role.PIT, "pit lane")
    assert token != other and len(token) >= 40
    async with db_sessionmaker() as db:
        assert await repository.verify_token(db, token) is Role.TIMING
        assert await repository.verify_token(db, other) is Role.PIT
        assert await repository.verify_token(db, token + "x") is None
        assert await repository.verify_token(db, "") is None
        rows = list(await db.scalars(select(ApiTokenRow)))
        assert {row.label for row in rows} == {"decoder laptop", "pit lane"}
        assert all(token not in row.token_hash and len(row.token_hash) == 64 for row in rows)
        with pytest.raises(ValueError):
            await repository.create_token(db, "root", "nope")


async def test_audit_records_who_did_what(db_sessionmaker: SM) -> None:
    async with db_sessionmaker() as db:
        await repository.audit(db, "alice", "flag", {"flag": "yellow", "why": "debris T3"})
        await repository.audit(db, "api", "session.create")
    async with db_sessionmaker() as db:
        rows = list(await db.scalars(select(AuditRow).order_by(AuditRow.id)))
    assert [(r.actor, r.action, r.detail) for r in rows] == [
        ("alice", "flag", {"flag": "yellow", "why": "debris T3"}),
        ("api", "session.create", {}),
    ]
    assert all(r.at.tzinfo is UTC for r in rows)
