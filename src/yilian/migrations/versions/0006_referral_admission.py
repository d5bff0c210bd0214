"""a down-referral names the admission it continues (at most one live per admission)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 20:28:49.649829

Runs on SQLite and PostgreSQL: use batch operations (`op.batch_alter_table`) for changes to
existing tables. Beware: on SQLite a batch "move and copy" recreates the table and drops its
triggers (audit_events keeps its append-only triggers only if you re-create them).
`referrals` has none; its children (events, attachments, plans, tasks) keep their rows because
the migrations' SQLite connection runs without `PRAGMA foreign_keys`, so dropping the old table
cascades nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("admission_request_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "uq_referrals_admission_request",
            ["admission_request_id"],
            unique=True,
            sqlite_where=sa.text("admission_request_id IS NOT NULL AND status <> 'cancelled'"),
            postgresql_where=sa.text("admission_request_id IS NOT NULL AND status <> 'cancelled'"),
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_referrals_admission_request_id_admission_requests"),
            "admission_requests",
            ["admission_request_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_referrals_admission_request_id_admission_requests"), type_="foreignkey"
        )
        batch_op.drop_index(
            "uq_referrals_admission_request",
            sqlite_where=sa.text("admission_request_id IS NOT NULL AND status <> 'cancelled'"),
            postgresql_where=sa.text("admission_request_id IS NOT NULL AND status <> 'cancelled'"),
        )
        batch_op.drop_column("admission_request_id")
