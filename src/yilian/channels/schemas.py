"""What the channels API takes and gives (strict in: unknown fields are refused)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from yilian.channels.rules import MAX_ATTACHMENTS, MAX_POST_CHARS, MemberRole
from yilian.core.schemas import NON_BLANK, Id, In, Out


class ChannelIn(In):
    name: str = Field(min_length=1, pattern=NON_BLANK, max_length=64, description="e.g. 金山心梗救治群")
    description: str = Field(default="", max_length=1000)
    owner_institution_id: Id
    department_id: Id | None = Field(
        default=None, description="The owner's department a case post's up-referral goes to"
    )


class MemberIn(In):
    user_id: Id
    role: MemberRole = MemberRole.MEMBER


class PostIn(In):
    body: str = Field(
        default="",
        max_length=MAX_POST_CHARS,
        description="The text; `@姓名` mentions a member. Empty only with attachments.",
    )
    resident_id: Id | None = Field(
        default=None, description="A case post names a resident the author cares for (shown masked)"
    )
    attachment_ids: list[Id] = Field(
        default_factory=list, max_length=MAX_ATTACHMENTS, description="Files uploaded to this channel"
    )


class EditIn(In):
    body: str = Field(min_length=1, pattern=NON_BLANK, max_length=MAX_POST_CHARS)


class ReadIn(In):
    post_id: Id


class ChannelOut(Out):
    id: int
    name: str
    description: str
    owner_institution_id: int
    owner_institution: str
    department_id: int | None
    members: int
    my_role: MemberRole | None
    unread: int
    last_post_at: datetime | None
    last_post: str = Field(description="The newest post's first words (a case post: 病例 only)")


class ChannelPageOut(BaseModel):
    items: list[ChannelOut]
    total: int


class MemberOut(Out):
    user_id: int
    display_name: str
    institution_id: int | None
    institution: str
    role: MemberRole
    joined_at: datetime


class MemberPageOut(BaseModel):
    items: list[MemberOut]
    total: int


class AttachmentOut(Out):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


class CaseOut(Out):
    """The resident a case post names, masked: the post, never the record."""

    name: str = Field(description="Masked, e.g. 王*萍")
    sex: str = Field(description="`male` or `female`")
    age: int


class QuoteOut(Out):
    id: int
    author_name: str
    excerpt: str


class MentionOut(Out):
    name: str
    user_id: int | None
    refused: str | None = Field(default=None, description="Why no notice went (not a member)")


class PostOut(Out):
    id: int
    channel_id: int
    thread_id: int
    reply_to: QuoteOut | None
    author_id: int
    author_name: str
    author_institution: str
    body: str = Field(description="Empty once retracted")
    case: CaseOut | None
    attachments: list[AttachmentOut]
    has_ecg: bool
    created_at: datetime
    edited_at: datetime | None
    retracted: bool
    pinned: bool
    acks: int = Field(description="已读 n/m: n")
    members: int = Field(description="已读 n/m: m, the members other than the author")
    acked: bool = Field(description="Whether the signed-in user acknowledged it")
    replies: int
    editable_until: datetime | None = Field(description="For its author, while it may be edited")
    mentions: list[MentionOut]


class PostPageOut(BaseModel):
    items: list[PostOut] = Field(description="Oldest first")
    total: int
    first_unread_id: int | None = Field(description="Where the reader left off (None: all read)")
    has_older: bool


class AckOut(Out):
    user_id: int
    display_name: str
    institution: str
    at: datetime


class AckPageOut(BaseModel):
    items: list[AckOut]
    total: int
