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

Each argon2 check costs 64 MiB and tens of milliseconds of CPU, so the checks go through
a :class:`HashGate`: at most a few at a time, the others wait briefly and then are told
to come back (:class:`HashBusy`). Login attempts are counted per key (``user:NAME``,
``pin:EVENT``, ``addr:IP``) in ``login_throttle`` *before* the password is checked
(:func:`count_attempt`; the caller serialises the calls): free tries, then growing
delays, then a lockout that only race control lifts (:func:`lift_lockouts`). A cookie
login is a ``login_sessions`` row, looked up by the sha256 of the cookie's random id,
so that deleting the row (logout, a PIN change, a user's removal) ends it at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import (
    ApiTokenRow,
    AuditRow,
    EventRow,
    LoginSessionRow,
    LoginThrottleRow,
    Role,
    UserRow,
)
from server.db.sessions import NotFound

T = TypeVar("T")
# argon2-cffi's defaults: RFC 9106's low-memory profile (argon2id, 64 MiB, 3 passes, 4 lanes).
# Every hash and check goes through ``_hasher``; the test suite swaps a cheap profile in there
# (tests/fixtures/password_hashes.py), so this constant alone says what a login costs.
PRODUCTION_HASHER = PasswordHasher()
_hasher = PRODUCTION_HASHER
_dummy_hash: str | None = None  # compared against when the user does not exist
PIN_DIGITS = (4, 12)  # shortest and longest PIN


class HashBusy(Exception):
    """Every hash slot stayed taken for the whole wait: try again in a moment."""


@dataclass
class HashGate:
    """At most ``limit`` argon2 computations at a time, each in a worker thread; a caller
    that cannot get a slot within ``wait_s`` gets :class:`HashBusy`. A slot is freed when
    its thread is done, even if the caller went away meanwhile."""

    limit: int = 2
    wait_s: float = 1.0
    peak: int = 0  # the most computations seen at once (for tests and the curious)
    _slots: asyncio.Semaphore = field(init=False, repr=False)
    _running: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError("a hash gate needs at least one slot")
        self._slots = asyncio.Semaphore(self.limit)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait_s)
        except TimeoutError:
            raise HashBusy("too many logins at once: try again in a moment") from None
        self._running += 1
        self.peak = max(self.peak, self._running)

        def release(_: object) -> None:
            self._running -= 1
            self._slots.release()

        done = asyncio.ensure_future(asyncio.to_thread(work, *args))
        done.add_done_callback(release)
        return await asyncio.shield(done)


_UNBOUNDED = HashGate(limit=1_000_000)  # callers without a gate of their own (the CLI)


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


async def verify_user(
    db: AsyncSession, name: str, password: str, gate: HashGate | None = None
) -> Role | None:
    """The user's role if ``password`` is right, else None; the hash work goes through
    ``gate`` (which may raise :class:`HashBusy`)."""
    global _dummy_hash
    gate = gate or _UNBOUNDED
    user = await db.scalar(select(UserRow).where(UserRow.name == name))
    if user is None:
        if _dummy_hash is None:
            _dummy_hash = await gate.run(_hasher.hash, secrets.token_urlsafe(16))
        await gate.run(_verify, _dummy_hash, password)
        return None
    if not await gate.run(_verify, user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = await gate.run(_hasher.hash, password)
        await db.commit()
    return Role(user.role)


async def user_id(db: AsyncSession, name: str) -> int | None:
    return await db.scalar(select(UserRow.id).where(UserRow.name == name))


async def remove_user(db: AsyncSession, name: str) -> int:
    """Remove the user ``name`` and end its logins at once; returns how many logins ended.
    Raises ``NotFound`` for an unknown name."""
    user = await db.scalar(select(UserRow).where(UserRow.name == name))
    if user is None:
        raise NotFound(f"no user {name!r}")
    ended = await db.execute(delete(LoginSessionRow).where(LoginSessionRow.user_id == user.id))
    await db.delete(user)
    await db.commit()
    return int(getattr(ended, "rowcount", 0) or 0)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(
    db: AsyncSession, role: Role | str, label: str, expires_at: datetime | None = None
) -> str:
    """A new API token for ``role``; shown once: only its hash is stored. ``expires_at``:
    from then on it answers 401 (None: until revoked)."""
    role = Role(role)
    token = secrets.token_urlsafe(32)
    row = ApiTokenRow(token_hash=_token_hash(token), role=role.value, label=label)
    row.expires_at = expires_at
    db.add(row)
    await db.commit()
    return token


@dataclass(frozen=True)
class VerifiedToken:
    role: Role
    expires_at: datetime | None

    def valid_at(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


async def token_record(db: AsyncSession, token: str) -> VerifiedToken | None:
    """The token's role and expiry, expired or not (None: unknown or revoked)."""
    row = (
        await db.execute(
            select(ApiTokenRow.role, ApiTokenRow.expires_at).where(
                ApiTokenRow.token_hash == _token_hash(token)
            )
        )
    ).one_or_none()
    return None if row is None else VerifiedToken(Role(row.role), row.expires_at)


async def verify_token(db: AsyncSession, token: str, now: datetime | None = None) -> Role | None:
    """The token's role; None when it is unknown, revoked or expired at ``now``."""
    record = await token_record(db, token)
    if record is None or not record.valid_at(now or datetime.now(UTC)):
        return None
    return record.role


async def list_tokens(db: AsyncSession) -> list[ApiTokenRow]:
    return list(await db.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id)))


async def revoke_token(db: AsyncSession, which: str) -> int:
    """Delete the token whose id is ``which`` (digits) or whose label is ``which``;
    returns how many went. Raises ``NotFound`` when none matches."""
    match = ApiTokenRow.label == which
    if which.isascii() and which.isdigit() and len(which) < 19:
        match = or_(match, ApiTokenRow.id == int(which))
    gone = await db.execute(delete(ApiTokenRow).where(match))
    await db.commit()
    count = int(getattr(gone, "rowcount", 0) or 0)
    if count == 0:
        raise NotFound(f"no token with id or label {which!r}")
    return count


async def audit(
    db: AsyncSession,
    actor: str,
    action: str,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Record who did what (``detail`` must be JSON-safe: the what and the why); ``at`` for
    a line written late (kept locally while the database was unreachable)."""
    # the columns hold 100 characters: a long name is cut, never a failed write
    row = AuditRow(actor=actor[:100], action=action[:100], detail=dict(detail or {}))
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
    # the old PIN's logins end now, and the new PIN starts with a clean count
    await db.execute(
        delete(LoginSessionRow).where(
            LoginSessionRow.kind == "pin", LoginSessionRow.event == event_name
        )
    )
    await db.execute(delete(LoginThrottleRow).where(LoginThrottleRow.key == pin_key(event_name)))
    await db.commit()
    return pin


async def verify_pit_pin(
    db: AsyncSession, event_name: str, pin: str, gate: HashGate | None = None
) -> bool:
    """Whether ``pin`` is the pit PIN of ``event_name`` (False when it has none)."""
    event = await db.scalar(select(EventRow).where(EventRow.name == event_name))
    if event is None or event.pit_pin_hash is None:
        return False
    return await (gate or _UNBOUNDED).run(_verify, event.pit_pin_hash, pin)


# --- login sessions -------------------------------------------------------------------


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class LoginRecord:
    """Who a cookie login is: what the routes read as the session's user, role, event."""

    user: str
    role: str
    event: str | None
    expires_at: datetime

    def as_session(self) -> dict[str, str]:
        data = {"user": self.user, "role": self.role}
        if self.event is not None:
            data["event"] = self.event
        return data


async def start_login(
    db: AsyncSession,
    *,
    user: str,
    role: str,
    now: datetime,
    lifetime: timedelta,
    event: str | None = None,
) -> str:
    """A new login session (a PIN login when ``event`` is given); returns its id, for the
    cookie: only its sha256 is stored."""
    session_id = secrets.token_urlsafe(32)
    db.add(
        LoginSessionRow(
            id_hash=session_hash(session_id),
            kind="pin" if event is not None else "password",
            user_name=user,
            role=Role(role).value,
            event=event,
            user_id=None if event is not None else await user_id(db, user),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    await db.commit()
    return session_id


async def login_record(db: AsyncSession, session_id: str) -> LoginRecord | None:
    """The login behind ``session_id``, expired or not (None: ended or never started)."""
    row = await db.get(LoginSessionRow, session_hash(session_id))
    if row is None:
        return None
    return LoginRecord(row.user_name, row.role, row.event, row.expires_at)


async def end_login(db: AsyncSession, session_id: str) -> None:
    await db.execute(
        delete(LoginSessionRow).where(LoginSessionRow.id_hash == session_hash(session_id))
    )
    await db.commit()


# --- login throttle -------------------------------------------------------------------


def _key(kind: str, value: str) -> str:
    key = f"{kind}:{value}"
    if len(key) > 200:  # a long name still gets its own key, within the column
        key = f"{kind}:sha256:{hashlib.sha256(value.encode()).hexdigest()}"
    return key


def user_key(name: str) -> str:
    return _key("user", name)


def pin_key(event: str) -> str:
    return _key("pin", event)


def address_key(address: str) -> str:
    return _key("addr", address)


@dataclass(frozen=True)
class ThrottlePolicy:
    """``free`` attempts, then a wait of ``delay_s`` doubling with every further attempt
    (at most ``max_delay_s``), then after ``lockout_after`` attempts a lockout until race
    control lifts it. A key left alone for ``forget_s`` after its wait starts afresh."""

    free: int = 5
    delay_s: float = 60.0
    max_delay_s: float = 3600.0
    lockout_after: int = 10
    forget_s: float = 900.0

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return float(min(self.delay_s * 2 ** min(failures - self.free, 32), self.max_delay_s))


@dataclass(frozen=True)
class Refused:
    """An attempt refused before any check: ``retry_after_s`` None means locked out."""

    key: str
    retry_after_s: float | None


def wait_for(
    failures: int, last_at: datetime, locked: bool, now: datetime, policy: ThrottlePolicy
) -> float | None:
    """Seconds a key must still wait (0: it may try now; None: locked out)."""
    if locked:
        return None
    since = (now - last_at).total_seconds()
    if since >= policy.delay(failures) + policy.forget_s:
        return 0.0  # forgotten
    return max(0.0, policy.delay(failures) - since)


async def count_attempt(
    db: AsyncSession, keys: Sequence[str], now: datetime, policy: ThrottlePolicy
) -> tuple[Refused | None, list[str]]:
    """Count one login attempt against every key, before the secret is checked; or refuse
    it (counting nothing) when a key must wait or is locked. Returns the refusal, if any,
    and the keys this attempt locked. Callers serialise calls (one lock per process)."""
    rows = {
        row.key: row
        for row in await db.scalars(select(LoginThrottleRow).where(LoginThrottleRow.key.in_(keys)))
    }
    for key in keys:
        row = rows.get(key)
        if row is None:
            continue
        wait = wait_for(row.failures, row.last_at, row.locked, now, policy)
        if wait is None or wait > 0:
            await db.rollback()
            return Refused(key, wait), []
        if (now - row.last_at).total_seconds() >= policy.delay(row.failures) + policy.forget_s:
            row.failures = 0
    locked: list[str] = []
    for key in keys:
        row = rows.get(key)
        if row is None:
            row = LoginThrottleRow(key=key, failures=0, last_at=now, locked=False)
            db.add(row)
        row.failures += 1
        row.last_at = now
        if row.failures >= policy.lockout_after:
            row.locked = True
            locked.append(key)
    await db.commit()
    return None, locked


async def undo_attempt(db: AsyncSession, keys: Sequence[str], policy: ThrottlePolicy) -> None:
    """The attempt counted for ``keys`` was right: it is not a failure after all."""
    for row in await db.scalars(select(LoginThrottleRow).where(LoginThrottleRow.key.in_(keys))):
        row.failures = max(0, row.failures - 1)
        row.locked = row.failures >= policy.lockout_after
    await db.commit()


async def throttled_keys(db: AsyncSession) -> list[LoginThrottleRow]:
    """Every key with failures counted, locked ones first."""
    query = select(LoginThrottleRow).where(LoginThrottleRow.failures > 0)
    rows = await db.scalars(query.order_by(LoginThrottleRow.locked.desc(), LoginThrottleRow.key))
    return list(rows)


async def lift_lockouts(db: AsyncSession, key: str | None = None) -> int:
    """Forget the attempts of ``key`` (every key when None); returns how many went."""
    statement = delete(LoginThrottleRow)
    if key is not None:
        statement = statement.where(LoginThrottleRow.key == key)
    gone = await db.execute(statement)
    await db.commit()
    return int(getattr(gone, "rowcount", 0) or 0)
