"""A throwaway race for end-to-end benches: database, decoder emulator, server process.

Strategy: everything a bench needs that is not the measurement itself. ``world()`` makes a
temporary SQLite database the way an operator would (migrate, import 36 entries in 4
classes, create a control token), starts the P3 emulator in this process on a loopback
port and ``racecontrol serve`` as a SEPARATE process (psutil then measures the server
alone), creates a race session and shows green through the JSON API with the bearer token.
On the way out, however the bench ends (error, Ctrl-C, SIGTERM), the server process, the
emulator and the temporary files go; if the bench itself is killed, the kernel sends the
server SIGTERM (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]

from server.cli.commands import create_token, import_entries
from server.db.migrate import upgrade
from server.web.views import row_dom_id
from timing_adapters.emulator.scenario import generate_race
from timing_adapters.emulator.server import P3Emulator

EVENT = "Bench Endurance"
S = 1_000_000
LAP_US = 30 * S  # between two passings of one car: well above the 20 s double-read window


class Race:
    """Pushes passings round robin over the cars, each car 30 s of decoder time apart."""

    def __init__(self, emulator: P3Emulator, cars: list[tuple[str, int]], start_us: int) -> None:
        self._emulator = emulator
        self._cars = cars  # (number, transponder)
        # decoder times after the green flag, cars 0.5 s apart: already in time order
        self._next_us = {number: start_us + i * S // 2 for i, (number, _t) in enumerate(cars)}
        self.crossings = dict.fromkeys(self._next_us, 0)
        self._turn = 0

    def push(self) -> tuple[str, int]:
        """One passing of the next car: its row id and its lap count once applied."""
        number, transponder = self._cars[self._turn % len(self._cars)]
        self._turn += 1
        self._emulator.push_passing(transponder, self._next_us[number])
        self._next_us[number] += LAP_US
        self.crossings[number] += 1
        return row_dom_id(number), self.crossings[number] - 1  # the first crossing starts lap 1

    @property
    def total_laps(self) -> int:
        return sum(max(n - 1, 0) for n in self.crossings.values())


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):  # Linux only; best effort elsewhere
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class ServerProcess:
    """``racecontrol serve`` in its own session: Ctrl-C reaches the bench, which stops it.
    Shared by the benches (race_world, fuzz); ``env`` adds settings (RACECONTROL_*)."""

    def __init__(
        self,
        db_url: str,
        decoder_url: str,
        log_path: Path,
        env: dict[str, str] | None = None,
        extra: Sequence[str] = (),
    ) -> None:
        self.port = free_port()
        exe = Path(sys.executable).with_name("racecontrol")
        command = [str(exe), "serve", "--db", db_url, "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--decoder", decoder_url]
        # the spool beside the log, in the bench's temporary folder (not the current one)
        spool = {"RACECONTROL_SPOOL_PATH": str(log_path.with_suffix(".spool.jsonl"))}
        self._start([*command, *extra], log_path, {**spool, **(env or {})})

    def _start(self, command: list[str], log_path: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.popen = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_die_with_parent,
            env=None if env is None else {**os.environ, **env},
        )  # fmt: skip
        self.process = psutil.Process(self.popen.pid)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def cpu_s(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def rss_mb(self) -> float:
        return float(self.process.memory_info().rss) / 2**20

    def check(self) -> None:
        if self.popen.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"server exited ({self.popen.returncode}):\n{tail}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()


class EdgeProcess(ServerProcess):
    """``racecontrol edge`` (spectators from Redis) on a free port."""

    def __init__(self, redis_url: str, prefix: str, log_path: Path) -> None:
        self.port = free_port()
        exe = Path(sys.executable).with_name("racecontrol")
        command = [str(exe), "edge", "--redis", redis_url, "--redis-prefix", prefix]
        self._start([*command, "--port", str(self.port)], log_path)


class BareProcess(ServerProcess):
    """``bench/bare_broadcast.py``: the bare Starlette broadcast the figures compare with."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        script = Path(__file__).with_name("bare_broadcast.py")
        self._start([sys.executable, str(script), str(self.port)], log_path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_for(
    what: str, predicate: Callable[[], Awaitable[bool]], timeout: float, server: ServerProcess
) -> None:
    """Poll ``predicate`` every 20 ms; fail early if the server died, or after ``timeout``."""
    deadline = time.perf_counter() + timeout
    while not await predicate():
        server.check()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.02)


async def prepare(tmp: Path, cars: int = 36) -> tuple[str, str, list[tuple[str, int]]]:
    """A migrated database with the entries and a control token: (URL, token, cars)."""
    url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    await asyncio.to_thread(upgrade, url)
    scenario = generate_race(seed=1, cars=cars)
    entries = tmp / "entries.csv"
    entries.write_text(scenario.entries_csv(), encoding="utf-8")
    await import_entries(url, entries, EVENT)
    token = await create_token(url, "control", "bench")
    return url, token, [(car.number, car.transponder) for car in scenario.cars]


@dataclass(frozen=True, slots=True)
class World:
    server: ServerProcess
    http: httpx.AsyncClient  # base URL of the server, control token included
    race: Race
    standings: str  # the session's standings path


@asynccontextmanager
async def world(extra: Sequence[str] = (), cars: int = 36) -> AsyncIterator[World]:
    """A fresh database, emulator and server process with a green race; all gone after.
    ``extra``: more ``racecontrol serve`` options (``--redis URL``); ``cars``: entries."""
    tmp = Path(tempfile.mkdtemp(prefix="racecontrol-bench-"))
    emulator = P3Emulator()
    server: ServerProcess | None = None
    try:
        db_url, token, entries = await prepare(tmp, cars)
        decoder_url = f"tcp://127.0.0.1:{await emulator.start()}"
        server = ServerProcess(db_url, decoder_url, tmp / "server.log", extra=extra)
        base = f"http://127.0.0.1:{server.port}"
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base, headers=auth, timeout=30) as http:

            async def up() -> bool:
                with contextlib.suppress(httpx.TransportError):
                    return (await http.get("/api/v1/sessions")).status_code == 200
                return False

            await wait_for("server start", up, 30, server)
            await emulator.wait_for_clients(1, timeout=30)  # the server's decoder runner
            body = {"event": EVENT, "type": "race", "name": "Bench", "length_minutes": 240}
            session = (await http.post("/api/v1/sessions", json=body)).raise_for_status().json()
            path = f"/api/v1/sessions/{session['id']}"
            (await http.post(f"{path}/flag", json={"flag": "green"})).raise_for_status()
            race = Race(emulator, entries, emulator.clock.now_us() + S)
            yield World(server, http, race, f"{path}/standings")
    finally:
        if server is not None:
            server.stop()
            # let the emulator see the runner go before stop() cancels its handler (on
            # Python 3.11 a cancelled stream handler is logged as an error)
            for _ in range(200):
                if not emulator.clients:
                    break
                await asyncio.sleep(0.01)
        await emulator.stop()
        shutil.rmtree(tmp, ignore_errors=True)
