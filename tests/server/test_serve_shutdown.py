"""SIGTERM always ends ``racecontrol serve`` within 10 s, even with spectators connected."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import websockets

from server.db.migrate import upgrade
from tests.fixtures.app_server import free_port, wait_until


async def test_sigterm_ends_serve_within_ten_seconds(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rc.db'}"
    await asyncio.to_thread(upgrade, url)
    port = free_port()
    env = {
        **os.environ,
        "RACECONTROL_RMONITOR_PORT": str(free_port()),
        "RACECONTROL_SPOOL_PATH": str(tmp_path / "spool.jsonl"),
    }
    command = [sys.executable, "-m", "server.cli", "serve", "--db", url, "--port", str(port)]
    with (tmp_path / "serve.log").open("w") as log:
        serve = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

                async def healthy() -> bool:
                    assert serve.returncode is None, (tmp_path / "serve.log").read_text()
                    try:
                        return (await client.get("/healthz")).status_code == 200
                    except httpx.TransportError:
                        return False

                await wait_until(healthy, timeout=60)
            spectators = [
                await websockets.connect(f"ws://127.0.0.1:{port}/ws/live") for _ in range(3)
            ]
            for spectator in spectators:
                await spectator.recv()  # the snapshot: connected and subscribed
            started = time.monotonic()
            serve.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(serve.wait(), 15)
            assert time.monotonic() - started < 10, (tmp_path / "serve.log").read_text()
            # uvicorn shuts down gracefully, then re-raises the signal for the exit status
            assert code in (0, -signal.SIGTERM)
            for spectator in spectators:
                await spectator.close()
        finally:
            if serve.returncode is None:
                serve.kill()
                await serve.wait()
