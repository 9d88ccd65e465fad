"""racecontrol from a wheel in a fresh venv, far from the checkout: the migrations, templates and
static files travel as package data, so ``db upgrade`` and ``serve`` work anywhere.

The wheel is built without build isolation (setuptools comes with the test extras), so the test
needs no package index. The fresh venv installs the wheel itself without its dependencies and
borrows them from this environment's site-packages through a ``.pth`` line: only the project's own
files come from the wheel (the editable install of the checkout is not visible there, since a
``.pth`` line adds a path without running the ``.pth`` files inside it).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.fixtures.serve_process import ServeProcess

REPO = Path(__file__).resolve().parents[2]
PIP = [sys.executable, "-m", "pip", "-q"]


def built_wheel(out: Path) -> Path:
    """The wheel, built from a copy of what the Dockerfile copies (setuptools builds in place)."""
    source = out / "source"
    for name in ("pyproject.toml", "README.md"):
        source.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, source / name)
    for package in ("server", "timing_adapters"):
        shutil.copytree(
            REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("racecontrol-*.whl")
    return wheel


def fresh_venv(root: Path, wheel: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    subprocess.run(
        [*PIP, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # the dependencies (FastAPI, SQLAlchemy...) from this environment, after the venv's own
    Path(site, "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return root / "bin"


@pytest.fixture(scope="module")
def venv_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    return fresh_venv(root / "venv", built_wheel(root / "dist"))


def test_the_wheel_carries_migrations_templates_and_static_files(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    wheel = built_wheel(tmp_path_factory.mktemp("dist"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "server/db/migrations/env.py" in names
    assert any(n.startswith("server/db/migrations/versions/0001_") for n in names)
    assert "server/web/templates/live.html" in names
    assert "server/web/static/live.js" in names
    assert "server/web/static/vendor/htmx.min.js" in names
    assert not any(n.startswith("tests/") for n in names)  # test data keeps its own licences


async def test_db_upgrade_and_serve_from_the_wheel(venv_bin: Path, tmp_path: Path) -> None:
    found = await asyncio.to_thread(
        subprocess.run,
        [str(venv_bin / "python"), "-c", "import server; print(server.__file__)"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    where = found.stdout
    assert str(REPO) not in where and str(venv_bin.parent) in where  # the wheel's copy, not ours

    url = f"sqlite+aiosqlite:///{tmp_path / 'event.db'}"
    upgraded = await asyncio.to_thread(
        subprocess.run,
        [str(venv_bin / "racecontrol"), "db", "upgrade", "--db", url],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgraded.returncode == 0, upgraded.stderr

    # any free port for the scoreboards, and the spool where it runs, as an operator would
    serve = ServeProcess(
        url,
        tmp_path,
        command=[str(venv_bin / "racecontrol")],
        env={"RACECONTROL_RMONITOR_PORT": "0", "RACECONTROL_SPOOL_PATH": "spool.jsonl"},
        cwd=tmp_path,
    )
    try:
        await serve.start()
        async with httpx.AsyncClient(base_url=serve.url) as client:
            page = await client.get("/live")
            assert page.status_code == 200 and b"<html" in page.content
            css = await client.get("/static/app.css")
            assert css.status_code == 200 and len(css.content) > 1000
    finally:
        await serve.stop()
