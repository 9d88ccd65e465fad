"""The pit marshals' PIN: stored as an argon2 hash, set by the CLI, checked per event;
and the small pieces behind the pit page (login throttle rule, answers to repeated keys)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository
from server.db.accounts import ThrottlePolicy, wait_for
from server.db.migrate import upgrade
from server.db.models import EventRow
from server.service.idempotency import Answer, RecentAnswers
from tests.fixtures.cli import CliResult, run_cli


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

    def run(*args: str) -> CliResult:
        return run_cli(*args, "--db", url)

    assert run("import", "entries", str(csv), "--event", "Cup").returncode == 0
    chosen = run("pin", "set", "--event", "Cup", "--pin", "2468")
    assert chosen.returncode == 0 and "2468" in chosen.stdout
    made = run("pin", "set", "--event", "Cup")
    assert made.returncode == 0 and made.stdout.strip()[-6:].isdigit()
    unknown = run("pin", "set", "--event", "Nope", "--pin", "2468")
    assert unknown.returncode == 2 and "no event 'Nope'" in unknown.stderr
    short = run("pin", "set", "--event", "Cup", "--pin", "12")
    assert short.returncode == 2 and "digits" in short.stderr


def test_throttle_waits_grow_then_lock_and_are_forgotten() -> None:
    policy = ThrottlePolicy(free=3, delay_s=60, max_delay_s=200, lockout_after=6, forget_s=600)
    t0 = datetime(2026, 6, 13, 12, tzinfo=UTC)

    def at(seconds: float) -> datetime:
        return t0 + timedelta(seconds=seconds)

    for failures in (0, 1, 2):  # the free tries
        assert wait_for(failures, t0, False, t0, policy) == 0.0
    assert wait_for(3, t0, False, at(1), policy) == 59.0
    assert wait_for(3, t0, False, at(60), policy) == 0.0
    assert [policy.delay(n) for n in (3, 4, 5, 6)] == [60.0, 120.0, 200.0, 200.0]
    assert wait_for(6, t0, True, at(10**6), policy) is None  # locked: only lifting helps
    assert repository.address_key("10.0.0.1") == "addr:10.0.0.1"
    long_key = repository.pin_key("E" * 300)
    assert len(long_key) < 255 and long_key.startswith("pin:sha256:")


async def test_attempts_are_counted_then_forgotten_or_lifted(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    policy = ThrottlePolicy(free=2, delay_s=60, max_delay_s=3600, lockout_after=4, forget_s=600)
    t0 = datetime(2026, 6, 13, 12, tzinfo=UTC)
    keys = [repository.user_key("a"), repository.address_key("10.0.0.1")]

    def at(seconds: float) -> datetime:
        return t0 + timedelta(seconds=seconds)

    async def failures() -> list[int]:
        return [row.failures for row in await repository.throttled_keys(db)]

    async with db_sessionmaker() as db:
        assert await repository.count_attempt(db, keys, t0, policy) == (None, [])
        assert await repository.count_attempt(db, keys, at(1), policy) == (None, [])
        refused, _ = await repository.count_attempt(db, keys, at(2), policy)
        assert refused == repository.Refused("user:a", 59.0)
        assert await failures() == [2, 2]  # a refused attempt is not counted
        assert await repository.count_attempt(db, keys, at(61), policy) == (None, [])
        await repository.undo_attempt(db, keys, policy)  # it was right after all
        assert await failures() == [2, 2]
        # left alone for forget_s after its wait, a key starts afresh
        assert await repository.count_attempt(db, keys, at(61 + 60 + 600), policy) == (None, [])
        assert await failures() == [1, 1]
        # a free try, then each after its wait (60 s, 120 s): the 4th locks both keys
        for when in (722, 782):
            assert await repository.count_attempt(db, keys, at(when), policy) == (None, [])
        assert await repository.count_attempt(db, keys, at(902), policy) == (None, keys)
        refused, _ = await repository.count_attempt(db, keys, at(10**6), policy)
        assert refused is not None and refused.retry_after_s is None
        assert await repository.lift_lockouts(db, keys[0]) == 1
        refused, _ = await repository.count_attempt(db, keys, at(10**6), policy)
        assert refused == repository.Refused("addr:10.0.0.1", None)  # still locked
        assert await repository.lift_lockouts(db) == 1
        assert await repository.count_attempt(db, keys, at(10**6), policy) == (None, [])


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
