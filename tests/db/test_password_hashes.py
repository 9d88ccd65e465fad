"""What a password or PIN hash costs in production, and that a hash made at that cost still
logs in once the profile changes (the suite itself hashes cheaply:
tests/fixtures/password_hashes.py)."""

from __future__ import annotations

from argon2 import Type
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import accounts, repository
from server.db.models import Role, UserRow
from tests.fixtures.password_hashes import SUITE_HASHER

SM = async_sessionmaker[AsyncSession]


def test_production_hashes_are_argon2id_at_64_mib_and_three_passes() -> None:
    production = accounts.PRODUCTION_HASHER
    assert production.type is Type.ID
    assert production.memory_cost == RFC_9106_LOW_MEMORY.memory_cost == 64 * 1024  # KiB
    assert production.time_cost == RFC_9106_LOW_MEMORY.time_cost == 3
    assert production.parallelism == RFC_9106_LOW_MEMORY.parallelism == 4
    assert accounts._hasher is SUITE_HASHER  # and only the suite's processes hash cheaply


async def test_a_hash_of_another_profile_logs_in_and_is_rehashed(db_sessionmaker: SM) -> None:
    # a user stored by a server at the production cost (or by an older release)
    async with db_sessionmaker() as db:
        user = await repository.add_user(db, "alice", "correct horse", "steward")
        user.password_hash = accounts.PRODUCTION_HASHER.hash("correct horse")
        await db.commit()
    stored = "$argon2id$v=19$m=65536,t=3,p=4$"

    async def password_hash() -> str:
        async with db_sessionmaker() as db:
            found = await db.scalar(select(UserRow.password_hash).where(UserRow.name == "alice"))
            assert found is not None
            return found

    assert (await password_hash()).startswith(stored)
    async with db_sessionmaker() as db:
        assert await repository.verify_user(db, "alice", "wrong") is None
    assert (await password_hash()).startswith(stored)  # a wrong password changes nothing
    async with db_sessionmaker() as db:
        assert await repository.verify_user(db, "alice", "correct horse") is Role.STEWARD
    rehashed = await password_hash()
    assert rehashed.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert not SUITE_HASHER.check_needs_rehash(rehashed)
    async with db_sessionmaker() as db:
        assert await repository.verify_user(db, "alice", "correct horse") is Role.STEWARD
