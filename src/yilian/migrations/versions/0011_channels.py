"""channels: case channels (专病群), their members, threads, posts, edits, attachments,
acknowledgements and mentions

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_institution_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_channels_created_by_users")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_channels_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["owner_institution_id"],
            ["institutions.id"],
            name=op.f("fk_channels_owner_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint("name", name=op.f("uq_channels_name")),
    )
    op.create_table(
        "channel_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_read_post_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["added_by"], ["users.id"], name=op.f("fk_channel_members_added_by_users")),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_channel_members_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_channel_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_members")),
        sa.UniqueConstraint("channel_id", "user_id", name="uq_channel_members_channel_user"),
    )
    with op.batch_alter_table("channel_members", schema=None) as batch_op:
        batch_op.create_index("ix_channel_members_user", ["user_id"], unique=False)

    op.create_table(
        "channel_threads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_channel_threads_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_channel_threads_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_threads")),
    )
    with op.batch_alter_table("channel_threads", schema=None) as batch_op:
        batch_op.create_index("ix_channel_threads_channel", ["channel_id", "id"], unique=False)

    op.create_table(
        "channel_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("reply_to_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("has_ecg", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retracted_by", sa.Integer(), nullable=True),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pinned_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_channel_posts_author_id_users")),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_channel_posts_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["pinned_by"], ["users.id"], name=op.f("fk_channel_posts_pinned_by_users")),
        sa.ForeignKeyConstraint(
            ["reply_to_id"], ["channel_posts.id"], name=op.f("fk_channel_posts_reply_to_id_channel_posts")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_channel_posts_resident_id_residents")
        ),
        sa.ForeignKeyConstraint(
            ["retracted_by"], ["users.id"], name=op.f("fk_channel_posts_retracted_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["channel_threads.id"],
            name=op.f("fk_channel_posts_thread_id_channel_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_posts")),
    )
    with op.batch_alter_table("channel_posts", schema=None) as batch_op:
        batch_op.create_index("ix_channel_posts_channel", ["channel_id", "id"], unique=False)
        batch_op.create_index("ix_channel_posts_resident", ["resident_id"], unique=False)
        batch_op.create_index("ix_channel_posts_thread", ["thread_id", "id"], unique=False)

    op.create_table(
        "channel_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_channel_attachments_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["channel_posts.id"],
            name=op.f("fk_channel_attachments_post_id_channel_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_channel_attachments_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_attachments")),
    )
    with op.batch_alter_table("channel_attachments", schema=None) as batch_op:
        batch_op.create_index("ix_channel_attachments_post", ["post_id"], unique=False)

    op.create_table(
        "channel_post_acks",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["channel_posts.id"],
            name=op.f("fk_channel_post_acks_post_id_channel_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_channel_post_acks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "user_id", name=op.f("pk_channel_post_acks")),
    )
    op.create_table(
        "channel_post_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["channel_posts.id"],
            name=op.f("fk_channel_post_edits_post_id_channel_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_post_edits")),
    )
    with op.batch_alter_table("channel_post_edits", schema=None) as batch_op:
        batch_op.create_index("ix_channel_post_edits_post", ["post_id", "id"], unique=False)

    op.create_table(
        "channel_post_mentions",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["channel_posts.id"],
            name=op.f("fk_channel_post_mentions_post_id_channel_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_channel_post_mentions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "user_id", name=op.f("pk_channel_post_mentions")),
    )


def downgrade() -> None:
    op.drop_table("channel_post_mentions")
    with op.batch_alter_table("channel_post_edits", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_post_edits_post")

    op.drop_table("channel_post_edits")
    op.drop_table("channel_post_acks")
    with op.batch_alter_table("channel_attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_attachments_post")

    op.drop_table("channel_attachments")
    with op.batch_alter_table("channel_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_posts_thread")
        batch_op.drop_index("ix_channel_posts_resident")
        batch_op.drop_index("ix_channel_posts_channel")

    op.drop_table("channel_posts")
    with op.batch_alter_table("channel_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_threads_channel")

    op.drop_table("channel_threads")
    with op.batch_alter_table("channel_members", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_members_user")

    op.drop_table("channel_members")
    op.drop_table("channels")
