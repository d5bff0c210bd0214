"""the audit trail names the care relationship a resident's record was reached by

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 16:40:00

A plain ADD COLUMN on both engines: audit_events is append-only by triggers, which a batch
recreation of the table on SQLite would drop.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("care", sa.String(40), nullable=True))


def downgrade() -> None:
    op.drop_column("audit_events", "care")
