"""a clinic session stores when booking closes, per pool, beside when it opens

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 12:00:00

Every window of a session is computed once (scheduling.rules.booking_windows) and stored on
its row, so that the booking statement of either engine compares columns, not arithmetic of its
own. Booking has closed when the session starts: existing rows are filled with their start.
On SQLite the batch operation recreates clinic_sessions (it has no triggers; its children keep
their rows because the migrations' SQLite connection runs without `PRAGMA foreign_keys`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLOSES = ("community_closes_at", "public_closes_at")


def upgrade() -> None:
    with op.batch_alter_table("clinic_sessions", schema=None) as batch_op:
        for column in CLOSES:
            batch_op.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE clinic_sessions SET community_closes_at = starts_at, public_closes_at = starts_at")
    with op.batch_alter_table("clinic_sessions", schema=None) as batch_op:
        for column in CLOSES:
            batch_op.alter_column(column, existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("clinic_sessions", schema=None) as batch_op:
        for column in reversed(CLOSES):
            batch_op.drop_column(column)
