"""Declarative tables: the event set-up, sessions, the journal, users and the audit log.

Strategy: one typed model per table (SQLAlchemy 2 ``Mapped[...]``), portable between
SQLite and PostgreSQL: strings for every car number and transponder code ("07" is not
"7"), integer microseconds for race times, and UTC-aware datetimes for wall-clock
stamps. Constraint names come from one naming convention so that Alembic can find
and alter them on both backends (SQLite batch mode needs names). Relationships are
``raise_on_sql``: under asyncio an implicit lazy load is a crash at a random place, so
callers load what they need explicitly (``selectinload``).
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from server.db import text_limits as _text_limits  # noqa: F401  (the before_flush check)
from server.engine.events import LoopRole, SessionKind

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Role(StrEnum):
    CONTROL = "control"
    STEWARD = "steward"
    TIMING = "timing"
    PIT = "pit"
    PUBLIC = "public"


def _one_of(column: str, values: type[StrEnum]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both backends (SQLite stores them naive and drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one (datetime.now(UTC))")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# The journal's sequence is a BIGINT on PostgreSQL, but on SQLite only a column declared
# exactly INTEGER PRIMARY KEY is the auto-assigned rowid.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class EventRow(Base):
    """A race weekend."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    min_lap_ms: Mapped[int] = mapped_column(default=20_000, server_default="20000")
    date: Mapped[dt.date | None] = mapped_column(Date)  # licences are judged on this day
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    # argon2 hash of the short PIN pit marshals log in with; None: no PIN logins
    pit_pin_hash: Mapped[str | None] = mapped_column(Text)


class ClassRow(Base):
    __tablename__ = "classes"
    __table_args__ = (UniqueConstraint("event_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))


class CarRow(Base):
    __tablename__ = "cars"
    __table_args__ = (UniqueConstraint("event_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(16))
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    team: Mapped[str] = mapped_column(String(200))
    # classing at entry (docs/season.md): the car's performance index, its class with
    # another sanctioning body ("BODY:CLASS"), and how its class was found
    pi: Mapped[float | None] = mapped_column(Float)
    other_class: Mapped[str | None] = mapped_column(String(201))
    class_note: Mapped[str | None] = mapped_column(Text)

    car_class: Mapped[ClassRow] = relationship(lazy="raise_on_sql")
    drivers: Mapped[list[DriverRow]] = relationship(
        lazy="raise_on_sql", order_by="DriverRow.order", passive_deletes=True
    )
    transponders: Mapped[list[TransponderRow]] = relationship(
        lazy="raise_on_sql", order_by="TransponderRow.id", passive_deletes=True
    )


class DriverRow(Base):
    __tablename__ = "drivers"
    __table_args__ = (UniqueConstraint("car_id", "order"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    car_id: Mapped[int] = mapped_column(ForeignKey("cars.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    order: Mapped[int]  # 0 = first listed (usually the starting driver)
    licence_expires: Mapped[dt.date | None] = mapped_column(Date)
    medical_expires: Mapped[dt.date | None] = mapped_column(Date)
    # the entry list carried licence columns: only then does a missing date flag the driver
    licence_checked: Mapped[bool] = mapped_column(default=False, server_default=false())


class TransponderRow(Base):
    __tablename__ = "transponders"
    __table_args__ = (UniqueConstraint("event_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    car_id: Mapped[int] = mapped_column(ForeignKey("cars.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))


class DecoderRow(Base):
    __tablename__ = "decoders"
    __table_args__ = (UniqueConstraint("event_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))  # tcp://host:port, serial:///dev/...
    # the id the decoder reports in its records (PassingDetected.decoder_id); None until seen
    decoder_id: Mapped[str | None] = mapped_column(String(64))

    loops: Mapped[list[LoopRow]] = relationship(lazy="raise_on_sql", passive_deletes=True)


class LoopRow(Base):
    __tablename__ = "loops"
    __table_args__ = (CheckConstraint(_one_of("role", LoopRole), name="role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # NB: decoders.id (the row), not decoders.decoder_id (the hardware's id string)
    decoder_id: Mapped[int] = mapped_column(
        ForeignKey("decoders.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    sector_index: Mapped[int | None]
    distance_m: Mapped[float | None] = mapped_column(Float)


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (CheckConstraint(_one_of("type", SessionKind), name="type"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    length_minutes: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    state: Mapped[str] = mapped_column(
        String(32), default="not_started", server_default="not_started"
    )
    # the rule set resolved: {"name": "img", <every RuleSet field>: <JSON value>}
    # (server/engine/rule_spec.py), so a replay is exact whatever the presets become
    rules: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # the event's minimum lap when the session was created (shorter laps are double reads)
    min_lap_ms: Mapped[int] = mapped_column(default=20_000, server_default="20000")
    # when the session is planned to start (set on /control/event); None: not scheduled
    scheduled_start: Mapped[datetime | None]


class JournalRow(Base):
    """Every input event of a session, in ``seq`` order: the source of truth for its state.

    No ``ondelete`` on the session key: deleting a session that has been timed must fail
    loudly rather than silently erase the evidence behind its results.
    """

    __tablename__ = "journal"
    __table_args__ = (
        Index("ix_journal_session_id_seq", "session_id", "seq"),
        {"sqlite_autoincrement": True},  # a seq is never reused, even after deletes
    )
    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"))
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    at_us: Mapped[int] = mapped_column(BigInteger)  # session time base (the event's own time)
    recorded_at_us: Mapped[int] = mapped_column(BigInteger)  # server clock when journaled


class SessionResultRow(Base):
    """A session's standings as computed at journal ``seq`` (its last event then), so a
    past session's results are read, not replayed. Valid while ``seq`` is still the
    session's last journal seq; derived data, so deleting the session deletes it."""

    __tablename__ = "session_results"
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger)  # 0: the journal was empty
    standings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class EngineCheckpointRow(Base):
    """A timed session's engine state at journal ``seq`` (``server.service.checkpoint``),
    so a restart replays only the journal after it. Derived data: valid only for the
    engine code and the session configuration it names; deleting the session deletes it."""

    __tablename__ = "engine_checkpoints"
    __table_args__ = (Index("ix_engine_checkpoints_session_id_seq", "session_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)  # the last journal event it holds
    # the session's journal events up to ``seq`` when it was made: fewer now, and the
    # journal was cut since (the checkpoint holds events it no longer has)
    events: Mapped[int] = mapped_column(BigInteger)
    engine_version: Mapped[str] = mapped_column(String(64))  # ENGINE_FINGERPRINT
    config_key: Mapped[str] = mapped_column(String(64))  # the session's configuration
    state: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class ResultVersionRow(Base):
    """One numbered version of a finished session's results (docs/results.md).

    Version 1 is stored when the session finishes (provisional); every input applied to
    the finished session that changes its results stores the next one, with the input's
    reason. Versions are a record, not derived data: never replaced, and no ``ondelete``
    (deleting a session with published results must fail loudly).
    """

    __tablename__ = "result_versions"
    __table_args__ = (UniqueConstraint("session_id", "part", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    # "race" (a race's, or a SprintDuro's endurance result) or "sprint" (the SprintDuro's
    # first 30 minutes): each part numbers its own versions
    part: Mapped[str] = mapped_column(String(16), default="race", server_default="race")
    version: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(BigInteger)  # the journal seq they were computed at
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    # the export rows (server/service/results.py), in overall order
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    official: Mapped[bool] = mapped_column(default=False, server_default=false())
    official_at: Mapped[datetime | None]  # when it was signed official
    official_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class SeriesRow(Base):
    """A championship: its points scheme (every parameter, resolved) and its classes."""

    __tablename__ = "series"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # server/season/scheme.py PointsScheme field for field, so a preset changed in code
    # never changes a published championship
    scheme: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class SeriesClassRow(Base):
    """A class band of the series' performance index: ``low`` inclusive, ``high`` not."""

    __tablename__ = "series_classes"
    __table_args__ = (UniqueConstraint("series_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)


class SeriesEquivalencyRow(Base):
    """Another sanctioning body's class -> the series' class."""

    __tablename__ = "series_equivalency"
    __table_args__ = (UniqueConstraint("series_id", "body", "their_class"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(String(100))
    their_class: Mapped[str] = mapped_column(String(100))
    class_name: Mapped[str] = mapped_column(String(100))


class SeriesEventRow(Base):
    """An event of the series, in season order."""

    __tablename__ = "series_events"
    __table_args__ = (UniqueConstraint("series_id", "event_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    order: Mapped[int]


class SeriesAwardRow(Base):
    """A steward's "On the Move" award: one car of a class in one session."""

    __tablename__ = "series_awards"
    __table_args__ = (UniqueConstraint("session_id", "class_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    class_name: Mapped[str] = mapped_column(String(100))
    car_number: Mapped[str] = mapped_column(String(16))
    awarded_by: Mapped[str] = mapped_column(String(100))
    awarded_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_one_of("role", Role), name="role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(_one_of("role", Role), name="role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    role: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime | None]  # None: until revoked


class AuditRow(Base):
    __tablename__ = "audit_log"
    __text_fits__ = True  # server.db.text_limits: an audit line is cut to fit, never refused
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]]


class LoginSessionRow(Base):
    """A cookie login: the cookie carries a random id, this row its sha256 and who it is.
    Deleting the row ends the login at once (logout, PIN change, user removal)."""

    __tablename__ = "login_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex
    kind: Mapped[str] = mapped_column(String(8))  # "password" or "pin"
    user_name: Mapped[str] = mapped_column(String(255))  # "pin:" and the event
    role: Mapped[str] = mapped_column(String(16))
    event: Mapped[str | None] = mapped_column(String(200))  # a PIN login's event
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime]


class LoginThrottleRow(Base):
    """Login attempts per key ("user:NAME", "pin:EVENT", "addr:IP"), counted before the
    password or PIN is checked; ``locked`` until race control lifts it."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[datetime]
    locked: Mapped[bool] = mapped_column(default=False, server_default=false())
