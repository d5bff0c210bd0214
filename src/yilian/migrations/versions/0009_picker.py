"""a resident is found by the pinyin initials of its name and the last four of its ID number or phone

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 01:30:00

Three columns beside residents (directory.models.Resident), filled for the existing rows in
batches with the rules that fill them for new ones (directory.rules.name_initials, last_four).
On SQLite the batch operation recreates the residents table to make two of them NOT NULL (it has
no triggers; its children keep their rows because the migrations' SQLite connection runs without
`PRAGMA foreign_keys`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yilian.directory.rules import last_four, name_initials

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
residents = sa.table(
    "residents",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("id_number", sa.String),
    sa.column("phone", sa.String),
    sa.column("name_initials", sa.String),
    sa.column("id_last4", sa.String),
    sa.column("phone_last4", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_initials", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("id_last4", sa.String(4), nullable=True))
        batch_op.add_column(sa.Column("phone_last4", sa.String(4), nullable=True))
    _backfill()
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.alter_column("name_initials", existing_type=sa.String(64), nullable=False)
        batch_op.alter_column("id_last4", existing_type=sa.String(4), nullable=False)
    op.create_index(
        "ix_residents_name_initials",
        "residents",
        ["name_initials"],
        postgresql_ops={"name_initials": "varchar_pattern_ops"},
    )
    op.create_index("ix_residents_id_last4", "residents", ["id_last4"])
    op.create_index("ix_residents_phone_last4", "residents", ["phone_last4"])


def _backfill() -> None:
    connection = op.get_bind()
    after = 0
    while rows := connection.execute(
        sa.select(residents.c.id, residents.c.name, residents.c.id_number, residents.c.phone)
        .where(residents.c.id > after)
        .order_by(residents.c.id)
        .limit(BATCH)
    ).all():
        connection.execute(
            residents.update()
            .where(residents.c.id == sa.bindparam("row_id"))
            .values(
                name_initials=sa.bindparam("initials"),
                id_last4=sa.bindparam("id4"),
                phone_last4=sa.bindparam("phone4"),
            ),
            [
                {
                    "row_id": row.id,
                    "initials": name_initials(row.name),
                    "id4": last_four(row.id_number),
                    "phone4": last_four(row.phone),
                }
                for row in rows
            ],
        )
        after = rows[-1].id


def downgrade() -> None:
    op.drop_index("ix_residents_phone_last4", table_name="residents")
    op.drop_index("ix_residents_id_last4", table_name="residents")
    op.drop_index("ix_residents_name_initials", table_name="residents")
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_column("phone_last4")
        batch_op.drop_column("id_last4")
        batch_op.drop_column("name_initials")
