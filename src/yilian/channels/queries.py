"""Reads of the case channels: the actor's channels with unread counts, a channel's posts (the last
50 and older ones, the unread marker, 已读 n/m), a thread, a search, the members, who acknowledged.

Membership is the door: every read asks `require_member` (403 and an audit row otherwise). A case
post shows its resident masked, and every case post a reader is shown leaves an audit row of its
own, a patient access through `case:<post id>` (that post, never the record)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.models import User
from yilian.auth.policy import Actor, Care
from yilian.channels import rules
from yilian.channels.models import (
    Channel,
    ChannelMember,
    ChannelPost,
    PostAck,
    PostAttachment,
    PostMention,
)
from yilian.core import masking
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.core.text import contains
from yilian.directory.models import Institution, Resident
from yilian.directory.rules import age_on

EXCERPT_CHARS = 40

# --- who is a member ------------------------------------------------------------------------------


async def get_channel(session: AsyncSession, channel_id: int) -> Channel:
    channel = await session.get(Channel, channel_id)
    if channel is None:
        raise NotFound(what=N_("Channel"), id=channel_id)
    return channel


async def get_post(session: AsyncSession, post_id: int) -> ChannelPost:
    """The post as the database has it now (not a cached copy); NotFound otherwise."""
    post = await session.get(ChannelPost, post_id, populate_existing=True)
    if post is None:
        raise NotFound(what=N_("Post"), id=post_id)
    return post


async def member_role(session: AsyncSession, channel_id: int, user_id: int) -> rules.MemberRole | None:
    role = await session.scalar(
        select(ChannelMember.role).where(
            ChannelMember.channel_id == channel_id,
            ChannelMember.user_id == user_id,
            ChannelMember.current(),
        )
    )
    return rules.MemberRole(role) if role else None


async def moderator_flag(session: AsyncSession, channel_id: int, actor: Actor) -> bool | None:
    """The policy's fact: None for a non-member, else whether a moderator."""
    role = await member_role(session, channel_id, actor.user_id)
    return None if role is None else role is rules.MemberRole.MODERATOR


async def require_member(
    session: AsyncSession, channel_id: int, actor: Actor, action: str, *, now: datetime
) -> bool:
    """Whether the actor moderates the channel; Forbidden (and an audit row) for a non-member."""
    moderator = await moderator_flag(session, channel_id, actor)
    allowed = policy.may_read_channel(moderator)
    audit.require(allowed, actor, action, at=now, detail={"channel_id": channel_id})
    return bool(moderator)


def current_member_ids(channel_id: int) -> Select[int]:
    return select(ChannelMember.user_id).where(
        ChannelMember.channel_id == channel_id, ChannelMember.current()
    )


async def member_count(session: AsyncSession, channel_id: int) -> int:
    return (
        await session.scalar(select(func.count()).select_from(current_member_ids(channel_id).subquery())) or 0
    )


# --- the actor's channels -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelView:
    id: int
    name: str
    description: str
    owner_institution_id: int
    owner_institution: str
    department_id: int | None
    members: int
    my_role: rules.MemberRole | None
    unread: int
    last_post_at: datetime | None
    last_post: str


def excerpt(post: ChannelPost) -> str:
    """A post's first words, as a list or a quote shows them: a case post says only 病例."""
    if post.retracted_at is not None:
        return "已撤回"
    text = " ".join((post.body or "[图片]").split())
    short = text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"
    return "[病例] " + short if post.resident_id is not None else short


async def list_channels(session: AsyncSession, *, actor: Actor) -> list[ChannelView]:
    """The channels the actor is a member of, and those it may administer; the newest activity first,
    each with its unread count (posts by others after the last one read)."""
    memberships = {
        m.channel_id: m
        for m in await session.scalars(
            select(ChannelMember).where(ChannelMember.user_id == actor.user_id, ChannelMember.current())
        )
    }
    administered = {
        channel_id
        for channel_id, owner in (
            await session.execute(select(Channel.id, Channel.owner_institution_id))
        ).all()
        if policy.may_create_channel(actor, owner)
    }
    ids = set(memberships) | administered
    if not ids:
        return []
    channels = (await session.scalars(select(Channel).where(Channel.id.in_(ids)))).all()
    owners = await institution_names(session, {c.owner_institution_id for c in channels})
    sizes = dict(
        (
            await session.execute(
                select(ChannelMember.channel_id, func.count())
                .where(ChannelMember.channel_id.in_(ids), ChannelMember.current())
                .group_by(ChannelMember.channel_id)
            )
        ).all()
    )
    unread = dict(
        (
            await session.execute(
                select(ChannelPost.channel_id, func.count())
                .join(
                    ChannelMember,
                    (ChannelMember.channel_id == ChannelPost.channel_id)
                    & (ChannelMember.user_id == actor.user_id),
                )
                .where(
                    ChannelMember.current(),
                    ChannelPost.id > ChannelMember.last_read_post_id,
                    ChannelPost.author_id != actor.user_id,
                    ChannelPost.retracted_at.is_(None),
                )
                .group_by(ChannelPost.channel_id)
            )
        ).all()
    )
    newest = (
        select(func.max(ChannelPost.id))
        .where(ChannelPost.channel_id.in_(ids))
        .group_by(ChannelPost.channel_id)
    )
    last = {
        p.channel_id: p for p in await session.scalars(select(ChannelPost).where(ChannelPost.id.in_(newest)))
    }
    views = [
        ChannelView(
            id=c.id,
            name=c.name,
            description=c.description,
            owner_institution_id=c.owner_institution_id,
            owner_institution=owners.get(c.owner_institution_id, ""),
            department_id=c.department_id,
            members=sizes.get(c.id, 0),
            my_role=rules.MemberRole(memberships[c.id].role) if c.id in memberships else None,
            unread=unread.get(c.id, 0),
            last_post_at=last[c.id].created_at if c.id in last else None,
            last_post=excerpt(last[c.id]) if c.id in last else "",
        )
        for c in channels
    ]
    views.sort(key=lambda v: v.id)
    views.sort(key=lambda v: v.last_post_at.timestamp() if v.last_post_at else 0.0, reverse=True)
    return views


async def one_channel(session: AsyncSession, *, channel_id: int, actor: Actor, now: datetime) -> ChannelView:
    """A channel as the list shows it, to a member or one who administers it (403 otherwise)."""
    await get_channel(session, channel_id)
    found = next((v for v in await list_channels(session, actor=actor) if v.id == channel_id), None)
    audit.require(found is not None, actor, "channel.read", at=now, detail={"channel_id": channel_id})
    assert found is not None  # noqa: S101 — require refused otherwise
    return found


async def institution_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Institution.id, Institution.name).where(Institution.id.in_(ids)))
    return {i: n for i, n in rows.all()}  # noqa: C416 — typed rows, not pairs to mypy


# --- posts ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentView:
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class CaseView:
    name: str  # masked
    sex: str
    age: int


@dataclass(frozen=True)
class QuoteView:
    id: int
    author_name: str
    excerpt: str


@dataclass(frozen=True)
class MentionView:
    name: str
    user_id: int | None
    refused: str | None = None


@dataclass(frozen=True)
class PostView:
    id: int
    channel_id: int
    thread_id: int
    reply_to: QuoteView | None
    author_id: int
    author_name: str
    author_institution: str
    body: str
    case: CaseView | None
    attachments: list[AttachmentView]
    has_ecg: bool
    created_at: datetime
    edited_at: datetime | None
    retracted: bool
    pinned: bool
    acks: int
    members: int
    acked: bool
    replies: int
    editable_until: datetime | None
    mentions: list[MentionView]


async def post_views(
    session: AsyncSession, posts: Sequence[ChannelPost], *, actor: Actor, now: datetime, today: date
) -> list[PostView]:
    """The posts as a reader sees them, in a handful of statements whatever their number; each case
    post among them is a patient access, audited through `case:<post id>`."""
    if not posts:
        return []
    ids = [p.id for p in posts]
    quoted_ids = {p.reply_to_id for p in posts if p.reply_to_id is not None}
    quoted = {
        q.id: q for q in await session.scalars(select(ChannelPost).where(ChannelPost.id.in_(quoted_ids)))
    }
    people = await _people(session, {p.author_id for p in posts} | {q.author_id for q in quoted.values()})
    residents = {
        r.id: r
        for r in await session.scalars(
            select(Resident).where(Resident.id.in_({p.resident_id for p in posts if p.resident_id}))
        )
    }
    files: dict[int, list[AttachmentView]] = {}
    for a in await session.scalars(
        select(PostAttachment).where(PostAttachment.post_id.in_(ids)).order_by(PostAttachment.id)
    ):
        assert a.post_id is not None  # noqa: S101 — selected by it
        files.setdefault(a.post_id, []).append(
            AttachmentView(
                id=a.id, filename=a.filename, content_type=a.content_type, size=a.size, sha256=a.sha256
            )
        )
    acks = dict(
        (
            await session.execute(
                select(PostAck.post_id, func.count())
                .where(PostAck.post_id.in_(ids))
                .group_by(PostAck.post_id)
            )
        ).all()
    )
    mine = set(
        (
            await session.scalars(
                select(PostAck.post_id).where(PostAck.post_id.in_(ids), PostAck.user_id == actor.user_id)
            )
        ).all()
    )
    replies = dict(
        (
            await session.execute(
                select(ChannelPost.reply_to_id, func.count())
                .where(ChannelPost.reply_to_id.in_(ids))
                .group_by(ChannelPost.reply_to_id)
            )
        ).all()
    )
    mentions: dict[int, list[MentionView]] = {}
    for post_id, user_id, name in await session.execute(
        select(PostMention.post_id, PostMention.user_id, User.display_name)
        .join(User, User.id == PostMention.user_id)
        .where(PostMention.post_id.in_(ids))
    ):
        mentions.setdefault(post_id, []).append(MentionView(name=name, user_id=user_id))
    sizes = {p.channel_id for p in posts}
    members = {channel_id: await member_count(session, channel_id) for channel_id in sizes}
    views = []
    for p in posts:
        retracted = p.retracted_at is not None
        resident = residents.get(p.resident_id) if p.resident_id is not None and not retracted else None
        case = None
        if resident is not None:
            case = CaseView(
                name=masking.mask_name(resident.name),
                sex=resident.sex,
                age=age_on(resident.birth_date, today),
            )
            audit.record(
                session,
                actor,
                "channel.case.read",
                at=now,
                resident_id=resident.id,
                care=f"{Care.CASE.value}:{p.id}",
                detail={"channel_id": p.channel_id, "post_id": p.id},
            )
        q = quoted.get(p.reply_to_id) if p.reply_to_id is not None else None
        author_name, author_institution = people.get(p.author_id, ("", ""))
        views.append(
            PostView(
                id=p.id,
                channel_id=p.channel_id,
                thread_id=p.thread_id,
                reply_to=QuoteView(
                    id=q.id, author_name=people.get(q.author_id, ("", ""))[0], excerpt=excerpt(q)
                )
                if q is not None
                else None,
                author_id=p.author_id,
                author_name=author_name,
                author_institution=author_institution,
                body="" if retracted else p.body,
                case=case,
                attachments=[] if retracted else files.get(p.id, []),
                has_ecg=p.has_ecg and not retracted,
                created_at=p.created_at,
                edited_at=p.edited_at,
                retracted=retracted,
                pinned=p.pinned_at is not None,
                acks=acks.get(p.id, 0),
                members=max(members[p.channel_id] - 1, acks.get(p.id, 0)),
                acked=p.id in mine,
                replies=replies.get(p.id, 0),
                editable_until=rules.edit_deadline(p.created_at)
                if p.author_id == actor.user_id and not retracted and rules.may_still_edit(p.created_at, now)
                else None,
                mentions=mentions.get(p.id, []),
            )
        )
    return views


async def _people(session: AsyncSession, user_ids: set[int]) -> dict[int, tuple[str, str]]:
    """Each user's name and institution, as a post shows its author."""
    if not user_ids:
        return {}
    rows = await session.execute(
        select(User.id, User.display_name, Institution.name)
        .outerjoin(Institution, Institution.id == User.institution_id)
        .where(User.id.in_(user_ids))
    )
    return {user_id: (name, institution or "") for user_id, name, institution in rows.all()}


@dataclass(frozen=True)
class PostPage:
    items: list[PostView]
    total: int
    first_unread_id: int | None
    has_older: bool


@dataclass(frozen=True)
class Search:
    q: str | None = None
    author_id: int | None = None
    has_ecg: bool | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.q:
            found.append(contains(ChannelPost.body, self.q))
            found.append(ChannelPost.retracted_at.is_(None))
        if self.author_id is not None:
            found.append(ChannelPost.author_id == self.author_id)
        if self.has_ecg is not None:
            found.append(ChannelPost.has_ecg.is_(self.has_ecg))
            found.append(ChannelPost.retracted_at.is_(None))
        return found


async def channel_posts(
    session: AsyncSession,
    *,
    channel_id: int,
    actor: Actor,
    now: datetime,
    today: date,
    before: int | None = None,
    after: int | None = None,
    search: Search = Search(),
    limit: int = rules.PAGE_POSTS,
) -> PostPage:
    """A channel's posts, oldest first: the last `limit` (before a post id, to load older ones as
    the reader scrolls up; or after one, what a page missed), matching `search`, with where the
    reader left off. Members only (403 and an audit row otherwise)."""
    await get_channel(session, channel_id)
    await require_member(session, channel_id, actor, "channel.read", now=now)
    where = [ChannelPost.channel_id == channel_id, *search.clauses()]
    total = await session.scalar(select(func.count()).where(*where)) or 0
    query = select(ChannelPost).where(*where)
    if before is not None:
        query = query.where(ChannelPost.id < before)
    if after is not None:
        query = query.where(ChannelPost.id > after).order_by(ChannelPost.id).limit(limit)
        posts = list((await session.scalars(query)).all())
        older = False
    else:
        posts = list((await session.scalars(query.order_by(ChannelPost.id.desc()).limit(limit + 1))).all())
        older = len(posts) > limit
        posts = posts[:limit][::-1]
    last_read = await session.scalar(
        select(ChannelMember.last_read_post_id).where(
            ChannelMember.channel_id == channel_id, ChannelMember.user_id == actor.user_id
        )
    )
    first_unread = await session.scalar(
        select(func.min(ChannelPost.id)).where(
            ChannelPost.channel_id == channel_id,
            ChannelPost.id > (last_read or 0),
            ChannelPost.author_id != actor.user_id,
            ChannelPost.retracted_at.is_(None),
        )
    )
    items = await post_views(session, posts, actor=actor, now=now, today=today)
    return PostPage(items=items, total=total, first_unread_id=first_unread, has_older=older)


async def thread_posts(
    session: AsyncSession, *, post_id: int, actor: Actor, now: datetime, today: date
) -> list[PostView]:
    """A post's thread: the post that started it and every reply, oldest first (members only)."""
    post = await get_post(session, post_id)
    await require_member(session, post.channel_id, actor, "channel.read", now=now)
    posts = (
        await session.scalars(
            select(ChannelPost).where(ChannelPost.thread_id == post.thread_id).order_by(ChannelPost.id)
        )
    ).all()
    return await post_views(session, posts, actor=actor, now=now, today=today)


async def fresh_view(
    session: AsyncSession,
    post: ChannelPost,
    mentions: list[MentionView],
    *,
    actor: Actor,
    now: datetime,
    today: date,
) -> PostView:
    """A post just written, as its author sees it, with each mention's fate (refused ones too)."""
    view = (await post_views(session, [post], actor=actor, now=now, today=today))[0]
    return replace(view, mentions=mentions)


async def one_post(
    session: AsyncSession, *, post_id: int, actor: Actor, now: datetime, today: date
) -> PostView:
    post = await get_post(session, post_id)
    await require_member(session, post.channel_id, actor, "channel.read", now=now)
    return (await post_views(session, [post], actor=actor, now=now, today=today))[0]


# --- members and acknowledgements -----------------------------------------------------------------


@dataclass(frozen=True)
class MemberView:
    user_id: int
    display_name: str
    institution_id: int | None
    institution: str
    role: rules.MemberRole
    joined_at: datetime


async def members(session: AsyncSession, *, channel_id: int, actor: Actor, now: datetime) -> list[MemberView]:
    """The current members, moderators first, then by institution and name (members, and those who
    may manage the membership, only)."""
    channel = await get_channel(session, channel_id)
    moderator = await moderator_flag(session, channel_id, actor)
    allowed = policy.may_read_channel(moderator) or policy.may_manage_members(
        actor, moderator, channel.owner_institution_id
    )
    audit.require(allowed, actor, "channel.read", at=now, detail={"channel_id": channel_id})
    rows = await session.execute(
        select(ChannelMember, User.display_name, User.institution_id, Institution.name)
        .join(User, User.id == ChannelMember.user_id)
        .outerjoin(Institution, Institution.id == User.institution_id)
        .where(ChannelMember.channel_id == channel_id, ChannelMember.current())
    )
    views = [
        MemberView(
            user_id=m.user_id,
            display_name=name,
            institution_id=institution_id,
            institution=institution or "",
            role=rules.MemberRole(m.role),
            joined_at=m.joined_at,
        )
        for m, name, institution_id, institution in rows.all()
    ]
    views.sort(key=lambda v: (v.role is not rules.MemberRole.MODERATOR, v.institution, v.display_name))
    return views


@dataclass(frozen=True)
class AckView:
    user_id: int
    display_name: str
    institution: str
    at: datetime


async def acks(session: AsyncSession, *, post_id: int, actor: Actor, now: datetime) -> list[AckView]:
    """Who acknowledged a post (已读), first first (members only)."""
    post = await get_post(session, post_id)
    await require_member(session, post.channel_id, actor, "channel.read", now=now)
    rows = await session.execute(
        select(PostAck.user_id, PostAck.at, User.display_name, Institution.name)
        .join(User, User.id == PostAck.user_id)
        .outerjoin(Institution, Institution.id == User.institution_id)
        .where(PostAck.post_id == post_id)
        .order_by(PostAck.at, PostAck.user_id)
    )
    return [AckView(user_id=u, display_name=n, institution=i or "", at=at) for u, at, n, i in rows.all()]
