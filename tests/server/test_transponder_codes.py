"""Transponder codes are checked against what the decoders can report: each kind of
decoder reports codes of one form, a car whose code cannot come is never timed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from server.db import repository
from server.db.connection import create_engine, sessionmaker
from server.engine.events import ExternalAlertRaised, Severity
from server.engine.model import Entry
from server.service.decoder_alerts import unreportable_alert
from tests.fixtures.app_server import free_port, prepare_database, running_server, wait_until
from tests.fixtures.cli import CliResult, run_cli
from timing_adapters.registry import (
    AMB_CODES,
    CODE_FORMS,
    MYLAPS_CODES,
    P3_CODES,
    RMONITOR_CODES,
    CodeForm,
    code_form,
    unreportable,
)

NOW = 1_700_000_000_000_000


@pytest.mark.parametrize(
    ("form", "reported", "never"),
    [
        (
            P3_CODES,
            ["0", "1001", "4294967295", "AB-12345", "ab-1-2"],  # ProChip strings (field 0x0A)
            ["4294967296", "01001", "KV86583", "-1", "", "AB-", "-AB", "A--1", "A" * 31 + "-12"],
        ),
        (AMB_CODES, ["1001", "0001228", "ab12", "9" * 32], ["9" * 33, "12-34", "1 2", ""]),
        (RMONITOR_CODES, ["1234BE", "Car 7 ü", "x"], ["車12", "a\tb", ""]),
        (MYLAPS_CODES, ["KV86583", "0001228"], ["KV8658", "kv86583", "KV865833", "1001"]),
    ],
)
def test_each_kind_reports_codes_of_its_form(
    form: CodeForm, reported: list[str], never: list[str]
) -> None:
    assert form in CODE_FORMS
    for code in reported:
        assert form.reports(code), code
    for code in never:
        assert not form.reports(code), code


def test_the_decoder_url_says_the_form() -> None:
    assert code_form("tcp://10.0.0.5:5403") is P3_CODES
    assert code_form("p3+serial:///dev/ttyUSB0") is P3_CODES
    assert code_form("ilap+tcp://10.0.0.5:9000") is AMB_CODES
    assert code_form("rmonitor+tcp://10.0.0.9") is RMONITOR_CODES
    assert code_form("mylaps+listen://0.0.0.0") is MYLAPS_CODES
    why = unreportable("KV86583", [P3_CODES])
    assert why == (
        "'KV86583' cannot come from the decoders "
        "(P3 reports numbers from 0 to 4294967295 without leading zeros, "
        "or codes with a dash such as AB-12345)"
    )
    assert unreportable("1001", [MYLAPS_CODES, P3_CODES]) is None


def test_the_start_up_alert_names_every_car_with_a_code_that_cannot_come() -> None:
    entries = [
        Entry("7", "A", "Seven", transponders=("1001",)),
        Entry("07", "A", "Oh Seven", transponders=("KV86583", "1002")),
        Entry("8", "B", "Eight", transponders=("0001228",)),
    ]
    alert = unreportable_alert(entries, ["tcp://10.0.0.5:5403"], NOW)
    assert alert is not None
    assert (alert.kind, alert.severity, alert.at_us) == (
        "transponders_unreportable",
        Severity.CRITICAL,
        NOW,
    )
    assert "car 07 (KV86583), car 8 (0001228)" in alert.text and "car 7 " not in alert.text
    # with a T&S exchange as well, KV86583 and 0001228 can come
    both = ["tcp://10.0.0.5:5403", "mylaps+listen://0.0.0.0:3097"]
    assert unreportable_alert(entries, both, NOW) is None
    assert unreportable_alert(entries, [], NOW) is None  # no decoder configured: no verdict


async def test_serve_raises_the_alert_to_race_control(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    entries = "number,class,team,drivers,transponder\n7,A,Seven,Ann,1001\n8,A,Eight,Bo,KV86583\n"
    token = await prepare_database(db_url, entries, "Code Cup")
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as db:
            await repository.create_session(db, "Code Cup", "race", "Race", 60)
    finally:
        await engine.dispose()
    decoder = f"mylaps+listen://127.0.0.1:{free_port()}"  # T&S reports chip codes only
    with caplog.at_level(logging.WARNING, logger="racecontrol"):
        async with running_server(db_url, token, decoders=[decoder]) as srv:
            await wait_until(
                lambda: (
                    srv.race.engine is not None
                    and any(a.kind == "transponders_unreportable" for a in srv.race.engine.alerts())
                )
            )
            assert srv.race.engine is not None
            alert = next(
                a for a in srv.race.engine.alerts() if a.kind == "transponders_unreportable"
            )
            assert "car 7 (1001)" in alert.text and "car 8" not in alert.text
    lines = [r.getMessage() for r in caplog.records if "cannot report" in r.getMessage()]
    assert len(lines) == 1 and "car 7 (1001)" in lines[0] and "\n" not in lines[0]

    # a restart says it again in the log, but race control keeps the one open alert
    async with running_server(db_url, token, decoders=[decoder]) as srv:
        # journaled after anything queued at start, so the engine has seen all of that
        await srv.race.submit(ExternalAlertRaised("marker", "after start", 0))
        assert srv.race.engine is not None
        raised = [a for a in srv.race.engine.alerts() if a.kind == "transponders_unreportable"]
        assert len(raised) == 1


def run(*args: str, cwd: Path) -> CliResult:
    """``racecontrol`` in this process, as from a shell without the test settings."""
    return run_cli(*args, cwd=cwd, clean_env=True)


def test_import_refuses_codes_no_decoder_can_report(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rc.db'}"
    assert run("db", "upgrade", "--db", url, cwd=tmp_path).returncode == 0
    (tmp_path / "entries.csv").write_text(
        "number,class,team,drivers,transponder\n"
        "7,A,Seven,Ann,1001\n"
        "8,A,Eight,Bo,KV86583\n"
        "9,B,Nine,Cy,車12\n",
        encoding="utf-8",
    )
    refused = run("import", "entries", "entries.csv", "--event", "Cup", "--db", url, cwd=tmp_path)
    assert refused.returncode == 2
    assert "row 4, transponder: '車12' cannot come from the decoders" in refused.stderr
    assert "row 2" not in refused.stderr and "row 3" not in refused.stderr

    (tmp_path / "entries.csv").write_text(
        "number,class,team,drivers,transponder\n7,A,Seven,Ann,1001\n8,A,Eight,Bo,KV86583\n"
    )
    p3 = ("--decoder", "tcp://10.0.0.5:5403")
    only_p3 = run(
        "import", "entries", "entries.csv", "--event", "Cup", *p3, "--db", url, cwd=tmp_path
    )
    assert only_p3.returncode == 2
    assert "row 3, transponder: 'KV86583' cannot come from the decoders (P3 reports numbers" in (
        only_p3.stderr
    )
    assert "row 2" not in only_p3.stderr
    tns = ("--decoder", "mylaps+listen://0.0.0.0")
    also = run(
        "import", "entries", "entries.csv", "--event", "Cup", *tns, "--db", url, cwd=tmp_path
    )
    assert also.returncode == 2 and "row 2, transponder: '1001'" in also.stderr
    anything = run("import", "entries", "entries.csv", "--event", "Cup", "--db", url, cwd=tmp_path)
    assert anything.returncode == 0, anything.stderr
    bad = run(
        "import",
        "entries",
        "entries.csv",
        "--event",
        "Cup",
        "--decoder",
        "udp://x",
        "--db",
        url,
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and "bad decoder URL" in bad.stderr
