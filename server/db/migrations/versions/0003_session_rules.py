"""The rule set of each session: a nullable JSON column on sessions.

Revision ID: 0003
Revises: 0002
Create Date: 2025-12-03

Strategy: nullable, so sessions created before it keep running the IMG defaults they
were timed with (None means exactly that). The column holds the choice as made, a
preset name and the fields that differ (server/engine/rule_spec.py), so replaying an
old journal gets its own rules back. Batch mode for SQLite, as in 0002.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("rules", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("rules")
