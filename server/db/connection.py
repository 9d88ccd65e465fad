"""Async engines and session factories for SQLite (default) and PostgreSQL.

Strategy: the URL picks the backend. SQLite gets the settings that make it a good
single-host store for live timing: WAL (readers never block the writer), synchronous
NORMAL (a commit is one WAL append; with WAL it cannot corrupt, at worst loses the last
transaction on power loss), foreign keys enforced (off by default in SQLite) and a busy
timeout so that a second connection waits instead of failing with "database is locked".
They are per-connection settings, so they are applied on every new DBAPI connection.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

DEFAULT_URL = "sqlite+aiosqlite:///racecontrol.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
)


def _set_sqlite_pragmas(dbapi_connection: Any, _connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url`` (``sqlite+aiosqlite://...`` or ``postgresql+asyncpg://...``)."""
    if make_url(url).get_backend_name() == "sqlite":
        engine = _create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        return engine
    # pre-ping: after a PostgreSQL restart the pool's connections are dead; test them on
    # checkout rather than failing the first journal append.
    # Bounded waits: an unreachable server must fail fast so events go to the spool
    # instead of stalling live timing (asyncpg's connect timeout is 60 s by default).
    return _create_async_engine(
        url,
        pool_pre_ping=True,
        pool_timeout=5,
        connect_args={"timeout": 5, "command_timeout": 10},
    )


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory; objects stay readable after commit (no implicit refresh I/O)."""
    return async_sessionmaker(engine, expire_on_commit=False)
