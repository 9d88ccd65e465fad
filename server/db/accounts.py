"""Users (argon2 password hashes), API tokens (sha256 hashes) and the audit log.

Strategy: no secret is stored in a form that can be used: passwords are argon2id hashes
(argon2-cffi's defaults, re-hashed on login when those defaults change) and API tokens
are 256-bit random strings of which only the sha256 is kept (a token is already high
entropy, so a fast hash is enough, and lookups by hash stay indexable). Argon2 is
deliberately slow, so it runs in a worker thread: the event loop also times the race.
An unknown user costs the same hash check as a wrong password, so logins do not reveal
which names exist. Like the other repository writes, each function commits. A pit
PIN is short by design (typed on a phone at the pit wall), so it is hashed the same way
and only ever checked against one event; the login route throttles guesses.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import ApiTokenRow, AuditRow, EventRow, Role, UserRow
from server.db.sessions import NotFound

_hasher = PasswordHasher()
_dummy_hash: str | None = None  # compared against when the user does not exist
PIN_DIGITS = (4, 12)  # shortest and longest PIN


async def add_user(db: AsyncSession, name: str, password: str, role: Role | str) -> UserRow:
    """A new user; ``role`` is one of :class:`Role` (ValueError otherwise)."""
    role = Role(role)
    if not password:
        raise ValueError("empty password")
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    user = UserRow(name=name, password_hash=password_hash, role=role.value)
    db.add(user)
    await db.commit()
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_user(db: AsyncSession, name: str, password: str) -> Role | None:
    """The user's role if ``password`` is right, else None."""
    global _dummy_hash
    user = await db.scalar(select(UserRow).where(UserRow.name == name))
    if user is None:
        if _dummy_hash is None:
            _dummy_hash = await asyncio.to_thread(_hasher.hash, secrets.token_urlsafe(16))
        await asyncio.to_thread(_verify, _dummy_hash, password)
        return None
    if not await asyncio.to_thread(_verify, user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(_hasher.hash, password)
        await db.commit()
    return Role(user.role)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(db: AsyncSession, role: Role | str, label: str) -> str:
    """A new API token for ``role``; shown once: only its hash is stored."""
    role = Role(role)
    token = secrets.token_urlsafe(32)
    db.add(ApiTokenRow(token_hash=_token_hash(token), role=role.value, label=label))
    await db.commit()
    return token


async def verify_token(db: AsyncSession, token: str) -> Role | None:
    role = await db.scalar(
        select(ApiTokenRow.role).where(ApiTokenRow.token_hash == _token_hash(token))
    )
    return None if role is None else Role(role)


async def audit(
    db: AsyncSession,
    actor: str,
    action: str,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Record who did what (``detail`` must be JSON-safe: the what and the why); ``at`` for
    a line written late (kept locally while the database was unreachable)."""
    row = AuditRow(actor=actor, action=action, detail=dict(detail or {}))
    if at is not None:
        row.at = at
    db.add(row)
    await db.commit()


def _check_pin(pin: str) -> str:
    low, high = PIN_DIGITS
    if not (pin.isascii() and pin.isdigit() and low <= len(pin) <= high):
        raise ValueError(f"a PIN is {low} to {high} digits")
    return pin


async def set_pit_pin(db: AsyncSession, event_name: str, pin: str | None = None) -> str:
    """Give the event ``event_name`` a pit PIN (a random 6-digit one by default); returns
    it, since only its hash is kept. Raises ``NotFound`` for an unknown event and
    ``ValueError`` for a PIN that is not 4 to 12 digits."""
    pin = _check_pin(pin if pin is not None else f"{secrets.randbelow(10**6):06d}")
    event = await db.scalar(select(EventRow).where(EventRow.name == event_name))
    if event is None:
        raise NotFound(f"no event {event_name!r}")
    event.pit_pin_hash = await asyncio.to_thread(_hasher.hash, pin)
    await db.commit()
    return pin


async def verify_pit_pin(db: AsyncSession, event_name: str, pin: str) -> bool:
    """Whether ``pin`` is the pit PIN of ``event_name`` (False when it has none)."""
    event = await db.scalar(select(EventRow).where(EventRow.name == event_name))
    if event is None or event.pit_pin_hash is None:
        return False
    return await asyncio.to_thread(_verify, event.pit_pin_hash, pin)
