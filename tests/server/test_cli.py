"""The ``racecontrol`` command as an operator runs it (a real subprocess each time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RACECONTROL = [sys.executable, "-m", "server.cli"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RACECONTROL, *args], capture_output=True, text=True, input=stdin, timeout=120
    )


def test_database_users_tokens_and_entries(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rc.db'}"
    unmigrated = run("serve", "--db", url, "--port", "0")
    assert unmigrated.returncode == 2
    assert "racecontrol db upgrade" in unmigrated.stderr

    assert run("db", "upgrade", "--db", url).returncode == 0
    added = run("user", "add", "marie", "--role", "control", "--db", url, stdin="pw-long-1\n")
    assert added.returncode == 0, added.stderr
    token = run("token", "create", "--role", "control", "--db", url)
    assert token.returncode == 0
    assert len(token.stdout.strip()) >= 32

    good = tmp_path / "entries.csv"
    good.write_text(
        "number,class,team,drivers,transponder\n"
        "07,A,Oh Seven,Ann;Bob,1001;1002\n"
        "7,B,Seven,Cy,1003\n"
    )
    imported = run("import", "entries", str(good), "--event", "Cup", "--db", url)
    assert imported.returncode == 0, imported.stderr
    assert "2" in imported.stdout

    licences = tmp_path / "licences.csv"
    licences.write_text(
        "number,class,team,drivers,transponder,licence_expires,medical_expires\n"
        "12,A,Twelve,Ivy,1012,2027-01-01,2027-01-01\n"
    )
    dated = run(
        "import", "entries", str(licences), "--event", "Cup", "--date", "2026-05-16", "--db", url
    )
    assert dated.returncode == 0, dated.stderr
    undated = run(
        "import", "entries", str(licences), "--event", "Cup", "--date", "16/5", "--db", url
    )
    assert undated.returncode == 2  # argparse refuses a date that is not YYYY-MM-DD

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "number,class,team,drivers,transponder\n9,A,Nine,Di,1001\n,B,No Number,Ed,2002\n"
    )
    refused = run("import", "entries", str(bad), "--event", "Cup", "--db", url)
    assert refused.returncode == 2
    assert "nothing imported" in refused.stderr
    assert "row 2" in refused.stderr.lower() and "row 3" in refused.stderr.lower()


def test_help_lists_the_commands() -> None:
    out = run("--help").stdout
    for command in ("demo", "serve", "db", "user", "token", "import", "emulate"):
        assert command in out
