"""Numbered result versions, and a session's scheduled start.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Strategy: ``result_versions`` keeps every version of a finished session's results
(provisional, then official, then each later change with its reason); nothing is ever
rewritten there. ``sessions.scheduled_start`` is what race control plans on
``/control/event``. Batch mode for SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "result_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("official", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("official_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("official_by", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name="fk_result_versions_session_id_sessions"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_result_versions"),
        sa.UniqueConstraint("session_id", "version", name="uq_result_versions_session_id_version"),
    )
    op.create_index(
        "ix_result_versions_session_id", "result_versions", ["session_id"], unique=False
    )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("scheduled_start", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("scheduled_start")
    op.drop_index("ix_result_versions_session_id", table_name="result_versions")
    op.drop_table("result_versions")
