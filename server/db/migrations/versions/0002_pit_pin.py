"""Pit marshals' PIN: a nullable argon2 hash on each event.

Revision ID: 0002
Revises: 0001
Create Date: 2025-12-02

Strategy: one nullable column, so existing events simply have no PIN (PIN logins are
refused until ``racecontrol pin set`` gives them one). Batch mode makes the same code
work on SQLite, which cannot drop a column in place on older versions; on PostgreSQL the
batch is a plain ALTER TABLE.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("pit_pin_hash", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("pit_pin_hash")
