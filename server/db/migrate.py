"""Schema version: run Alembic migrations, and refuse to serve an un-migrated database.

Strategy: Alembic owns the schema. ``upgrade`` runs it programmatically with the
package's ``migrations/`` folder (package data beside this module, so it is there in a
checkout, an editable install and a wheel alike). The Alembic environment
runs its own event loop with ``asyncio.run``, so ``upgrade`` is a plain blocking
function: call it from sync code, or from async code through ``asyncio.to_thread``
(called from a running loop anyway, it moves itself to a worker thread and blocks).
``check_migrated`` is what the app calls at start-up; its message says which command
fixes the problem.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import alembic.command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

# package data: the migrations travel inside the wheel, next to this module
ALEMBIC_DIR = Path(str(resources.files("server.db").joinpath("migrations")))


class DatabaseNotMigrated(RuntimeError):
    """The database's schema is missing or not at this version's head."""


def alembic_config(url: str) -> Config:
    """An Alembic config for ``url`` that does not touch the application's logging."""
    if not (ALEMBIC_DIR / "env.py").is_file():
        raise RuntimeError(f"migrations not found at {ALEMBIC_DIR}: reinstall racecontrol")
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    # ConfigParser interpolation: a '%' in the URL (an escaped password) must be doubled
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def _outside_event_loop(func: Callable[..., object], *args: object) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        func(*args)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(func, *args).result()


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision`` (blocking)."""
    _outside_event_loop(alembic.command.upgrade, alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the database at ``url`` down to ``revision`` (blocking; "base" empties it)."""
    _outside_event_loop(alembic.command.downgrade, alembic_config(url), revision)


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(ALEMBIC_DIR))


def head_revisions() -> set[str]:
    return set(_scripts().get_heads())


def _current_revisions(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


async def current_revisions(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return await connection.run_sync(_current_revisions)


async def check_migrated(engine: AsyncEngine) -> None:
    """Raise :class:`DatabaseNotMigrated` unless the database is exactly at head."""
    current = await current_revisions(engine)
    heads = head_revisions()
    if current == heads:
        return
    url = engine.url.render_as_string(hide_password=True)
    fix = f"run: racecontrol db upgrade --db {shlex.quote(url)}"
    if not current:
        raise DatabaseNotMigrated(f"database {url} has no racecontrol schema; {fix}")
    known = {script.revision for script in _scripts().walk_revisions()}
    unknown = current - known
    if unknown:
        raise DatabaseNotMigrated(
            f"database {url} is at revision {', '.join(sorted(unknown))}, which this version "
            "of racecontrol does not know: it was migrated by a newer one; upgrade racecontrol"
        )
    raise DatabaseNotMigrated(
        f"database {url} is at revision {', '.join(sorted(current))}, "
        f"this racecontrol needs {', '.join(sorted(heads))}; {fix}"
    )
