"""The sprint of a SprintDuro as results of its own (``result_versions.part``); a car's
performance index, other body's class and how its class was found (``cars``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Strategy: every stored version so far is a race's (or a SprintDuro's endurance) result,
so the new column defaults to ``race``; a SprintDuro's sprint is versioned as ``sprint``
with its own numbers, hence the unique constraint gains the part. The cars' new columns
are optional: a car entered by class alone has none. Batch mode for SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("result_versions") as batch:
        batch.add_column(
            sa.Column("part", sa.String(length=16), server_default="race", nullable=False)
        )
        batch.drop_constraint("uq_result_versions_session_id_version", type_="unique")
        batch.create_unique_constraint(
            "uq_result_versions_session_id_part_version", ["session_id", "part", "version"]
        )
    with op.batch_alter_table("cars") as batch:
        batch.add_column(sa.Column("pi", sa.Float(), nullable=True))
        batch.add_column(sa.Column("other_class", sa.String(length=201), nullable=True))
        batch.add_column(sa.Column("class_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cars") as batch:
        for column in ("class_note", "other_class", "pi"):
            batch.drop_column(column)
    # the sprints' versions cannot live in the old table: (session, version) would clash
    op.execute("DELETE FROM result_versions WHERE part <> 'race'")
    with op.batch_alter_table("result_versions") as batch:
        batch.drop_constraint("uq_result_versions_session_id_part_version", type_="unique")
        batch.create_unique_constraint(
            "uq_result_versions_session_id_version", ["session_id", "version"]
        )
        batch.drop_column("part")
