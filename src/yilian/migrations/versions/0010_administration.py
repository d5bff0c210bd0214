"""administration: the registers' own keys and codes, ended memberships and accounts, first
passwords, closures for a date range, and uploaded register workbooks

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 04:00:00

Institutions gain a short name, the 统一社会信用代码 (unique: the import's natural key) and the
GB/T 2260 district code; departments the 诊疗科目 code; memberships an end date; users the time
they were deactivated and whether the password must be changed at the next sign-in. On SQLite
the batch operations recreate institutions and users (neither has triggers; their children keep
their rows because the migrations' SQLite connection runs without `PRAGMA foreign_keys`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("short_name", sa.String(32), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("credit_code", sa.String(18), nullable=True))
        batch_op.add_column(sa.Column("district_code", sa.String(6), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_institutions_credit_code"), ["credit_code"])
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.alter_column("short_name", existing_type=sa.String(32), server_default=None)
    op.add_column("departments", sa.Column("subject_code", sa.String(16), nullable=True))
    op.add_column("memberships", sa.Column("left_on", sa.Date(), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("must_change_password", existing_type=sa.Boolean(), server_default=None)

    op.create_table(
        "clinic_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("practitioner_id", sa.Integer(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_clinic_closures_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_clinic_closures_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_clinic_closures_practitioner_id_practitioners"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_clinic_closures_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_closures")),
    )
    op.create_index(op.f("ix_clinic_closures_institution_id"), "clinic_closures", ["institution_id"])

    op.create_table(
        "workbook_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_workbook_uploads_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workbook_uploads")),
    )
    op.create_index(op.f("ix_workbook_uploads_user_id"), "workbook_uploads", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_workbook_uploads_user_id"), table_name="workbook_uploads")
    op.drop_table("workbook_uploads")
    op.drop_index(op.f("ix_clinic_closures_institution_id"), table_name="clinic_closures")
    op.drop_table("clinic_closures")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("deactivated_at")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("left_on")
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.drop_column("subject_code")
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_institutions_credit_code"), type_="unique")
        batch_op.drop_column("district_code")
        batch_op.drop_column("credit_code")
        batch_op.drop_column("short_name")
