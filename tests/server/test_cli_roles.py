"""``racecontrol user add`` / ``token create`` with the timing role, and names the database
would refuse, said as an operator's error (the command's ``main`` in this process, as
``tests.fixtures.cli`` runs it)."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.cli import run_cli as run


def test_timing_users_and_tokens_and_refused_names(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rc.db'}"
    assert run("db", "upgrade", "--db", url).returncode == 0
    added = run("user", "add", "tk", "--role", "timing", "--db", url, stdin="pw-long-1\n")
    assert added.returncode == 0, added.stderr
    assert "role timing" in added.stdout
    token = run("token", "create", "--role", "timing", "--db", url)
    assert token.returncode == 0 and len(token.stdout.strip()) >= 32

    control = run("user", "add", "a\x07b", "--role", "control", "--db", url, stdin="pw-long-1\n")
    assert control.returncode == 2
    assert "no control characters" in control.stderr and "Traceback" not in control.stderr
    long_name = run("user", "add", "u" * 101, "--role", "pit", "--db", url, stdin="pw-long-1\n")
    assert long_name.returncode == 2 and "at most 100" in long_name.stderr

    entries = tmp_path / "entries.csv"
    entries.write_text("number,class,team,drivers,transponder\n7,A,Bad\x1bTeam,Ann,1001\n")
    refused = run("import", "entries", str(entries), "--event", "Cup", "--db", url)
    assert refused.returncode == 2, refused.stderr
    assert "control character in" in refused.stderr and "Traceback" not in refused.stderr
