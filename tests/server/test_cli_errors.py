"""Operator mistakes get one line on stderr that says the fix: no traceback, exit code 2.

Each case runs the ``racecontrol`` command's ``main`` in this process, with its own
stdin, stdout, stderr and environment (``tests.fixtures.cli``); one case runs the real
command as a subprocess, as an operator would, to show the process says it the same way.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from server.cli.preflight import UserError, check_decoder_urls
from tests.fixtures.cli import CliResult, run_cli

RACECONTROL = [sys.executable, "-m", "server.cli"]
ENTRIES = "number,class,team,drivers,transponder\n1,A,One,Ann,1001\n"


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
    return run_cli(*args, env=env, cwd=cwd, clean_env=True)


def run_process(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RACECONTROL_")}
    environment["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return subprocess.run(
        [*RACECONTROL, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**environment, **(env or {})},
        cwd=cwd,
    )


def one_line_error(result: subprocess.CompletedProcess[str] | CliResult) -> str:
    """The single line the command printed; fails on a traceback or a success."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("racecontrol: ")
    return lines[0]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'rc.db'}"
    upgraded = run("db", "upgrade", "--db", url)
    assert upgraded.returncode == 0, upgraded.stderr
    return url


BAD_DECODER_URLS = [
    ("foo://10.0.0.5:5403", "unsupported decoder URL scheme 'foo'; use one of tcp, p3+tcp"),
    ("amb+tcp://10.0.0.5", "give the decoder's TCP port, amb+tcp://HOST:PORT"),
    ("serial:///dev/ttyUSB0?baud=fast", "baud must be"),
]


@pytest.mark.parametrize(("decoder", "says"), BAD_DECODER_URLS)
def test_a_bad_decoder_url_is_one_line_before_anything_starts(
    migrated: str, decoder: str, says: str
) -> None:
    line = one_line_error(run("serve", "--db", migrated, "--port", "0", "--decoder", decoder))
    assert "bad decoder URL" in line and says in line


@pytest.mark.parametrize(
    ("decoder", "says"),
    [
        *BAD_DECODER_URLS,
        ("10.0.0.5:5403", "needs a scheme, e.g. tcp://HOST:5403"),
        ("tcp://10.0.0.5:54o3", "invalid decoder URL"),
        ("serial:///dev/ttyUSB0?speed=9600", "unknown option 'speed'"),
        ("ilap+serial:///dev/ttyUSB0?parity=X", "parity must be N, E, O, M or S"),
        ("rmonitor+tcp://10.0.0.9:50000/feed", "must be rmonitor+tcp://host[:port]"),
        ("mylaps+listen://", "has no host; use mylaps+listen://0.0.0.0:3097"),
    ],
)
def test_every_kind_of_decoder_url_is_checked(decoder: str, says: str) -> None:
    with pytest.raises(UserError) as refused:
        check_decoder_urls(["tcp://10.0.0.1:5403", decoder])
    assert str(refused.value).startswith("bad decoder URL: ") and says in str(refused.value)
    assert "\n" not in str(refused.value)


def test_good_decoder_urls_pass() -> None:
    check_decoder_urls(
        [
            "tcp://10.0.0.5",
            "p3+tcp://10.0.0.5:5403",
            "serial:///dev/ttyUSB0?baud=19200",
            "amb+serial:///dev/ttyS0?baud=9600",
            "ilap+tcp://10.0.0.6:9000",
            "rmonitor+tcp://10.0.0.9",
            "mylaps+listen://0.0.0.0:3097",
        ]
    )


def test_a_bad_decoders_environment_value_is_one_line(migrated: str) -> None:
    unclosed = run("serve", "--db", migrated, env={"RACECONTROL_DECODERS": '["tcp://a:5403"'})
    line = one_line_error(unclosed)
    assert "RACECONTROL_DECODERS" in line and "separated by commas" in line
    bad_url = run("serve", "--db", migrated, env={"RACECONTROL_DECODERS": "tcp://a:5403,udp://b"})
    assert "unsupported decoder URL scheme 'udp'" in one_line_error(bad_url)
    # the same environment breaks the demo: it is said the same way
    demo = run("demo", "--length-minutes", "60", env={"RACECONTROL_DECODERS": "[1, 2]"})
    assert "RACECONTROL_DECODERS" in one_line_error(demo)


def test_other_bad_settings_are_one_line(migrated: str) -> None:
    line = one_line_error(run("serve", "--db", migrated, env={"RACECONTROL_PORT": "eighty"}))
    assert line.startswith("racecontrol: RACECONTROL_PORT: ")


@pytest.mark.parametrize(
    "command",
    [
        ("user", "add", "marie", "--role", "control", "--password", "pw-long-1"),
        ("token", "create", "--role", "control"),
        ("pin", "set", "--event", "Cup"),
        ("import", "entries", "entries.csv", "--event", "Cup"),
        ("import", "track", "track.csv", "--event", "Cup"),
    ],
)
def test_database_commands_before_db_upgrade_say_to_run_it(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    (tmp_path / "entries.csv").write_text(ENTRIES)
    (tmp_path / "track.csv").write_text("decoder,role,sector,distance_m,name\n1,start_finish,,,\n")
    database = tmp_path / "new.db"
    url = f"sqlite+aiosqlite:///{database}"
    line = one_line_error(run(*command, "--db", url, cwd=tmp_path))
    assert f"racecontrol db upgrade --db {url}" in line
    assert not database.exists()  # no empty database file left behind


def test_a_database_file_never_migrated_gets_the_same_advice(tmp_path: Path) -> None:
    database = tmp_path / "empty.db"
    database.touch()
    url = f"sqlite+aiosqlite:///{database}"
    line = one_line_error(run("token", "create", "--role", "control", "--db", url))
    assert "has no racecontrol schema" in line and f"racecontrol db upgrade --db {url}" in line
    # the real command, as a process: the same one line, exit status 2
    assert one_line_error(run_process("token", "create", "--role", "control", "--db", url)) == line


def test_serve_on_a_taken_port_is_one_line(migrated: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        line = one_line_error(run("serve", "--db", migrated, "--port", str(port)))
    assert line == (
        f"racecontrol: HTTP port {port} on 127.0.0.1 is taken (another program, or another "
        "racecontrol, listens there); give another --port (or RACECONTROL_PORT)"
    )
    assert not Path(migrated.removeprefix("sqlite+aiosqlite:///") + ".key").exists()


def test_serve_on_an_unmigrated_sqlite_path_leaves_no_file(tmp_path: Path) -> None:
    database = tmp_path / "event.db"
    line = one_line_error(run("serve", "--db", f"sqlite+aiosqlite:///{database}"))
    assert "racecontrol db upgrade" in line
    assert sorted(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (
            "postgresql://rc:secret@db.local/racing",
            "needs postgresql+asyncpg://, i.e. postgresql+asyncpg://rc:***@db.local/racing",
        ),
        ("postgres://db.local/racing", "i.e. postgresql+asyncpg://db.local/racing"),
        ("postgresql+psycopg2://db.local/racing", "names driver 'psycopg2'"),
        ("sqlite:///racecontrol.db", "i.e. sqlite+aiosqlite:///racecontrol.db"),
        ("mysql+aiomysql://db.local/racing", "'mysql' is not supported"),
        ("racecontrol.db", "is not a database URL; use sqlite+aiosqlite:///PATH"),
    ],
)
def test_an_unsupported_database_url_says_which_to_use(url: str, says: str) -> None:
    line = one_line_error(run("token", "create", "--role", "control", "--db", url))
    assert says in line, line
    assert "secret" not in line  # the password is never echoed


def test_db_upgrade_and_serve_check_the_database_url_too() -> None:
    for command in (("db", "upgrade"), ("serve",)):
        line = one_line_error(run(*command, "--db", "postgresql://rc@db.local/racing"))
        assert "i.e. postgresql+asyncpg://rc@db.local/racing" in line


def test_the_database_url_from_the_environment_is_checked_too() -> None:
    env = {"RACECONTROL_DATABASE_URL": "postgresql://db.local/racing"}
    assert "postgresql+asyncpg://" in one_line_error(run("db", "upgrade", env=env))


def test_an_unreachable_database_is_one_line() -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/racing"  # nothing listens on port 1
    line = one_line_error(run("token", "create", "--role", "control", "--db", url))
    assert "cannot open the database" in line and "check that it is running" in line


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        # the demo runs IMG rules: a race of 1 to 4 hours
        ("--length-minutes", "720", "--length-minutes 720: a race under the img rules lasts 60"),
        ("--length-minutes", "5", "lasts 60 to 240 minutes, not 5"),
        ("--cars", "0", "--cars 0 is out of range: give 1 to 120"),
        ("--cars", "500", "give 1 to 120"),
        ("--speed", "0", "--speed 0 is out of range: give 0.1 to 1000"),
    ],
)
def test_out_of_range_demo_options_say_the_range(
    tmp_path: Path, option: str, value: str, says: str
) -> None:
    line = one_line_error(run("demo", option, value, cwd=tmp_path))
    assert says in line
    assert sorted(tmp_path.iterdir()) == []  # refused before the demo database was made


def test_the_emulator_checks_the_same_ranges() -> None:
    line = one_line_error(run("emulate", "--length-minutes", "720"))
    assert "--length-minutes 720 is out of range: give 15 to 240" in line


def test_a_port_that_is_no_port_is_refused_by_the_parser(tmp_path: Path) -> None:
    refused = run("demo", "--port", "70000", cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "argument --port: '70000' is not a TCP port: give 0 to 65535" in refused.stderr
    assert sorted(tmp_path.iterdir()) == []


def test_edge_with_a_bad_redis_url_is_one_line() -> None:
    line = one_line_error(run("edge", "--redis", "127.0.0.1:6379"))
    assert "--redis '127.0.0.1:6379': give a URL like redis://127.0.0.1:6379/0" in line


def test_an_edge_watch_ttl_out_of_range_is_refused_by_the_parser() -> None:
    refused = run("edge", "--redis", "redis://127.0.0.1:6379/0", "--watch-ttl", "0")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "argument --watch-ttl: '0' is not a watch TTL: give 0.3 to 300 seconds" in refused.stderr
