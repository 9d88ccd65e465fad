"""``GET /healthz``: is this server timing? For Docker, load balancers and race control.

200 while every supervised task is healthy, 503 otherwise (or before the tasks started), with
JSON naming each task, the database, each decoder and the engine checkpoints' counts. A
database outage alone is not a 503: timing goes on into the spool, and restarting the process
would not bring the database back. A decoder that is away is not one either, for the same
reason; both are in the body.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from server.web.deps import StateDep

router = APIRouter(tags=["health"])


def _iso(at_us: int | None) -> str | None:
    if at_us is None:
        return None
    return datetime.fromtimestamp(at_us / 1_000_000, UTC).isoformat(timespec="seconds")


@router.get("/healthz", summary="Whether the server is timing (200) or needs a restart (503)")
async def healthz(state: StateDep) -> JSONResponse:
    supervisor, race = state.supervisor, state.race
    healthy = supervisor is not None and supervisor.healthy
    body: dict[str, Any] = {
        "status": "ok" if healthy else ("starting" if supervisor is None else "unhealthy"),
        "tasks": {} if supervisor is None else supervisor.health(),
        "database": {
            "ok": race.database_ok,
            # the component's own answer: 503 while it is unreachable (the server is not)
            "status": 200 if race.database_ok else 503,
            "down_since": _iso(race.journal.down_since_us),
            "spooling": bool(race.journal.spool),  # events wait in the local spool
        },
        "session_id": race.session_id,
        # engine checkpoints (a restart's shortcut): a "failed" or "unreadable" one costs a
        # full replay at the next start, never timing, so it is said here, not a 503
        "checkpoints": {
            kind: race.checkpoint_counts[kind]
            for kind in ("written", "stale", "unreadable", "failed")
        },
        "decoders": {
            url: {
                "connected": decoder.connected,
                "passings": decoder.passings,
                "bad_frames": decoder.bad_frames,
                "last_error": decoder.last_error,
            }
            for url, decoder in race.decoders.items()
        },
    }
    return JSONResponse(body, status_code=200 if healthy else 503)
