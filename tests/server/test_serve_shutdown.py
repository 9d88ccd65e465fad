"""SIGTERM always ends ``racecontrol serve`` within 10 s, even with spectators connected."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import websockets

from server.db.migrate import upgrade
from tests.fixtures.serve_process import ServeProcess


async def test_sigterm_ends_serve_within_ten_seconds(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rc.db'}"
    await asyncio.to_thread(upgrade, url)
    serve = ServeProcess(url, tmp_path)
    try:
        await serve.start()
        spectators = [
            await websockets.connect(f"ws://127.0.0.1:{serve.port}/ws/live") for _ in range(3)
        ]
        for spectator in spectators:
            await spectator.recv()  # the snapshot: connected and subscribed
        started = time.monotonic()
        code = await serve.terminate(timeout=15)
        assert time.monotonic() - started < 10, serve.log_text()
        # uvicorn shuts down gracefully, then re-raises the signal for the exit status
        assert code in (0, -signal.SIGTERM)
        for spectator in spectators:
            await spectator.close()
    finally:
        await serve.stop()
