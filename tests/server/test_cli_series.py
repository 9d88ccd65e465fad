"""``racecontrol series``: a club sets up its championship from the command line, and a
table that cannot be used is refused in one line with the reason."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from server.cli.main import main
from server.db import series
from server.db.connection import create_engine, sessionmaker


def racecontrol(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def test_a_season_is_set_up_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'rc.db'}"
    entries = tmp_path / "entries.csv"
    entries.write_text("number,class,team,drivers,transponder\n1,A,One,Ann,1001\n")
    bands = tmp_path / "bands.csv"
    bands.write_text("class,low,high\nA,0,30\nB,30,45\n")
    equivalency = tmp_path / "equivalency.csv"
    equivalency.write_text("body,their_class,class\nNASA,E1,B\n")
    assert racecontrol(capsys, "db", "upgrade", "--db", db)[0] == 0
    assert (
        racecontrol(capsys, "import", "entries", str(entries), "--event", "Spring", "--db", db)[0]
        == 0
    )
    steps = [
        (["series", "create", "IMG", "--trophy-depth", "5"], "created with the img points scheme"),
        (["series", "classes", "IMG", str(bands)], "2 classes"),
        (["series", "equivalency", "IMG", str(equivalency)], "1 equivalent classes"),
        (["series", "add-event", "IMG", "Spring"], "event 'Spring' is round 1"),
    ]
    for args, said in steps:
        code, out, err = racecontrol(capsys, *args, "--db", db)
        assert (code, err) == (0, ""), err
        assert said in out

    async def stored() -> series.Series:
        engine = create_engine(db)
        try:
            async with sessionmaker(engine)() as session:
                return await series.load_series(session, "IMG")
        finally:
            await engine.dispose()

    loaded = asyncio.run(stored())
    assert loaded.scheme.trophy_depth == 5
    assert loaded.equivalency == {("NASA", "E1"): "B"}
    assert [name for _id, name, _order in loaded.events] == ["Spring"]


@pytest.mark.parametrize(
    ("csv", "reason"),
    [
        ("class,low,high\nA,0,30\nB,25,45\n", "class bands A (0-30) and B (25-45) overlap"),
        (
            "class,low,high\nA,0,thirty\n",
            "line 2: expected class,low,high (could not convert string to float: 'thirty')",
        ),
    ],
)
def test_a_bad_class_table_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], csv: str, reason: str
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'rc.db'}"
    bands = tmp_path / "bands.csv"
    bands.write_text(csv)
    racecontrol(capsys, "db", "upgrade", "--db", db)
    racecontrol(capsys, "series", "create", "IMG", "--db", db)
    code, _out, err = racecontrol(capsys, "series", "classes", "IMG", str(bands), "--db", db)
    assert code == 2
    assert err == f"racecontrol: {reason}"
    code, _out, err = racecontrol(capsys, "series", "add-event", "Nope", "Spring", "--db", db)
    assert (code, err) == (2, "racecontrol: no series called 'Nope'")
