"""Temporary files go where ``tempfile`` (``TMPDIR``) or pytest's ``tmp_path`` say: a path
spelled out under /tmp would escape the run's temp folder (tests/fixtures/temp_guard.py)
and outlive the run."""

from __future__ import annotations

import ast
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("server", "timing_adapters", "tests")


def hard_coded_tmp_paths(source: str) -> list[int]:
    """Lines of the string literals (f-string parts too) that start with /tmp."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (node.value == "/tmp" or node.value.startswith("/tmp/"))
    ]


def test_no_source_spells_out_a_tmp_path() -> None:
    found = {
        f"{path.relative_to(ROOT)}:{line}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != Path(__file__).resolve()  # the check's own patterns
        for line in hard_coded_tmp_paths(path.read_text(encoding="utf-8"))
    }
    assert found == set()


def test_the_check_finds_literal_and_formatted_paths() -> None:
    source = 'a = "/tmp/x.csv"\nb = f"/tmp/entries-{a}.csv"\nc = "see /tmp"\nd = "/tmpfs"\n'
    assert hard_coded_tmp_paths(source) == [1, 2]


def test_the_run_keeps_its_temporary_files_in_its_own_folder(tmp_path: Path) -> None:
    folder = Path(tempfile.gettempdir())
    assert folder.name.startswith("racecontrol-tests-")
    assert tmp_path.is_relative_to(folder)


def test_a_run_that_leaves_a_temporary_folder_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = "import tempfile\n\n"
    pytester.makepyfile(
        test_leak=header + "def test_leaks():\n    tempfile.mkdtemp(prefix='probe-')\n",
        test_tidy=header + "def test_tidy():\n    tempfile.TemporaryDirectory().cleanup()\n",
    )
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    guard = ("-p", "tests.fixtures.temp_guard", "-p", "no:cacheprovider")
    tidy = pytester.runpytest_subprocess(*guard, "test_tidy.py")
    assert tidy.ret == pytest.ExitCode.OK
    leaky = pytester.runpytest_subprocess(*guard, "test_leak.py")
    leaky.assert_outcomes(passed=1)  # the test passes, the run does not
    assert leaky.ret == pytest.ExitCode.TESTS_FAILED
    leaky.stdout.fnmatch_lines(
        ["*temporary files left behind*", "in *racecontrol-tests-*: probe-*"]
    )
    assert not list(Path(tempfile.gettempdir()).glob("racecontrol-tests-*"))  # removed
