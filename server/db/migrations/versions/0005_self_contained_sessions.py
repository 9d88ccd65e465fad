"""Self-contained sessions: resolved rule sets, the minimum lap, stored results.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Strategy: a session's results must not depend on anything outside its own rows and
journal. ``sessions.rules`` is rewritten from the choice (a preset name plus overrides,
or NULL for IMG) to every RuleSet field, resolved with the presets as they were when
this migration was written: they are copied here, frozen, because a migration must give
the same answer whatever the code's presets become. ``sessions.min_lap_ms`` is copied
from the session's event. ``session_results`` holds each past session's standings at a
journal seq. Journals written before the entry list was journaled get theirs from the
replay (``RaceService.replay``: once, appended, applied first). Batch mode for SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# server/engine/rules.py as of this revision, in the JSON of server/engine/rule_spec.py
_IMG: dict[str, Any] = {
    "max_stint_us": 10_800_000_000,
    "stint_warnings_us": [900_000_000, 300_000_000],
    "min_rest_us": 3_600_000_000,
    "drive_time": "pit_excluded",
    "stint_frozen_under_caution": False,
    "stint_frozen_under_red": False,
    "mandatory_stops": 1,
    "mandatory_stops_every_us": None,
    "window_opens_us": 0,
    "window_closes_us": None,
    "window_closing_warning_us": 600_000_000,
    "min_stop_us": None,
    "min_stop_under_safety_car_us": None,
    "short_stop_penalty": None,
    "solo_max_race_us": 10_800_000_000,
    "missed_stop_penalty": {"kind": "laps", "value": 1},
    "caution_flags": ["yellow"],
    "red_may_stop_clock": True,
    "hourly_snapshots": True,
    "sprint_split_us": 1_800_000_000,
}
_PRESETS: dict[str, dict[str, Any]] = {
    "img": {},
    "champcar_older": {"max_stint_us": 7_200_000_000, "min_stop_us": 300_000_000},
    "aer": {"mandatory_stops_every_us": 5_400_000_000, "min_stop_us": 180_000_000},
    "wcma": {
        "min_stop_us": 300_000_000,
        "short_stop_penalty": {"kind": "stop_and_go", "value": 300},
    },
    "brscc": {
        "min_stop_under_safety_car_us": 360_000_000,
        "caution_flags": ["safety_car", "yellow"],
    },
}

sessions = sa.table(
    "sessions",
    sa.column("id", sa.Integer()),
    sa.column("event_id", sa.Integer()),
    sa.column("rules", sa.JSON()),
    sa.column("min_lap_ms", sa.Integer()),
)
events = sa.table("events", sa.column("id", sa.Integer()), sa.column("min_lap_ms", sa.Integer()))


def resolved(spec: dict[str, Any] | None) -> dict[str, Any]:
    """The stored choice as every field (an already resolved spec stays as it is)."""
    if spec is None:
        return {"name": "img", **_IMG}
    if "name" in spec and "preset" not in spec:
        return spec
    name = spec.get("preset", "img")
    overrides = {key: value for key, value in spec.items() if key != "preset"}
    return {"name": name, **_IMG, **_PRESETS[name], **overrides}


def chosen(spec: dict[str, Any] | None) -> dict[str, Any] | None:
    """Back to the earlier form: the preset it was named after, every field overridden."""
    if spec is None or "name" not in spec:
        return spec
    return {"preset": spec["name"], **{k: v for k, v in spec.items() if k != "name"}}


def _rewrite_rules(convert: Any) -> None:
    connection = op.get_bind()
    for session_id, spec in connection.execute(sa.select(sessions.c.id, sessions.c.rules)):
        statement = sessions.update().where(sessions.c.id == session_id)
        connection.execute(statement.values(rules=convert(spec)))


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(
            sa.Column("min_lap_ms", sa.Integer(), server_default="20000", nullable=False)
        )
    event_min_lap = (
        sa.select(events.c.min_lap_ms).where(events.c.id == sessions.c.event_id).scalar_subquery()
    )
    op.get_bind().execute(sessions.update().values(min_lap_ms=event_min_lap))
    _rewrite_rules(resolved)
    op.create_table(
        "session_results",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("standings", sa.JSON(), nullable=False),
        sa.Column(
            "computed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name="fk_session_results_session_id_sessions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name="pk_session_results"),
    )


def downgrade() -> None:
    op.drop_table("session_results")
    _rewrite_rules(chosen)
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("min_lap_ms")
