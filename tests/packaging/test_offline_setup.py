"""Once set up, the README's first command needs no network: ``scripts/setup`` installs only when
``pyproject.toml`` changed since the last install (a stamp in ``.venv``).

The suite itself runs after ``scripts/setup test`` (``scripts/test``), so the stamp is current
here; the package index is made unreachable, and any pip run would fail or retry.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UNREACHABLE = {
    "PIP_INDEX_URL": "http://127.0.0.1:9/",
    "PIP_EXTRA_INDEX_URL": "",
    "PIP_FIND_LINKS": "",
    "PIP_CONFIG_FILE": os.devnull,
    "PIP_RETRIES": "0",
}


def test_setup_does_not_reinstall_while_pyproject_is_unchanged() -> None:
    stamp = (REPO / ".venv" / "racecontrol-installed").read_text().split()
    assert stamp[1] == hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()
    for extras in ([], ["test"]):
        done = subprocess.run(
            [str(REPO / "scripts" / "setup"), *extras],
            env={**os.environ, **UNREACHABLE},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "pip" not in done.stdout + done.stderr  # nothing was installed or asked for
