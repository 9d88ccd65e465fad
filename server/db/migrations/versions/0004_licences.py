"""Driver licences and medicals, and the event date they are judged on.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

Strategy: all nullable. ``drivers.licence_checked`` says whether the entry list that
wrote the driver carried licence columns at all: only then does a missing date flag the
driver (an entry list without licence data flags nobody). Batch mode for SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("drivers") as batch:
        batch.add_column(sa.Column("licence_expires", sa.Date(), nullable=True))
        batch.add_column(sa.Column("medical_expires", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("licence_checked", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("date")
    with op.batch_alter_table("drivers") as batch:
        batch.drop_column("licence_checked")
        batch.drop_column("medical_expires")
        batch.drop_column("licence_expires")
