"""Writes of the case channels: set one up, invite and remove members, upload a file, post and
reply (a case post naming a resident), mention, acknowledge, edit within the window, retract, pin,
mark read, and turn a case post into an up-referral. One public call is one unit of work and its
audit rows; every decision is asked of `auth.policy`, every race decided by the database."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.models import User
from yilian.auth.policy import Actor, Care
from yilian.channels import notify, queries, rules
from yilian.channels.errors import (
    AlreadyMember,
    BadAttachments,
    DuplicateChannelName,
    EditWindowPassed,
    NotACasePost,
    NotMember,
    PostRetracted,
)
from yilian.channels.models import (
    Channel,
    ChannelMember,
    ChannelPost,
    ChannelThread,
    PostAck,
    PostAttachment,
    PostEdit,
    PostMention,
)
from yilian.channels.queries import MentionView
from yilian.channels.schemas import ChannelIn, MemberIn, PostIn
from yilian.core import masking
from yilian.core.errors import NotFound, Unprocessable
from yilian.core.i18n import N_
from yilian.directory import queries as directory
from yilian.directory.models import Department, Institution
from yilian.referrals.models import Referral
from yilian.referrals.rules import Direction
from yilian.referrals.schemas import ReferralIn
from yilian.referrals.service import attachments as referral_files
from yilian.referrals.service import create as referrals

# --- channels and members -------------------------------------------------------------------------


async def create_channel(session: AsyncSession, *, data: ChannelIn, actor: Actor, now: datetime) -> Channel:
    """A channel owned by an institution (its department receives the case posts' up-referrals);
    by the owner's administrator or the system administrator. 409 for a name taken."""
    audit.require(
        policy.may_create_channel(actor, data.owner_institution_id), actor, "channel.create", at=now
    )
    if await session.get(Institution, data.owner_institution_id) is None:
        raise NotFound(what=N_("Institution"), id=data.owner_institution_id)
    if data.department_id is not None:
        department = await session.get(Department, data.department_id)
        if department is None or department.institution_id != data.owner_institution_id:
            raise Unprocessable(N_("The department must belong to the owner."), field="body.department_id")
    channel = Channel(
        name=data.name,
        description=data.description,
        owner_institution_id=data.owner_institution_id,
        department_id=data.department_id,
        created_by=actor.user_id,
        created_at=now,
    )
    session.add(channel)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise DuplicateChannelName(name=data.name) from None
    audit.record(session, actor, "channel.create", at=now, detail={"channel_id": channel.id})
    return channel


async def add_member(
    session: AsyncSession, *, channel_id: int, data: MemberIn, actor: Actor, now: datetime
) -> ChannelMember:
    """Invite a user (a moderator's or an administrator's act): a member at once, told by a notice.
    One who left comes back on the same row; 409 for a current member (the unique pair decides)."""
    channel = await queries.get_channel(session, channel_id)
    moderator = await queries.moderator_flag(session, channel_id, actor)
    allowed = policy.may_manage_members(actor, moderator, channel.owner_institution_id)
    audit.require(allowed, actor, "channel.member.add", at=now, detail={"channel_id": channel_id})
    user = await session.get(User, data.user_id)
    if user is None or not user.is_active:
        raise NotFound(what=N_("User"), id=data.user_id)
    values = {"role": data.role.value, "added_by": actor.user_id, "joined_at": now, "left_at": None}
    back = await session.execute(
        update(ChannelMember)
        .where(
            ChannelMember.channel_id == channel_id,
            ChannelMember.user_id == user.id,
            ChannelMember.left_at.is_not(None),
        )
        .values(**values)
        .returning(ChannelMember.id)
    )
    if back.first() is None:
        try:
            async with session.begin_nested():
                await session.execute(
                    insert(ChannelMember).values(
                        channel_id=channel_id, user_id=user.id, last_read_post_id=0, **values
                    )
                )
        except IntegrityError:
            raise AlreadyMember(name=user.display_name) from None
    member = await session.scalar(
        select(ChannelMember)
        .where(ChannelMember.channel_id == channel_id, ChannelMember.user_id == user.id)
        .execution_options(populate_existing=True)
    )
    assert member is not None  # noqa: S101 — written just now
    detail = {"channel_id": channel_id, "user_id": user.id, "role": data.role.value}
    audit.record(session, actor, "channel.member.add", at=now, detail=detail)
    await notify.invited(session, channel, user.id, actor=actor, now=now)
    return member


async def remove_member(
    session: AsyncSession, *, channel_id: int, user_id: int, actor: Actor, now: datetime
) -> None:
    """Leave (oneself) or remove (a moderator, an administrator): the member reads no more from now;
    the row stays. 409 for one who is not a member."""
    channel = await queries.get_channel(session, channel_id)
    moderator = await queries.moderator_flag(session, channel_id, actor)
    leaving = user_id == actor.user_id
    allowed = (leaving and moderator is not None) or policy.may_manage_members(
        actor, moderator, channel.owner_institution_id
    )
    action = "channel.leave" if leaving else "channel.member.remove"
    audit.require(allowed, actor, action, at=now, detail={"channel_id": channel_id})
    gone = await session.execute(
        update(ChannelMember)
        .where(
            ChannelMember.channel_id == channel_id, ChannelMember.user_id == user_id, ChannelMember.current()
        )
        .values(left_at=now)
        .returning(ChannelMember.id)
    )
    if gone.first() is None:
        raise NotMember()
    audit.record(session, actor, action, at=now, detail={"channel_id": channel_id, "user_id": user_id})


# --- files and posts ------------------------------------------------------------------------------


async def upload_attachment(
    session: AsyncSession,
    *,
    channel_id: int,
    filename: str,
    declared_type: str | None,
    content: bytes,
    actor: Actor,
    now: datetime,
) -> PostAttachment:
    """A photo or PDF for a post to come, checked as a referral's attachments are (413, 415)."""
    await queries.get_channel(session, channel_id)
    await queries.require_member(session, channel_id, actor, "channel.attach", now=now)
    file = referral_files.checked_file(filename, declared_type, content)
    row = PostAttachment(
        channel_id=channel_id,
        filename=file.name,
        content_type=file.content_type,
        size=len(content),
        sha256=file.sha256,
        content=content,
        uploaded_by=actor.user_id,
        uploaded_at=now,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor,
        "channel.attach",
        at=now,
        detail={"channel_id": channel_id, "attachment_id": row.id, "sha256": row.sha256},
    )
    return row


async def create_post(
    session: AsyncSession,
    *,
    channel_id: int,
    data: PostIn,
    actor: Actor,
    now: datetime,
    today: date,
    reply_to_id: int | None = None,
) -> tuple[ChannelPost, list[MentionView]]:
    """A post (a new thread) or a reply (in the thread of the post it answers), by a member. The
    text's ID numbers and phones are masked before it is kept. A case post names a resident the
    author cares for (403 otherwise). Each `@name` of a member gets a notice; a name that is no
    member's is refused with a message, the post is kept. (The post, each mention's fate.)"""
    channel = await queries.get_channel(session, channel_id)
    await queries.require_member(session, channel_id, actor, "channel.post", now=now)
    why = rules.text_refusal(data.body, len(data.attachment_ids))
    if why is not None:
        raise Unprocessable(why, field="body.body")
    care: str | None = None
    if data.resident_id is not None:
        links = await directory.resident_links(session, resident_id=data.resident_id, now=now, today=today)
        audit.require(
            policy.may_post_case(actor, links), actor, "channel.post", at=now, resident_id=data.resident_id
        )
        care = policy.care_name(actor, links)
    if reply_to_id is not None:
        answered = await queries.get_post(session, reply_to_id)
        if answered.channel_id != channel_id:
            raise NotFound(what=N_("Post"), id=reply_to_id)
        thread_id = answered.thread_id
    else:
        thread = ChannelThread(channel_id=channel_id, created_by=actor.user_id, created_at=now)
        session.add(thread)
        await session.flush()
        thread_id = thread.id
    post = ChannelPost(
        channel_id=channel_id,
        thread_id=thread_id,
        reply_to_id=reply_to_id,
        author_id=actor.user_id,
        body=masking.mask_text(data.body),
        resident_id=data.resident_id,
        has_ecg=bool(data.attachment_ids),
        created_at=now,
    )
    session.add(post)
    await session.flush()
    if data.attachment_ids:
        # Only the author's own files of this channel that no post has taken yet: decided by the UPDATE.
        taken = await session.execute(
            update(PostAttachment)
            .where(
                PostAttachment.id.in_(data.attachment_ids),
                PostAttachment.channel_id == channel_id,
                PostAttachment.uploaded_by == actor.user_id,
                PostAttachment.post_id.is_(None),
            )
            .values(post_id=post.id)
            .returning(PostAttachment.id)
        )
        if len(taken.all()) != len(set(data.attachment_ids)):
            raise BadAttachments()
    mentions = await _mention(session, channel, post, actor=actor, now=now)
    await _read_up_to(session, channel_id, actor.user_id, post.id)
    detail = {"channel_id": channel_id, "post_id": post.id, "thread_id": thread_id}
    audit.record(
        session, actor, "channel.post", at=now, resident_id=post.resident_id, care=care, detail=detail
    )
    await notify.live(session, post, "reply" if reply_to_id else "post", actor=actor, now=now, today=today)
    return post, mentions


async def _mention(
    session: AsyncSession, channel: Channel, post: ChannelPost, *, actor: Actor, now: datetime
) -> list[MentionView]:
    names = rules.mentioned_names(post.body)
    if not names:
        return []
    found: dict[str, list[int]] = {}
    for user_id, name in await session.execute(
        select(User.id, User.display_name)
        .join(ChannelMember, ChannelMember.user_id == User.id)
        .where(ChannelMember.channel_id == channel.id, ChannelMember.current(), User.display_name.in_(names))
    ):
        found.setdefault(name, []).append(user_id)
    users = sorted({u for ids in found.values() for u in ids})
    if users:
        await session.execute(insert(PostMention), [{"post_id": post.id, "user_id": u} for u in users])
        await notify.mentioned(session, post, users, channel_name=channel.name, actor=actor, now=now)
    refused = N_("%(name)s is not a member of this channel: no notice was sent.")
    return [MentionView(name=name, user_id=user_id) for name in names for user_id in found.get(name, [])] + [
        MentionView(name=name, user_id=None, refused=refused) for name in names if name not in found
    ]


async def _read_up_to(session: AsyncSession, channel_id: int, user_id: int, post_id: int) -> None:
    """The member has read up to `post_id` (never back: the WHERE keeps the newest)."""
    await session.execute(
        update(ChannelMember)
        .where(
            ChannelMember.channel_id == channel_id,
            ChannelMember.user_id == user_id,
            ChannelMember.last_read_post_id < post_id,
        )
        .values(last_read_post_id=post_id)
    )


async def mark_read(
    session: AsyncSession, *, channel_id: int, post_id: int, actor: Actor, now: datetime
) -> None:
    """The reader has seen the channel up to this post (the unread count and marker)."""
    await queries.get_channel(session, channel_id)
    await queries.require_member(session, channel_id, actor, "channel.read", now=now)
    newest = await session.scalar(
        select(func.max(ChannelPost.id)).where(ChannelPost.channel_id == channel_id)
    )
    await _read_up_to(session, channel_id, actor.user_id, min(post_id, newest or 0))


async def acknowledge(
    session: AsyncSession, *, post_id: int, actor: Actor, now: datetime, today: date
) -> int:
    """已阅: the member acknowledges the post (once; again changes nothing). How many have."""
    post = await queries.get_post(session, post_id)
    await queries.require_member(session, post.channel_id, actor, "channel.ack", now=now)
    if post.retracted_at is not None:
        raise PostRetracted()
    try:  # once: the primary key (post, member) decides, a second tap changes nothing
        async with session.begin_nested():
            session.add(PostAck(post_id=post.id, user_id=actor.user_id, at=now))
            await session.flush()
        added = True
    except IntegrityError:
        added = False
    count = await session.scalar(select(func.count()).where(PostAck.post_id == post.id)) or 0
    if added:
        audit.record(
            session, actor, "channel.ack", at=now, detail={"channel_id": post.channel_id, "post_id": post.id}
        )
        await notify.live(session, post, "ack", actor=actor, now=now, today=today, acks=count)
    return count


async def edit_post(
    session: AsyncSession, *, post_id: int, body: str, actor: Actor, now: datetime, today: date
) -> ChannelPost:
    """The author corrects a post within 5 minutes; the text it replaces is kept (PostEdit). 409
    after the window or once retracted. The window and the author are checked in the UPDATE."""
    post = await queries.get_post(session, post_id)
    moderator = await queries.moderator_flag(session, post.channel_id, actor)
    allowed = policy.may_edit_post(actor, moderator, post.author_id)
    audit.require(allowed, actor, "channel.edit", at=now, detail={"post_id": post_id})
    if post.retracted_at is not None:
        raise PostRetracted()
    why = rules.text_refusal(body, 0)
    if why is not None:
        raise Unprocessable(why, field="body.body")
    old = post.body
    changed = await session.execute(
        update(ChannelPost)
        .where(
            ChannelPost.id == post_id,
            ChannelPost.author_id == actor.user_id,
            ChannelPost.retracted_at.is_(None),
            ChannelPost.body == old,  # compare-and-swap: two edits at once, one wins
            ChannelPost.created_at >= now - rules.EDIT_WINDOW,
        )
        .values(body=masking.mask_text(body), edited_at=now)
        .returning(ChannelPost.id)
    )
    if changed.first() is None:
        raise EditWindowPassed()
    session.add(PostEdit(post_id=post_id, body=old, replaced_at=now))
    post = await queries.get_post(session, post_id)
    audit.record(
        session, actor, "channel.edit", at=now, resident_id=post.resident_id, detail={"post_id": post_id}
    )
    await notify.live(session, post, "edit", actor=actor, now=now, today=today)
    return post


async def retract_post(
    session: AsyncSession, *, post_id: int, actor: Actor, now: datetime, today: date
) -> ChannelPost:
    """撤回: the post reads 已撤回 from now; its text and files stay for the audit trail."""
    post = await queries.get_post(session, post_id)
    moderator = await queries.moderator_flag(session, post.channel_id, actor)
    allowed = policy.may_retract(actor, moderator, post.author_id)
    audit.require(allowed, actor, "channel.retract", at=now, detail={"post_id": post_id})
    done = await session.execute(
        update(ChannelPost)
        .where(ChannelPost.id == post_id, ChannelPost.retracted_at.is_(None))
        .values(retracted_at=now, retracted_by=actor.user_id, pinned_at=None, pinned_by=None)
        .returning(ChannelPost.id)
    )
    if done.first() is None:
        raise PostRetracted()
    post = await queries.get_post(session, post_id)
    audit.record(
        session, actor, "channel.retract", at=now, resident_id=post.resident_id, detail={"post_id": post_id}
    )
    await notify.live(session, post, "retract", actor=actor, now=now, today=today)
    return post


async def pin_post(
    session: AsyncSession, *, post_id: int, pinned: bool, actor: Actor, now: datetime, today: date
) -> ChannelPost:
    """A moderator pins a post to the channel's top (or takes it down)."""
    post = await queries.get_post(session, post_id)
    moderator = await queries.moderator_flag(session, post.channel_id, actor)
    audit.require(policy.may_pin(moderator), actor, "channel.pin", at=now, detail={"post_id": post_id})
    if post.retracted_at is not None:
        raise PostRetracted()
    await session.execute(
        update(ChannelPost)
        .where(ChannelPost.id == post_id)
        .values(pinned_at=now if pinned else None, pinned_by=actor.user_id if pinned else None)
    )
    post = await queries.get_post(session, post_id)
    audit.record(session, actor, "channel.pin", at=now, detail={"post_id": post_id, "pinned": pinned})
    await notify.live(session, post, "pin", actor=actor, now=now, today=today)
    return post


# --- a case post's file, and its up-referral ------------------------------------------------------


async def read_attachment(
    session: AsyncSession, *, attachment_id: int, actor: Actor, now: datetime
) -> PostAttachment:
    """A post's file, for the channel's members only; a case post's file is a read of that case
    (audited through `case:<post id>`)."""
    row = await session.get(PostAttachment, attachment_id)
    if row is None or row.post_id is None:
        raise NotFound(what=N_("Attachment"), id=attachment_id)
    await queries.require_member(session, row.channel_id, actor, "channel.attachment.read", now=now)
    post = await queries.get_post(session, row.post_id)
    if post.retracted_at is not None:
        raise NotFound(what=N_("Attachment"), id=attachment_id)
    await session.refresh(row, ["content"])
    audit.record(
        session,
        actor,
        "channel.attachment.read",
        at=now,
        resident_id=post.resident_id,
        care=f"{Care.CASE.value}:{post.id}" if post.resident_id else None,
        detail={"post_id": post.id, "attachment_id": row.id},
    )
    return row


async def attachment_picture(
    session: AsyncSession, *, attachment_id: int, actor: Actor, now: datetime
) -> tuple[bytes, str]:
    """The file as a picture (a PDF's first page as a PNG), read as `read_attachment`."""
    row = await read_attachment(session, attachment_id=attachment_id, actor=actor, now=now)
    return await referral_files.picture_of(row.content, row.content_type, row.sha256)


async def refer_up(
    session: AsyncSession, *, post_id: int, actor: Actor, now: datetime, today: date
) -> Referral:
    """One tap from a case post: a draft up-referral to the channel's owner (and its department),
    its reason and summary from the post, its files copied with their SHA-256. The referral's own
    rules decide (the author's centre must hold the resident's contract; the owner must share a
    consortium); the draft waits for the doctor to check and submit it."""
    post = await queries.get_post(session, post_id)
    channel = await queries.get_channel(session, post.channel_id)
    await queries.require_member(session, channel.id, actor, "channel.refer", now=now)
    if post.resident_id is None or post.retracted_at is not None:
        raise NotACasePost()
    first_line = next((line.strip() for line in post.body.splitlines() if line.strip()), "专病群病例")
    data = ReferralIn(
        direction=Direction.UP,
        resident_id=post.resident_id,
        target_institution_id=channel.owner_institution_id,
        target_department_id=channel.department_id,
        reason=f"{channel.name}：{first_line}"[:500],
        summary=post.body[:5000],
    )
    referral = await referrals.create_referral(session, data=data, actor=actor, now=now, today=today)
    files = (await session.scalars(select(PostAttachment).where(PostAttachment.post_id == post.id))).all()
    for file in files:
        await session.refresh(file, ["content"])
        await referral_files.add_attachment(
            session,
            referral_id=referral.id,
            filename=file.filename,
            declared_type=file.content_type,
            content=file.content,
            description=f"来自{channel.name}",
            actor=actor,
            now=now,
        )
    audit.record(
        session,
        actor,
        "channel.refer",
        at=now,
        resident_id=post.resident_id,
        care=f"{Care.CASE.value}:{post.id}",
        detail={"post_id": post.id, "referral_id": referral.id},
    )
    return referral
