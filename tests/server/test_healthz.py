"""``/healthz`` names every task, the database and each decoder; a task that keeps failing
turns it 503 and raises an alert; a write that cannot be applied answers 503 instead of hanging."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx

from server.engine import AlertKind
from tests.fixtures.app_server import free_port, prepare_database, running_server, wait_until

ENTRIES = "number,class,team,drivers,transponder\n7,A,Seven,Ann,1007\n"
TASKS = {"writer", "publisher", "ticker", "heartbeat", "spool drain", "entry watch", "gc keeper"}


async def test_healthz_names_tasks_database_and_decoders(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Health Cup")
    nobody = f"tcp://127.0.0.1:{free_port()}"  # a decoder that is not there: still a 200
    async with running_server(db_url, token, decoders=[nobody]) as srv:
        async with httpx.AsyncClient(base_url=srv.base_url) as anonymous:

            async def all_running() -> bool:
                tasks = (await anonymous.get("/healthz")).json()["tasks"]
                return all(t["running"] for t in tasks.values()) and len(tasks) == len(TASKS) + 1

            await wait_until(all_running)
            answer = await anonymous.get("/healthz")
        assert answer.status_code == 200
        body = answer.json()
        assert body["status"] == "ok"
        assert set(body["tasks"]) == TASKS | {f"decoder {nobody}"}
        assert body["database"] == {
            "ok": True,
            "spooling": False,
            "down_since": None,
            "status": 200,
        }
        assert body["decoders"][nobody]["connected"] is False


async def test_a_task_that_keeps_failing_is_a_503_and_an_alert(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Health Cup")
    async with running_server(db_url, token) as srv, srv.client() as api:
        created = await api.post(
            "/api/v1/sessions", json={"event": "Health Cup", "type": "race", "name": "Race"}
        )
        assert created.status_code == 201
        supervisor = srv.state.supervisor
        assert supervisor is not None

        async def broken() -> None:
            raise RuntimeError("cannot render")

        # a real failing task under the server's own supervisor (the real tasks no longer fail
        # on bad input; this stands for the next bug)
        probe = asyncio.create_task(supervisor.run("probe", broken))
        try:
            await wait_until(lambda: not supervisor.healthy)
            answer = await api.get("/healthz")
            assert answer.status_code == 503
            assert answer.json()["status"] == "unhealthy"
            assert answer.json()["tasks"]["probe"]["last_error"] == "RuntimeError: cannot render"
            engine = srv.race.engine
            assert engine is not None
            await wait_until(
                lambda: any(
                    a.kind == "task_failed"
                    for a in engine.alerts()
                    if a.id.startswith(AlertKind.EXTERNAL)
                )
            )
        finally:
            probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probe


async def test_a_write_that_cannot_be_applied_answers_503(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Health Cup")
    async with running_server(db_url, token, submit_timeout_s=0.5) as srv, srv.client() as api:
        created = await api.post(
            "/api/v1/sessions", json={"event": "Health Cup", "type": "race", "name": "Race"}
        )
        flag = f"/api/v1/sessions/{created.json()['id']}/flag"
        # a writer that cannot take anything: its lock is held (as by a hung database call)
        async with srv.race._lock:
            started = time.monotonic()
            stuck = await api.post(flag, json={"flag": "green"})
            assert time.monotonic() - started < 3
        assert stuck.status_code == 503
        assert "not confirmed within" in stuck.json()["detail"]
        # the writer takes it once free; the next post is answered normally
        await wait_until(
            lambda: srv.race.status() is not None and srv.race.status().flag == "green"
        )
        again = await api.post(flag, json={"flag": "yellow"})
        assert again.status_code == 200 and again.json()["flag"] == "yellow"


async def test_healthz_counts_the_engine_checkpoints(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Health Cup")
    async with running_server(db_url, token) as srv, srv.client() as api:
        before = (await api.get("/healthz")).json()["checkpoints"]
        created = await api.post(
            "/api/v1/sessions", json={"event": "Health Cup", "type": "race", "name": "Race"}
        )
        sid = created.json()["id"]
        await api.post(f"/api/v1/sessions/{sid}/flag", json={"flag": "green"})
        await srv.race.checkpoint_now()  # what a clean shutdown does
        after = (await api.get("/healthz")).json()["checkpoints"]
    assert before == {"written": 0, "stale": 0, "unreadable": 0, "failed": 0}
    assert after == {"written": 1, "stale": 0, "unreadable": 0, "failed": 0}
