"""Alembic environment: async engines, the models' metadata, SQLite batch mode.

Strategy: the URL comes from the ``sqlalchemy.url`` option (set by
``server.db.migrate`` or the CLI) or else ``RACECONTROL_DATABASE_URL``, or else the
default SQLite file. Migrations run on their own short-lived engine (no pool), inside
``asyncio.run``: callers must not already be running an event loop in this thread
(``server.db.migrate.upgrade`` takes care of that). On SQLite, ALTER TABLE is done in
batch mode (copy, drop, rename), with foreign keys OFF: otherwise dropping a parent
table while copying it would cascade-delete its children's rows.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from server.db.connection import DEFAULT_URL
from server.db.models import Base

config = context.config
target_metadata = Base.metadata

# Only when run as `alembic ...` with alembic.ini: a programmatic upgrade from the app
# must not reconfigure (and disable) the application's loggers.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    return (
        config.get_main_option("sqlalchemy.url")
        or os.environ.get("RACECONTROL_DATABASE_URL")
        or DEFAULT_URL
    )


def run_migrations_offline() -> None:
    """`alembic upgrade head --sql`: print the SQL instead of running it."""
    url = database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # a no-op inside a transaction: set (and commit) it before ours begins
                await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                await connection.commit()
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # a caller lent us a (sync) connection: use it as is
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
