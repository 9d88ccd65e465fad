"""Staff stay logged in across a restart: the login cookies' signing key is made once,
kept in a key file (mode 0600) next to the database, and RACECONTROL_SECRET_KEY overrides."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from server.cli.preflight import UserError, key_file, stored_secret_key, with_secret_key
from server.settings import Settings
from tests.fixtures.app_server import free_port
from tests.fixtures.cli import run_cli

RACECONTROL = [sys.executable, "-m", "server.cli"]


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RACECONTROL_")}
    environment["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    environment["RACECONTROL_SPOOL_PATH"] = str(tmp_path / "spool.jsonl")
    environment["RACECONTROL_RMONITOR_PORT"] = str(free_port())
    return {**environment, **extra}


@contextmanager
def serving(tmp_path: Path, url: str, port: int, **extra: str) -> Iterator[str]:
    """``racecontrol serve`` as a subprocess, once ``/live`` answers; stopped after."""
    with (tmp_path / f"serve-{port}.log").open("a") as log:
        process = subprocess.Popen(
            [*RACECONTROL, "serve", "--db", url, "--port", str(port)],
            stdout=log,
            stderr=log,
            env=_environment(tmp_path, **extra),
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / f"serve-{port}.log").read_text()
            try:
                if httpx.get(f"{base}/live", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not answer within 60 s"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_login_survives_a_restart(tmp_path: Path) -> None:
    database = tmp_path / "event.db"
    url = f"sqlite+aiosqlite:///{database}"
    for command in (
        ("db", "upgrade", "--db", url),
        ("user", "add", "rc", "--role", "control", "--password", "s3cret-pass", "--db", url),
    ):  # set up in this process; each serve below is a process of its own
        done = run_cli(*command, clean_env=True)
        assert done.returncode == 0, done.stderr

    port = free_port()
    with (
        serving(tmp_path, url, port) as base,
        httpx.Client(base_url=base, headers={"Origin": base}) as browser,  # as a browser says
    ):
        login = browser.post("/login", data={"name": "rc", "password": "s3cret-pass"})
        assert login.status_code == 303
        assert browser.get("/control").status_code == 200
        cookies = dict(browser.cookies)
    key = tmp_path / "event.db.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    kept = key.read_text()

    with serving(tmp_path, url, port) as base, httpx.Client(base_url=base) as browser:
        browser.cookies.update(cookies)
        page = browser.get("/control")
        assert page.status_code == 200, page.headers.get("location")
    assert key.read_text() == kept

    # RACECONTROL_SECRET_KEY overrides the kept key: the old cookie no longer signs in
    with (
        serving(tmp_path, url, port, RACECONTROL_SECRET_KEY="x" * 40) as base,
        httpx.Client(base_url=base) as browser,
    ):
        browser.cookies.update(cookies)
        refused = browser.get("/control")
        assert refused.status_code == 303 and refused.headers["location"].startswith("/login")


def test_the_key_file_is_made_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'rc.db'}")
    path = key_file(settings)
    assert path == tmp_path / "rc.db.key"
    first = with_secret_key(settings).secret_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert with_secret_key(settings).secret_key == first == stored_secret_key(path)
    assert len(first) >= 32

    overridden = Settings(database_url=settings.database_url, secret_key="y" * 40)
    assert with_secret_key(overridden).secret_key == "y" * 40

    path.write_text("short\n")
    with pytest.raises(UserError, match="holds no usable key; delete it"):
        stored_secret_key(path)


def test_postgresql_keeps_its_key_next_to_the_spool(tmp_path: Path) -> None:
    settings = Settings(
        database_url="postgresql+asyncpg://rc@db.local:5433/racing",
        spool_path=str(tmp_path / "spool.jsonl"),
    )
    assert key_file(settings) == tmp_path / "racecontrol-db.local-5433-racing.key"
