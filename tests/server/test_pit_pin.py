"""The pit marshals' PIN: stored as an argon2 hash, set by the CLI, checked per event;
and the small pieces behind the pit page (throttle, answers to repeated keys)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository
from server.db.migrate import upgrade
from server.db.models import EventRow
from server.service.idempotency import Answer, RecentAnswers
from server.web.auth import Throttle


async def test_a_pin_is_hashed_and_checked_per_event(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessionmaker() as db:
        await repository.get_or_create_event(db, "Cup")
        await repository.get_or_create_event(db, "Other")
        assert not await repository.verify_pit_pin(db, "Cup", "1234")  # no PIN yet
        assert await repository.set_pit_pin(db, "Cup", "1234") == "1234"
        stored = await db.scalar(select(EventRow.pit_pin_hash).where(EventRow.name == "Cup"))
        assert stored is not None and "1234" not in stored and stored.startswith("$argon2")
        assert await repository.verify_pit_pin(db, "Cup", "1234")
        assert not await repository.verify_pit_pin(db, "Cup", "4321")
        assert not await repository.verify_pit_pin(db, "Other", "1234")
        assert not await repository.verify_pit_pin(db, "Nowhere", "1234")
        generated = await repository.set_pit_pin(db, "Other")
        assert len(generated) == 6 and generated.isdigit()
        assert await repository.verify_pit_pin(db, "Other", generated)
        for bad in ("12", "12ab", "1" * 13, "١٢٣٤"):
            with pytest.raises(ValueError, match="digits"):
                await repository.set_pit_pin(db, "Cup", bad)
        with pytest.raises(LookupError):
            await repository.set_pit_pin(db, "Nowhere", "1234")


def test_the_cli_sets_a_pin(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rc.db'}"
    upgrade(url)
    csv = tmp_path / "entries.csv"
    csv.write_text("number,class,team,drivers,transponder\n7,A,Seven,Ann,1001\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "server.cli", *args, "--db", url]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    assert run("import", "entries", str(csv), "--event", "Cup").returncode == 0
    chosen = run("pin", "set", "--event", "Cup", "--pin", "2468")
    assert chosen.returncode == 0 and "2468" in chosen.stdout
    made = run("pin", "set", "--event", "Cup")
    assert made.returncode == 0 and made.stdout.strip()[-6:].isdigit()
    unknown = run("pin", "set", "--event", "Nope", "--pin", "2468")
    assert unknown.returncode == 2 and "no event 'Nope'" in unknown.stderr
    short = run("pin", "set", "--event", "Cup", "--pin", "12")
    assert short.returncode == 2 and "digits" in short.stderr


def test_throttle_counts_failures_in_a_window() -> None:
    throttle = Throttle(limit=3, window_s=60, keys=2)
    for now in (0.0, 1.0, 2.0):
        assert not throttle.blocked("a", now)
        throttle.failed("a", now)
    assert throttle.blocked("a", 3.0)
    assert not throttle.blocked("a", 61.0)  # the first failure left the window
    throttle.failed("b", 62.0)
    throttle.failed("c", 62.0)  # only 2 keys kept: "a" is forgotten
    assert not throttle.blocked("a", 62.5)


async def test_a_repeated_key_gets_the_first_answer() -> None:
    answers = RecentAnswers(size=2)
    calls: list[str] = []
    release = asyncio.Event()

    async def work() -> Answer:
        calls.append("x")
        await release.wait()
        return Answer(f"answer {len(calls)}")

    first = asyncio.create_task(answers.answer("marshal", "k1", work))
    second = asyncio.create_task(answers.answer("marshal", "k1", work))  # while in flight
    await asyncio.sleep(0)
    release.set()
    assert await first == await second == Answer("answer 1")
    assert await answers.answer("marshal", "k1", work) == Answer("answer 1")
    assert calls == ["x"] and answers.replayed == 2
    # another scope, or no key at all, does the work
    assert await answers.answer("other", "k1", work) == Answer("answer 2")
    assert await answers.answer("marshal", None, work) == Answer("answer 3")
    # bounded: the oldest key is forgotten
    await answers.answer("marshal", "k2", work)
    await answers.answer("marshal", "k3", work)
    assert await answers.answer("marshal", "k1", work) == Answer("answer 6")


async def test_a_failed_try_is_not_remembered() -> None:
    answers = RecentAnswers()
    tries = 0

    async def flaky() -> Answer:
        nonlocal tries
        tries += 1
        if tries == 1:
            raise OSError("database away")
        return Answer("done")

    with pytest.raises(OSError):
        await answers.answer("m", "k", flaky)
    assert await answers.answer("m", "k", flaky) == Answer("done")
