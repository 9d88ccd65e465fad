"""Engine checkpoints: a timed session's replayed state at a journal seq.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Strategy: a new table of derived data (``server.service.checkpoint``): nothing existing
changes, and a downgrade only drops it (a load then replays the whole journal).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "engine_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("engine_version", sa.String(length=64), nullable=False),
        sa.Column("config_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name="fk_engine_checkpoints_session_id_sessions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_engine_checkpoints"),
    )
    op.create_index(
        "ix_engine_checkpoints_session_id_seq",
        "engine_checkpoints",
        ["session_id", "seq"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_engine_checkpoints_session_id_seq", table_name="engine_checkpoints")
    op.drop_table("engine_checkpoints")
