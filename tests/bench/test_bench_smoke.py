"""Every bench script still runs: each at a trivial size, as a user runs it (a subprocess
from the repository root). Nothing here is timed; the checks are on what the benches
count (laps replayed, passings seen by every client), so a bench that silently measures
nothing fails here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def visible(folder: Path) -> set[str]:
    """What a user sees in a folder (tools' hidden caches and coverage data aside)."""
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")}


def run_bench(script: str, *args: str, timeout: float = 100) -> str:
    before = visible(ROOT)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # a bench keeps its files (databases, spools, logs) in its own temporary folder
    assert visible(ROOT) - before == set(), "left in the repository"
    return done.stdout


def median_row(output: str) -> list[str]:
    """The last line that starts with ``median`` (the summary), split in columns."""
    rows = [line.split() for line in output.splitlines() if line.startswith("median")]
    assert rows, output
    return rows[-1]


def test_ingest_bench_journals_every_passing() -> None:
    out = run_bench("ingest.py", "--runs", "1", "--bursts", "2", "--burst", "50", "--cars", "5")
    _median, ours, bare, _worst, *_ = median_row(out)
    # the bench itself raises if any passing was not journaled and applied
    assert float(ours) > 0 and float(bare) > 0, out


def test_replay_bench_rebuilds_every_lap() -> None:
    out = run_bench("replay.py", "--passings", "100", "--tail", "20", "--runs", "2", "--cars", "5")
    row = median_row(out)
    # 100 crossings over 5 cars: 20 each, the first of each starts lap 1
    assert int(row[-1]) == 5 * 19, out


def test_engine_apply_bench_runs() -> None:
    out = run_bench("engine_apply.py", "--runs", "1", "--cars", "5", "--laps", "2")
    assert re.search(r"\d", out), out


def _latency_rows(out: str) -> list[list[str]]:
    """The summary's two rows (racecontrol, bare) after the last header."""
    lines = out.splitlines()
    header = max(i for i, line in enumerate(lines) if line.lstrip().startswith("clients"))
    return [line.split() for line in lines[header + 1 :] if line.strip()]


def test_latency_bench_every_client_sees_every_passing() -> None:
    out = run_bench(
        "latency.py", "--clients", "5", "--runs", "1", "--burst", "20", "--rate", "5",
        "--duration", "1", "--bursts", "1", "--burst-cars", "10", "--cars", "10", "--timeout", "60",
    )  # fmt: skip
    ours, bare = _latency_rows(out)
    assert ours[0] == bare[0] == "5", out
    assert ours[10] == bare[10] == "0", out  # missed
    assert float(ours[1]) > 0, out  # the ingest burst was applied
    assert float(ours[13]) > 0, out  # the 10-crossing burst after the fan-out


@pytest.mark.skipif(
    not os.environ.get("RACECONTROL_TEST_REDIS_URL"), reason="needs RACECONTROL_TEST_REDIS_URL"
)
def test_latency_bench_through_edges() -> None:
    out = run_bench(
        "latency.py", "--clients", "4", "--edges", "2", "--runs", "1", "--burst", "0",
        "--duration", "1", "--bursts", "1", "--burst-cars", "5", "--cars", "5", "--timeout", "60",
        "--redis", os.environ["RACECONTROL_TEST_REDIS_URL"],
    )  # fmt: skip
    ours, bare = _latency_rows(out)
    assert ours[0] == bare[0] == "4", out
    assert ours[10] == "0", out


def test_fuzz_bench_runs() -> None:
    out = run_bench("fuzz.py", "--codec", "p3", "--frames", "300", "--valid-every", "10")
    assert "P3" in out or "p3" in out, out


def test_latency_bench_clients_in_worker_processes() -> None:
    out = run_bench(
        "latency.py", "--clients", "4", "--client-procs", "2", "--runs", "1", "--burst", "0",
        "--rate", "5", "--duration", "1", "--bursts", "1", "--burst-cars", "5", "--cars", "5",
        "--timeout", "60",
    )  # fmt: skip
    ours, bare = _latency_rows(out)
    assert ours[0] == bare[0] == "4", out
    # every crossing (5 steady, one burst of 5) reached all 4 clients in both workers
    assert ours[10] == bare[10] == "0", out
    assert float(ours[13]) > 0 and float(bare[13]) > 0, out  # the burst was measured
    assert "clients in 2 process(es)" in out, out
