"""Alembic migrations on SQLite and PostgreSQL, and the start-up schema check."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db import repository
from server.db.connection import create_engine, sessionmaker
from server.db.migrate import (
    ALEMBIC_DIR,
    DatabaseNotMigrated,
    check_migrated,
    downgrade,
    head_revisions,
    upgrade,
)
from server.db.models import Base
from server.engine.rule_spec import ADDED_LATER, resolved_spec, rules_from_spec
from server.engine.rules import IMG, PRESETS

TABLES = set(Base.metadata.tables)
BRIEF = {
    "events",
    "classes",
    "cars",
    "drivers",
    "transponders",
    "decoders",
    "loops",
    "sessions",
    "journal",
    "users",
    "api_tokens",
    "audit_log",
    "series",
    "series_classes",
    "series_equivalency",
    "series_events",
    "series_awards",
    "session_results",
    "login_sessions",
    "login_throttle",
    "result_versions",
    "engine_checkpoints",
}


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _schema_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_models_cover_the_brief() -> None:
    assert TABLES == BRIEF
    assert (ALEMBIC_DIR / "versions" / "0001_initial.py").is_file()
    assert (ALEMBIC_DIR / "versions" / "0002_pit_pin.py").is_file()
    assert (ALEMBIC_DIR / "versions" / "0003_session_rules.py").is_file()
    assert (ALEMBIC_DIR / "versions" / "0004_licences.py").is_file()
    assert (ALEMBIC_DIR / "versions" / "0005_self_contained_sessions.py").is_file()
    assert (ALEMBIC_DIR / "versions" / "0006_login_sessions.py").is_file()
    assert (ALEMBIC_DIR / "versions" / "0007_result_versions.py").is_file()
    assert (ALEMBIC_DIR / "versions" / "0008_season.py").is_file()
    assert (ALEMBIC_DIR / "versions" / "0009_sprint_results_and_classing.py").is_file()
    assert (ALEMBIC_DIR / "versions" / "0010_checkpoint.py").is_file()
    assert head_revisions() == {"0010"}


async def test_upgrade_creates_the_models_schema(db_engine: AsyncEngine) -> None:
    async with db_engine.connect() as connection:
        assert await connection.run_sync(_tables) == TABLES
        # the hand-written migration and the models agree, column by column
        assert await connection.run_sync(_schema_diff) == []
    await check_migrated(db_engine)


async def test_downgrade_to_base_and_up_again(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await asyncio.to_thread(downgrade, db_url, "base")
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) == set()
        with pytest.raises(DatabaseNotMigrated):
            await check_migrated(engine)
        await asyncio.to_thread(upgrade, db_url)
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) == TABLES
        await check_migrated(engine)
    finally:
        await engine.dispose()


async def test_upgrade_twice_is_a_no_op(db_url: str, db_engine: AsyncEngine) -> None:
    async with sessionmaker(db_engine)() as db:
        await repository.add_user(db, "rc", "s3cret-pass", "control")
    await asyncio.to_thread(upgrade, db_url)
    await check_migrated(db_engine)  # still exactly at head
    async with db_engine.connect() as connection:
        assert await connection.run_sync(_tables) == TABLES
        assert await connection.run_sync(_schema_diff) == []
        versions = await connection.execute(text("SELECT count(*) FROM alembic_version"))
        assert versions.scalar_one() == 1
    async with sessionmaker(db_engine)() as db:  # the rows are kept
        assert await repository.verify_user(db, "rc", "s3cret-pass") == "control"


async def test_upgrade_called_inside_an_event_loop_still_works(empty_db_url: str) -> None:
    upgrade(empty_db_url)  # blocks the loop, but must not fail on asyncio.run
    engine = create_engine(empty_db_url)
    try:
        await check_migrated(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) == TABLES
    finally:
        await engine.dispose()


async def test_check_migrated_on_an_empty_database_names_the_command(empty_db_url: str) -> None:
    engine = create_engine(empty_db_url)
    try:
        with pytest.raises(DatabaseNotMigrated) as caught:
            await check_migrated(engine)
    finally:
        await engine.dispose()
    message = str(caught.value)
    assert "run: racecontrol db upgrade --db " in message
    assert engine.url.database is not None and engine.url.database in message


async def test_check_migrated_on_a_database_from_a_newer_version(db_engine: AsyncEngine) -> None:
    async with db_engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    with pytest.raises(DatabaseNotMigrated, match="newer"):
        await check_migrated(db_engine)


async def test_sqlite_connections_get_the_pragmas(db_engine: AsyncEngine) -> None:
    if db_engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    async with db_engine.connect() as connection:
        pragmas = {
            name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "foreign_keys": 1,
        "busy_timeout": 10_000,
    }


async def test_the_migrated_schema_enforces_constraints(db_engine: AsyncEngine) -> None:
    async with db_engine.begin() as connection:
        await connection.execute(text("INSERT INTO events (id, name) VALUES (1, 'E')"))
    bad = [
        "INSERT INTO sessions (event_id, type, name) VALUES (1, 'endurance', 'S')",
        "INSERT INTO sessions (event_id, type, name) VALUES (2, 'race', 'no such event')",
        "INSERT INTO users (name, password_hash, role) VALUES ('u', 'h', 'admin')",
        "INSERT INTO events (name) VALUES ('E')",
    ]
    for statement in bad:
        with pytest.raises(IntegrityError):
            async with db_engine.begin() as connection:
                await connection.execute(text(statement))
    async with db_engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO sessions (event_id, type, name) VALUES (1, 'race', 'S')")
        )
        row = (await connection.execute(text("SELECT state FROM sessions"))).one()
    assert row.state == "not_started"


async def test_0005_resolves_rule_sets_and_copies_the_minimum_lap(db_url: str) -> None:
    """Sessions made before 0005 (a preset name plus overrides, or NULL for IMG) come out
    with every rule field, resolved with the presets of their time, and their event's
    minimum lap; a downgrade gives back a spec the older code reads."""
    await asyncio.to_thread(downgrade, db_url, "0004")
    engine = create_engine(db_url)
    specs = {1: None, 2: {"preset": "aer", "min_stop_us": 0}, 3: {"preset": "img"}}
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO events (id, name, min_lap_ms) VALUES (1, 'Old Cup', 45000)")
            )
            for session_id, spec in specs.items():
                await connection.execute(
                    text(
                        "INSERT INTO sessions (id, event_id, type, name, rules) "
                        "VALUES (:id, 1, 'race', 'Old', :rules)"
                    ),
                    {"id": session_id, "rules": None if spec is None else json.dumps(spec)},
                )
        await asyncio.to_thread(upgrade, db_url)
        async with sessionmaker(engine)() as db:
            configs = {i: await repository.session_config(db, i) for i in specs}
            stored = {i: (await repository.get_session(db, i)).rules for i in specs}
        assert all(config.min_lap_us == 45_000_000 for config in configs.values())
        assert configs[1].rules == IMG and configs[3].rules == IMG
        assert configs[2].rules == replace(PRESETS["aer"], min_stop_us=0)
        # every field the rule set had at 0005 (later fields read their defaults)
        expected = resolved_spec(replace(PRESETS["aer"], min_stop_us=0))
        assert stored[2] == {k: v for k, v in expected.items() if k not in ADDED_LATER}
        await asyncio.to_thread(downgrade, db_url, "0004")
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT id, rules FROM sessions"))).all()
        back = {i: json.loads(r) if isinstance(r, str) else r for i, r in rows}
        assert back[2] is not None and back[2]["preset"] == "aer"
        assert rules_from_spec(back[2]) == replace(PRESETS["aer"], min_stop_us=0)
        await asyncio.to_thread(upgrade, db_url)
    finally:
        await engine.dispose()
