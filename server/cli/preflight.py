"""What a command checks before it starts anything, each problem one line that says the fix.

Strategy: every check raises :class:`UserError`, which ``racecontrol`` prints as one line
on stderr (exit code 2) instead of a traceback. The checks run in the order an operator
fixes things: the settings (``RACECONTROL_*`` and options), the database URL, the decoder
URLs, then the database itself. ``ensure_migrated`` looks for a SQLite file before
connecting, because connecting would create an empty one and leave it behind.
"""

from __future__ import annotations

import errno
import os
import secrets
import shlex
import socket
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy import make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from server.settings import Settings

DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
DATABASE_FORMS = "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE"
KEY_FILE_SUFFIX = ".key"


class UserError(Exception):
    """A problem the operator can fix; printed without a traceback."""


def load_settings(**overrides: Any) -> Settings:
    """``Settings`` from the environment and ``overrides``; a bad value is a UserError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise UserError(f"RACECONTROL_{field.upper()}: {message}") from None
    except SettingsError as exc:  # a value pydantic-settings could not even decode
        cause = f": {exc.__cause__}" if exc.__cause__ is not None else ""
        raise UserError(f"{exc}{cause}") from None


def _parse_database_url(url: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        raise UserError(f"{url!r} is not a database URL; use {DATABASE_FORMS}") from None


def check_database_url(url: str) -> None:
    """Only the async drivers racecontrol runs on: the fix names the URL to use."""
    parsed = _parse_database_url(url)
    backend, _, driver = parsed.drivername.partition("+")
    backend = "postgresql" if backend == "postgres" else backend
    if backend not in DRIVERS:
        raise UserError(
            f"database {backend!r} is not supported: racecontrol runs on SQLite or "
            f"PostgreSQL; use {DATABASE_FORMS}"
        )
    wanted = f"{backend}+{DRIVERS[backend]}"
    if driver != DRIVERS[backend]:
        fixed = parsed.set(drivername=wanted).render_as_string(hide_password=True)
        given = f"driver {driver!r}" if driver else "no driver"
        raise UserError(
            f"the database URL names {given}; racecontrol needs {wanted}://, i.e. {fixed}"
        )


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL and in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:" or parsed.query.get("uri"):
        return None
    return Path(parsed.database)


def upgrade_hint(url: str) -> str:
    shown = make_url(url).render_as_string(hide_password=True)
    return f"run: racecontrol db upgrade --db {shlex.quote(shown)}"


async def ensure_migrated(url: str) -> None:
    """Refuse an un-migrated or unreachable database, saying which command to run."""
    from server.db.connection import create_engine  # late: `racecontrol --help` stays fast
    from server.db.migrate import DatabaseNotMigrated, check_migrated

    check_database_url(url)
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise UserError(f"there is no database at {path}; {upgrade_hint(url)}")
    engine = create_engine(url)
    try:
        await check_migrated(engine)
    except DatabaseNotMigrated as exc:
        raise UserError(str(exc)) from exc
    except (OSError, DBAPIError, SQLAlchemyError) as exc:
        shown = engine.url.render_as_string(hide_password=True)
        first_line = (str(getattr(exc, "orig", None) or exc).splitlines() or ["?"])[0]
        raise UserError(
            f"cannot open the database {shown}: {first_line}; check that it is running and "
            "that the URL's host, user, password and database name are right"
        ) from exc
    finally:
        await engine.dispose()


def check_decoder_urls(urls: list[str]) -> None:
    """Every decoder URL, before anything starts (a bad one is a one-line UserError)."""
    from timing_adapters.registry import check_decoder_url

    for url in urls:
        try:
            check_decoder_url(url)
        except ValueError as exc:
            raise UserError(f"bad decoder URL: {exc}") from None


def check_range(option: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise UserError(f"{option} {value:g} is out of range: give {low:g} to {high:g}")


def port_problem(exc: OSError) -> str:
    """Why a listener could not bind, completing "port N on HOST ..."."""
    if exc.errno == errno.EADDRINUSE:
        return "is taken (another program, or another racecontrol, listens there)"
    return f"cannot be used: {exc.strerror or exc}"


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host``:``port`` (OSError when it cannot bind), bound
    here rather than by uvicorn so a taken port is one line, not a log and an exit."""
    try:
        family = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise UserError(f"host {host!r}: {exc.strerror}; give an address of this machine") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


# --- the session-signing key -----------------------------------------------------------


def key_file(settings: Settings) -> Path:
    """Where the login cookies' signing key is kept: next to a SQLite database, next to
    the spool for PostgreSQL (the spool is this machine's own state too)."""
    path = sqlite_file(settings.database_url)
    if path is not None:
        return path.with_name(path.name + KEY_FILE_SUFFIX)
    parsed = make_url(settings.database_url)
    name = f"racecontrol-{parsed.host or 'local'}-{parsed.port or 5432}-{parsed.database}"
    return Path(settings.spool_path).resolve().with_name(name + KEY_FILE_SUFFIX)


def stored_secret_key(path: Path) -> str:
    """The key in ``path``, created (mode 0600, readable by this user only) if missing."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise UserError(f"cannot create the key file {path}: {exc.strerror}") from None
    else:
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
    try:
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the key file {path}: {exc}") from None
    if len(key) < 32:
        raise UserError(
            f"the key file {path} holds no usable key; delete it (a new one is made at the "
            "next start, and everyone logs in again) or set RACECONTROL_SECRET_KEY"
        )
    return key


def with_secret_key(settings: Settings) -> Settings:
    """``settings`` with the kept signing key, unless RACECONTROL_SECRET_KEY sets one."""
    if "secret_key" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"secret_key": stored_secret_key(key_file(settings))})
