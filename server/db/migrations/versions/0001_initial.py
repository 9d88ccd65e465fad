"""Initial schema: event set-up, sessions, the journal, users, tokens, audit log.

Revision ID: 0001
Revises:
Create Date: 2025-11-26

Strategy: written by hand to match ``server.db.models`` (a test compares the migrated
schema with the models on SQLite and PostgreSQL). Every constraint is named as the
models' naming convention names it, so later batch migrations on SQLite can find them.
Types are spelled out here rather than imported from the models: a migration is a
frozen record of the schema at its time.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = "role IN ('control', 'steward', 'timing', 'pit', 'public')"
NOW = sa.func.now()


def _fk(table: str, column: str, target: str, ondelete: str | None) -> sa.ForeignKeyConstraint:
    target_table = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=f"fk_{table}_{column}_{target_table}", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("min_lap_ms", sa.Integer(), server_default="20000", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("name", name="uq_events_name"),
    )
    op.create_table(
        "classes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_classes"),
        _fk("classes", "event_id", "events.id", "CASCADE"),
        sa.UniqueConstraint("event_id", "name", name="uq_classes_event_id_name"),
    )
    op.create_table(
        "cars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cars"),
        _fk("cars", "event_id", "events.id", "CASCADE"),
        _fk("cars", "class_id", "classes.id", None),
        sa.UniqueConstraint("event_id", "number", name="uq_cars_event_id_number"),
    )
    op.create_index("ix_cars_class_id", "cars", ["class_id"])
    op.create_table(
        "drivers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("car_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_drivers"),
        _fk("drivers", "car_id", "cars.id", "CASCADE"),
        sa.UniqueConstraint("car_id", "order", name="uq_drivers_car_id_order"),
    )
    op.create_table(
        "transponders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("car_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transponders"),
        _fk("transponders", "event_id", "events.id", "CASCADE"),
        _fk("transponders", "car_id", "cars.id", "CASCADE"),
        sa.UniqueConstraint("event_id", "code", name="uq_transponders_event_id_code"),
    )
    op.create_index("ix_transponders_car_id", "transponders", ["car_id"])
    op.create_table(
        "decoders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("decoder_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_decoders"),
        _fk("decoders", "event_id", "events.id", "CASCADE"),
        sa.UniqueConstraint("event_id", "name", name="uq_decoders_event_id_name"),
    )
    op.create_table(
        "loops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decoder_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("sector_index", sa.Integer(), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_loops"),
        _fk("loops", "decoder_id", "decoders.id", "CASCADE"),
        sa.CheckConstraint(
            "role IN ('start_finish', 'pit_in', 'pit_out', 'sector')", name="ck_loops_role"
        ),
    )
    op.create_index("ix_loops_decoder_id", "loops", ["decoder_id"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("length_minutes", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("state", sa.String(32), server_default="not_started", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        _fk("sessions", "event_id", "events.id", "CASCADE"),
        sa.CheckConstraint(
            "type IN ('practice', 'qualifying', 'race', 'sprintduro')", name="ck_sessions_type"
        ),
    )
    op.create_index("ix_sessions_event_id", "sessions", ["event_id"])
    op.create_table(
        "journal",
        # BIGINT on PostgreSQL; exactly INTEGER PRIMARY KEY (the rowid) on SQLite
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_journal"),
        _fk("journal", "session_id", "sessions.id", None),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_journal_session_id_seq", "journal", ["session_id", "seq"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
        sa.CheckConstraint(ROLES, name="ck_users_role"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        sa.CheckConstraint(ROLES, name="ck_api_tokens_role"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    # children before parents; indexes go with their tables
    for table in (
        "audit_log",
        "api_tokens",
        "users",
        "journal",
        "sessions",
        "loops",
        "decoders",
        "transponders",
        "drivers",
        "cars",
        "classes",
        "events",
    ):
        op.drop_table(table)
