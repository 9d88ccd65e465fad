"""The ``racecontrol`` command as an operator runs it: its ``main`` in this process with
its own stdin, stdout and stderr (``tests.fixtures.cli``), and ``--help`` as a real
subprocess (``python -m server.cli`` starts)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from server.cli.main import main
from server.db.migrate import upgrade
from tests.fixtures.cli import run_cli

RACECONTROL = [sys.executable, "-m", "server.cli"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RACECONTROL, *args], capture_output=True, text=True, input=stdin, timeout=120
    )


def test_database_users_tokens_and_entries(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rc.db'}"
    run = run_cli
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


def test_tokens_expire_are_listed_and_revoked_and_users_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process (``main`` as the console script calls it): many commands, fast."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'rc.db'}"

    def rc(*args: str) -> tuple[int, str, str]:
        try:
            code = main([*args, "--db", url])
        except SystemExit as exc:  # argparse's refusals
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out.strip(), err

    upgrade(url)
    assert (
        rc("token", "create", "--role", "timing", "--label", "shift", "--expires-in", "8h")[0] == 0
    )
    assert rc("token", "create", "--role", "control", "--label", "desk")[0] == 0
    code, _, err = rc("token", "create", "--role", "control", "--expires-in", "soon")
    assert code == 2 and "90s, 30m, 8h, 2d" in err
    listed = rc("token", "list")[1].splitlines()
    assert listed[1].startswith("1\ttiming\tshift\t") and not listed[1].endswith("never")
    assert listed[2] == "2\tcontrol\tdesk\tnever"
    assert rc("token", "revoke", "shift")[1] == "1 token(s) revoked"
    assert rc("token", "revoke", "2")[0] == 0
    code, _, err = rc("token", "revoke", "2")
    assert code == 2 and "no token with id or label '2'" in err
    assert rc("token", "list")[1] == "id\trole\tlabel\texpires"

    monkeypatch.setattr("sys.stdin", io.StringIO("pw-long-1\n"))
    assert rc("user", "add", "marie", "--role", "control")[0] == 0
    code, out, _ = rc("user", "remove", "marie")
    assert code == 0 and out == "user 'marie' removed; 0 login(s) ended"
    code, _, err = rc("user", "remove", "marie")
    assert code == 2 and "no user 'marie'" in err

    assert rc("login", "list")[1] == "key\tfailures\tlocked\tlast"
    code, _, err = rc("login", "lift", "addr:10.0.0.9")
    assert code == 2 and "racecontrol login list" in err
    assert rc("login", "lift", "--all")[1] == "0 key(s) lifted"
