"""Two demos on one machine: the second takes free ports and prints the ones it uses; a
port asked for explicitly that is taken is refused in one line naming it."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.fixtures.cli import run_cli

RACECONTROL = [sys.executable, "-m", "server.cli"]
STARTUP_S = 90.0  # the demo migrates, imports and connects three decoders first


@dataclass
class Demo:
    process: subprocess.Popen[str]
    banner: str

    def port(self, label: str) -> int:
        match = re.search(rf"^  {label}\s+\S+?:(\d+)", self.banner, re.MULTILINE)
        assert match, self.banner
        return int(match.group(1))

    @property
    def decoder_ports(self) -> list[int]:
        line = next(line for line in self.banner.splitlines() if "start/finish" in line)
        return [int(port) for port in re.findall(r"tcp://127\.0\.0\.1:(\d+)", line)]


def _environment() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RACECONTROL_")}
    environment["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return environment


@contextmanager
def demo(directory: Path, *options: str) -> Iterator[Demo]:
    """A demo started in ``directory``, once it printed its URLs; terminated after."""
    directory.mkdir(exist_ok=True)
    with (directory / f"stderr-{len(list(directory.iterdir()))}.log").open("w") as stderr:
        process = subprocess.Popen(
            [*RACECONTROL, "demo", "--length-minutes", "60", "--cars", "6", *options],
            cwd=directory,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=_environment(),
        )
    stdout = process.stdout
    assert stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    banner: list[str] = []
    deadline = time.monotonic() + STARTUP_S
    try:
        while not banner or "Ctrl-C stops." not in banner[-1]:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            if line is None:
                log = Path(stderr.name).read_text()
                raise AssertionError(f"the demo ended before it started:\n{log[-2000:]}")
            banner.append(line)
        yield Demo(process, "".join(banner))
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=10)  # the pipe ends with the process
        stdout.close()


def live_answers(port: int) -> bool:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/live", timeout=5).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    return False


def test_a_second_demo_takes_free_ports_and_prints_them(tmp_path: Path) -> None:
    # in the same folder: the second must not delete the first one's database
    with demo(tmp_path / "demos") as first, demo(tmp_path / "demos") as second:
        for running in (first, second):
            assert live_answers(running.port("live timing"))
            assert re.search(r"\(pit PIN: \d{6}\)", running.banner), running.banner
            assert "(login: control / " in running.banner
        ports = [
            [run.port("live timing"), run.port("RMonitor"), *run.decoder_ports]
            for run in (first, second)
        ]
        # nothing shared: the second found the first's ports (the defaults, when they were
        # free; another test's server may hold one of them meanwhile) taken and chose others
        assert len(set(ports[0] + ports[1])) == 10, ports
        databases = [
            re.findall(r"^  database\s+(\S+)", run.banner, re.M) for run in (first, second)
        ]
        assert databases[0] != databases[1] and all(Path(*db).is_file() for db in databases)

        # asked for explicitly, a taken port is an error that names it
        for option, taken, what in (
            ("--port", first.port("live timing"), "HTTP"),
            ("--rmonitor-port", first.port("RMonitor"), "RMonitor"),
            ("--decoder-port", first.decoder_ports[0], "decoder emulator"),
        ):
            third = tmp_path / f"third{option}"
            third.mkdir()
            # refused before anything starts: the command's main in this process
            refused = run_cli(
                "demo", "--length-minutes", "60", option, str(taken), cwd=third, clean_env=True
            )
            assert refused.returncode == 2, refused.stderr
            assert refused.stderr.strip() == (
                f"racecontrol: {what} port {taken} on 127.0.0.1 is taken (another program, "
                f"or another racecontrol, listens there); give another {option}, or leave {option} "
                "out to use a free one"
            )
            assert list(third.iterdir()) == []  # refused before the demo database was made

        taken = first.decoder_ports[0]
        emulator = run_cli("emulate", "--port", str(taken), clean_env=True)
        assert emulator.returncode == 2
        assert emulator.stderr.strip().endswith(
            f"port {taken} on 127.0.0.1 is taken (another program, or another racecontrol, listens "
            "there); give another --port, or --port 0 to use a free one"
        )
