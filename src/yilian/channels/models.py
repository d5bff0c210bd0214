"""Case channels: channels and their members, threads, posts (with their edits, attachments,
acknowledgements and mentions). A post is never deleted: a retracted post keeps its text for the
audit trail and reads 已撤回; an edit keeps the text it replaced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yilian.core.tables import Base, UTCDateTime


class Channel(Base):
    """A specialty network's room (金山心梗救治群), owned by an institution; a case post's
    up-referral goes to the owner and its department."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    owner_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChannelMember(Base):
    """One user's membership: role, since when, until when (a member who left keeps the row, and
    coming back clears `left_at`), and the newest post read (the unread marker)."""

    __tablename__ = "channel_members"
    __table_args__ = (
        UniqueConstraint("channel_id", "user_id", name="uq_channel_members_channel_user"),
        Index("ix_channel_members_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))  # rules.MemberRole
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_read_post_id: Mapped[int] = mapped_column(Integer, default=0)

    @classmethod
    def current(cls) -> ColumnElement[bool]:
        return cls.left_at.is_(None)


class ChannelThread(Base):
    """A post and its replies. A post that answers no other starts one; a chest-pain case's
    discussion is a thread too."""

    __tablename__ = "channel_threads"
    __table_args__ = (Index("ix_channel_threads_channel", "channel_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChannelPost(Base):
    """One post. A case post names a resident (`resident_id`): the members read that post, not the
    record, and each read is audited as an access through `case:<post id>`."""

    __tablename__ = "channel_posts"
    __table_args__ = (
        Index("ix_channel_posts_channel", "channel_id", "id"),
        Index("ix_channel_posts_thread", "thread_id", "id"),
        Index("ix_channel_posts_resident", "resident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("channel_threads.id", ondelete="CASCADE"))
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("channel_posts.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    has_ecg: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retracted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    pinned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pinned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PostEdit(Base):
    """The text an edit replaced, and when (the history of an edited post)."""

    __tablename__ = "channel_post_edits"
    __table_args__ = (Index("ix_channel_post_edits_post", "post_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("channel_posts.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PostAttachment(Base):
    """A photo or PDF (an ECG), checked as a referral's attachments are; uploaded first, then named
    by the post (`post_id` stays empty until then)."""

    __tablename__ = "channel_attachments"
    __table_args__ = (Index("ix_channel_attachments_post", "post_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("channel_posts.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PostAck(Base):
    """已阅: a member has read and acknowledged a post (once)."""

    __tablename__ = "channel_post_acks"

    post_id: Mapped[int] = mapped_column(ForeignKey("channel_posts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class PostMention(Base):
    """A member mentioned by a post (@name), who got a notice."""

    __tablename__ = "channel_post_mentions"

    post_id: Mapped[int] = mapped_column(ForeignKey("channel_posts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
