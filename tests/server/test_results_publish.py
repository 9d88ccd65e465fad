"""Results for edges: what the race service writes to Redis, when, and what it does while
Redis is away (on SQLite and PostgreSQL, with a real Redis 7; keys under a test prefix)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db import repository
from server.db.connection import sessionmaker
from server.service.results import ResultRow, rows_json
from server.web.rendering import Renderer
from server.web.results_publish import ResultsPublisher, results_key
from tests.fixtures.app_server import free_port
from tests.fixtures.redis_keys import REDIS_URL, needs_redis

AT = datetime(2027, 5, 1, 18, 0, tzinfo=UTC)


def row(number: str, position: int) -> ResultRow:
    return ResultRow(
        position, number, "A", position, f"Team {number}", ("Ann",), 30, None, None, 0, None,
        0, None, 0, None, 0, None, None, 1, "", "running", (),
    )  # fmt: skip


async def finished_session(engine: AsyncEngine) -> int:
    async with sessionmaker(engine)() as db:
        session = await repository.create_session(db, "Edge Cup", "race", "Race", 60)
        await repository.add_version(
            db, session.id, rows_json([row("7", 1), row("8", 2)]), reason="session finished",
            actor="engine", seq=1, at=AT,
        )  # fmt: skip
        return session.id


@needs_redis
async def test_a_session_is_published_when_a_version_is_stored_or_signed(
    db_engine: AsyncEngine, redis_prefix: str
) -> None:
    assert REDIS_URL is not None
    sid = await finished_session(db_engine)
    publisher = ResultsPublisher(REDIS_URL, redis_prefix, sessionmaker(db_engine), Renderer())
    try:
        assert await publisher.publish_changed() == 1
        assert await publisher.publish_changed() == 0  # nothing changed: nothing written
        fields = await publisher.redis.hkeys(results_key(redis_prefix, sid))
        names = sorted(f.decode() for f in fields)
        assert names == sorted(
            f"race:{v}:{kind}" for v in ("v1", "latest") for kind in ("html", "json", "csv", "pdf")
        )
        async with sessionmaker(db_engine)() as db:
            latest = await repository.latest_version(db, sid)
            assert latest is not None
            await repository.sign_official(db, latest, "steward", "checked", AT)
        assert await publisher.publish_changed() == 1  # the signature changes the pages
        page = await publisher.redis.hget(results_key(redis_prefix, sid), "race:latest:html")
        assert page is not None and b"Team 8" in page
        async with sessionmaker(db_engine)() as db:
            await repository.add_version(
                db, sid, rows_json([row("8", 1), row("7", 2)]), reason="late penalty",
                actor="steward", seq=2, at=AT,
            )  # fmt: skip
        assert await publisher.publish_changed() == 1
        v2 = await publisher.redis.hget(results_key(redis_prefix, sid), "race:v2:json")
        assert v2 is not None and b'"version": 2' in v2
        assert publisher.sessions_published == 3
    finally:
        await publisher.close()


async def test_redis_away_delays_the_results_and_never_ends_the_task(
    db_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    await finished_session(db_engine)
    nothing_there = f"redis://127.0.0.1:{free_port()}/0"
    publisher = ResultsPublisher(
        nothing_there, "rc-away", sessionmaker(db_engine), Renderer(), interval_s=0.01
    )
    caplog.set_level(logging.WARNING, "racecontrol.redis")
    task = asyncio.create_task(publisher.run())
    try:
        async with asyncio.timeout(10):
            while publisher.rounds < 5:  # noqa: ASYNC110 - the task counts its rounds
                await asyncio.sleep(0.01)
        assert not task.done()  # it goes on trying
        warnings = [r for r in caplog.records if "not published now" in r.message]
        assert len(warnings) == 1 and publisher.published == {}
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await publisher.close()
