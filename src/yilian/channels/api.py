"""Case channel routes under /api/v1/channels: channels and members, posts and replies (each
with an Idempotency-Key, budgeted per member), files, acknowledgements, edits, retraction, pins,
the read marker, and a case post's up-referral."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Header, Query, Request, UploadFile, status
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.channels import queries, rules, service
from yilian.channels.schemas import (
    AckOut,
    AckPageOut,
    AttachmentOut,
    ChannelIn,
    ChannelOut,
    ChannelPageOut,
    EditIn,
    MemberIn,
    MemberOut,
    MemberPageOut,
    PostIn,
    PostOut,
    PostPageOut,
    ReadIn,
)
from yilian.core import idempotency
from yilian.core.i18n import gettext
from yilian.referrals import queries as referral_queries
from yilian.referrals import rules as referral_rules
from yilian.referrals.schemas import ReferralOut
from yilian.web.deps import (
    ActorDep,
    DbDep,
    Limit,
    LocaleDep,
    NowDep,
    Offset,
    OptionalQueryId,
    PathId,
    PostBudget,
    TodayDep,
)

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not a member of this channel (the refusal is audited)"},
    404: {"description": "Not found"},
}
POST_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    403: {"description": "Not a member, or a case post naming a resident the author does not care for"},
    422: {
        "description": "Empty (without files) or over 5,000 characters, `bad_attachments`,"
        " `idempotency_key_reused`"
    },
    429: {"description": "`too_many_requests`: the member's posting budget is spent; wait `Retry-After`"},
}
CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"description": "`post_retracted`, or `edit_window_passed` (5 minutes)"},
}
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=idempotency.MAX_KEY,
        description="A resend with the same key gets the first answer and posts nothing more",
    ),
]


# --- channels and members -------------------------------------------------------------------------


@router.get("")
async def list_channels(actor: ActorDep, db: DbDep, limit: Limit = 50, offset: Offset = 0) -> ChannelPageOut:
    """The channels the signed-in user is a member of (and those it administers), newest activity
    first, each with its unread count."""
    async with db.read() as session:
        views = await queries.list_channels(session, actor=actor)
    shown = views[offset : offset + limit]
    return ChannelPageOut(items=[ChannelOut.model_validate(v) for v in shown], total=len(views))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={**ERRORS, 409: {"description": "`duplicate_channel_name`"}},
)
async def create_channel(body: ChannelIn, actor: ActorDep, db: DbDep, now: NowDep) -> ChannelOut:
    """A channel owned by an institution: by its administrator (信息科) or the system administrator,
    who then invites the members."""
    async with db.transaction() as session:
        channel = await service.create_channel(session, data=body, actor=actor, now=now)
        view = await queries.one_channel(session, channel_id=channel.id, actor=actor, now=now)
    return ChannelOut.model_validate(view)


@router.get("/{channel_id}", responses=ERRORS)
async def get_channel(channel_id: PathId, actor: ActorDep, db: DbDep, now: NowDep) -> ChannelOut:
    async with db.transaction() as session:  # a refusal is audited
        view = await queries.one_channel(session, channel_id=channel_id, actor=actor, now=now)
    return ChannelOut.model_validate(view)


@router.get("/{channel_id}/members", responses=ERRORS)
async def list_members(
    channel_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, limit: Limit = 50, offset: Offset = 0
) -> MemberPageOut:
    """The current members with their institutions, moderators first."""
    async with db.transaction() as session:
        views = await queries.members(session, channel_id=channel_id, actor=actor, now=now)
    shown = views[offset : offset + limit]
    return MemberPageOut(items=[MemberOut.model_validate(v) for v in shown], total=len(views))


@router.post(
    "/{channel_id}/members",
    status_code=status.HTTP_201_CREATED,
    responses={**ERRORS, 409: {"description": "`already_member`"}},
)
async def add_member(
    channel_id: PathId, body: MemberIn, actor: ActorDep, db: DbDep, now: NowDep
) -> MemberOut:
    """Invite a user (a moderator or the owner's administrator): a member at once, told by a notice."""
    async with db.transaction() as session:
        member = await service.add_member(session, channel_id=channel_id, data=body, actor=actor, now=now)
        views = await queries.members(session, channel_id=channel_id, actor=actor, now=now)
    return MemberOut.model_validate(next(v for v in views if v.user_id == member.user_id))


@router.delete(
    "/{channel_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**ERRORS, 409: {"description": "`not_member`"}},
)
async def remove_member(channel_id: PathId, user_id: PathId, actor: ActorDep, db: DbDep, now: NowDep) -> None:
    """Leave (one's own id) or remove a member (a moderator, the owner's administrator)."""
    async with db.transaction() as session:
        await service.remove_member(session, channel_id=channel_id, user_id=user_id, actor=actor, now=now)


# --- posts ----------------------------------------------------------------------------------------


@router.get("/{channel_id}/posts", responses=ERRORS)
async def list_posts(
    channel_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    before: OptionalQueryId = None,
    after: OptionalQueryId = None,
    q: Annotated[str | None, Query(max_length=100, description="Words in the text")] = None,
    author_id: OptionalQueryId = None,
    has_ecg: bool | None = None,
    limit: Limit = rules.PAGE_POSTS,
) -> PostPageOut:
    """The channel's posts, oldest first: the last `limit`, or those `before` a post (older, as the
    reader scrolls up) or `after` one (what a page missed); `q` searches the text, `author_id` and
    `has_ecg` narrow. `first_unread_id`: where the reader left off. Case posts read are audited."""
    async with db.transaction() as session:
        page = await queries.channel_posts(
            session,
            channel_id=channel_id,
            actor=actor,
            now=now,
            today=today,
            before=before,
            after=after,
            search=queries.Search(q=q or None, author_id=author_id, has_ecg=has_ecg),
            limit=limit,
        )
    return PostPageOut.model_validate(page, from_attributes=True)


async def _posted(
    request: Request,
    db: DbDep,
    *,
    actor: ActorDep,
    body: PostIn,
    key: str | None,
    now: NowDep,
    locale: str,
    work: Callable[[AsyncSession], Awaitable[queries.PostView]],
) -> Response:
    async def answer(session: AsyncSession) -> dict[str, Any]:
        shown = PostOut.model_validate(await work(session))
        for mention in shown.mentions:  # why a name got no notice, in the reader's language
            if mention.refused:
                mention.refused = gettext(locale, mention.refused, name=mention.name)
        return shown.model_dump(mode="json")

    fingerprint = idempotency.request_hash("POST", request.url.path, body.model_dump())
    text, _first = await idempotency.once(
        db, user_id=actor.user_id, key=key, fingerprint=fingerprint, now=now, work=answer
    )
    return Response(text, status_code=status.HTTP_201_CREATED, media_type="application/json")


@router.post(
    "/{channel_id}/posts",
    status_code=status.HTTP_201_CREATED,
    response_model=PostOut,
    responses=POST_ERRORS,
    dependencies=[PostBudget],
)
async def create_post(
    request: Request,
    channel_id: PathId,
    body: PostIn,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    locale: LocaleDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A post (a new thread): text with `@姓名` mentions, files uploaded first, a resident for a case
    post. `mentions` says who got a notice and whose name was refused (not a member)."""

    async def work(session: AsyncSession) -> queries.PostView:
        post, mentions = await service.create_post(
            session, channel_id=channel_id, data=body, actor=actor, now=now, today=today
        )
        return await queries.fresh_view(session, post, mentions, actor=actor, now=now, today=today)

    return await _posted(
        request, db, actor=actor, body=body, key=idempotency_key, now=now, locale=locale, work=work
    )


@router.post(
    "/{channel_id}/attachments",
    status_code=status.HTTP_201_CREATED,
    responses={
        **ERRORS,
        413: {"description": "`attachment_too_large`"},
        422: {"description": "`attachment_refused`: not a JPEG, PNG or PDF, or not what its name says"},
    },
)
async def upload_attachment(
    channel_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    file: Annotated[UploadFile, File(description="JPEG, PNG or PDF (an ECG), at most 10 MB")],
) -> AttachmentOut:
    """A file for a post to come (name its id in the post's `attachment_ids`)."""
    content = await file.read(referral_rules.MAX_ATTACHMENT_BYTES + 1)  # one byte over is enough
    async with db.transaction() as session:
        row = await service.upload_attachment(
            session,
            channel_id=channel_id,
            filename=file.filename or "",
            declared_type=file.content_type,
            content=content,
            actor=actor,
            now=now,
        )
        return AttachmentOut.model_validate(row)


@router.post("/{channel_id}/read", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
async def mark_read(channel_id: PathId, body: ReadIn, actor: ActorDep, db: DbDep, now: NowDep) -> None:
    """The reader has seen the channel up to this post (the unread count and marker)."""
    async with db.transaction() as session:
        await service.mark_read(session, channel_id=channel_id, post_id=body.post_id, actor=actor, now=now)


@router.get("/posts/{post_id}", responses=ERRORS)
async def get_post(post_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep) -> PostOut:
    """One post (a case post's read is audited)."""
    async with db.transaction() as session:
        return PostOut.model_validate(
            await queries.one_post(session, post_id=post_id, actor=actor, now=now, today=today)
        )


@router.patch("/posts/{post_id}", responses=CHANGE_ERRORS)
async def edit_post(
    post_id: PathId, body: EditIn, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> PostOut:
    """The author corrects the text within 5 minutes; the text replaced is kept."""
    async with db.transaction() as session:
        post = await service.edit_post(
            session, post_id=post_id, body=body.body, actor=actor, now=now, today=today
        )
        return PostOut.model_validate(
            await queries.one_post(session, post_id=post.id, actor=actor, now=now, today=today)
        )


@router.post("/posts/{post_id}/retract", responses=CHANGE_ERRORS)
async def retract_post(post_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep) -> PostOut:
    """撤回 (the author, or a moderator): the post reads 已撤回; its text stays for the audit trail."""
    async with db.transaction() as session:
        await service.retract_post(session, post_id=post_id, actor=actor, now=now, today=today)
        return PostOut.model_validate(
            await queries.one_post(session, post_id=post_id, actor=actor, now=now, today=today)
        )


@router.post("/posts/{post_id}/pin", responses=CHANGE_ERRORS)
async def pin_post(post_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep) -> PostOut:
    """A moderator pins the post to the channel's top."""
    async with db.transaction() as session:
        await service.pin_post(session, post_id=post_id, pinned=True, actor=actor, now=now, today=today)
        return PostOut.model_validate(
            await queries.one_post(session, post_id=post_id, actor=actor, now=now, today=today)
        )


@router.post("/posts/{post_id}/unpin", responses=CHANGE_ERRORS)
async def unpin_post(post_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep) -> PostOut:
    async with db.transaction() as session:
        await service.pin_post(session, post_id=post_id, pinned=False, actor=actor, now=now, today=today)
        return PostOut.model_validate(
            await queries.one_post(session, post_id=post_id, actor=actor, now=now, today=today)
        )


@router.get("/posts/{post_id}/replies", responses=ERRORS)
async def list_replies(
    post_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> PostPageOut:
    """The post's thread: the post that started it and every reply, oldest first."""
    async with db.transaction() as session:
        items = await queries.thread_posts(session, post_id=post_id, actor=actor, now=now, today=today)
    return PostPageOut(
        items=[PostOut.model_validate(v) for v in items],
        total=len(items),
        first_unread_id=None,
        has_older=False,
    )


@router.post(
    "/posts/{post_id}/replies",
    status_code=status.HTTP_201_CREATED,
    response_model=PostOut,
    responses=POST_ERRORS,
    dependencies=[PostBudget],
)
async def reply(
    request: Request,
    post_id: PathId,
    body: PostIn,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    locale: LocaleDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A reply, in the thread of the post it answers (the same fields as a post)."""

    async def work(session: AsyncSession) -> queries.PostView:
        answered = await queries.get_post(session, post_id)
        post, mentions = await service.create_post(
            session,
            channel_id=answered.channel_id,
            data=body,
            actor=actor,
            now=now,
            today=today,
            reply_to_id=post_id,
        )
        return await queries.fresh_view(session, post, mentions, actor=actor, now=now, today=today)

    return await _posted(
        request, db, actor=actor, body=body, key=idempotency_key, now=now, locale=locale, work=work
    )


@router.get("/posts/{post_id}/acks", responses=ERRORS)
async def list_acks(
    post_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, limit: Limit = 50, offset: Offset = 0
) -> AckPageOut:
    """Who acknowledged the post (已读), first first."""
    async with db.transaction() as session:
        views = await queries.acks(session, post_id=post_id, actor=actor, now=now)
    shown = views[offset : offset + limit]
    return AckPageOut(items=[AckOut.model_validate(v) for v in shown], total=len(views))


@router.post("/posts/{post_id}/acks", responses={**ERRORS, 409: {"description": "`post_retracted`"}})
async def acknowledge(post_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep) -> PostOut:
    """已阅: acknowledge the post (once; again changes nothing)."""
    async with db.transaction() as session:
        await service.acknowledge(session, post_id=post_id, actor=actor, now=now, today=today)
        return PostOut.model_validate(
            await queries.one_post(session, post_id=post_id, actor=actor, now=now, today=today)
        )


@router.post(
    "/posts/{post_id}/referral",
    status_code=status.HTTP_201_CREATED,
    responses={
        **ERRORS,
        403: {
            "description": "Not a member, or not one who may refer this resident up (`not_signed_resident`)"
        },
        422: {"description": "`not_a_case_post`"},
    },
)
async def refer_up(post_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep) -> ReferralOut:
    """One tap from a case post: a draft up-referral to the channel's owner, filled in from the post
    (summary, files copied with their SHA-256), to check and submit."""
    async with db.transaction() as session:
        referral = await service.refer_up(session, post_id=post_id, actor=actor, now=now, today=today)
        view = await referral_queries.get_referral(
            session, referral_id=referral.id, actor=actor, now=now, today=today
        )
    return ReferralOut.model_validate(view)


# --- files ----------------------------------------------------------------------------------------


@router.get(
    "/attachments/{attachment_id}",
    responses={**ERRORS, 200: {"content": {"application/octet-stream": {}}, "description": "The file"}},
    response_class=Response,
)
async def download_attachment(attachment_id: PathId, actor: ActorDep, db: DbDep, now: NowDep) -> Response:
    """The file, as a download, to the channel's members only."""
    async with db.transaction() as session:
        row = await service.read_attachment(session, attachment_id=attachment_id, actor=actor, now=now)
        content, kind, name = row.content, row.content_type, row.filename
    extension = referral_rules.EXTENSIONS[kind][0]
    disposition = (
        f"attachment; filename=\"attachment-{attachment_id}{extension}\"; filename*=UTF-8''{quote(name)}"
    )
    return Response(content, media_type=kind, headers={**PRIVATE, "Content-Disposition": disposition})


@router.get(
    "/attachments/{attachment_id}/picture",
    responses={**ERRORS, 200: {"content": {"image/png": {}, "image/jpeg": {}}, "description": "A picture"}},
    response_class=Response,
)
async def attachment_picture(attachment_id: PathId, actor: ActorDep, db: DbDep, now: NowDep) -> Response:
    """The file as a picture to show inline: an image as it is, a PDF's first page as a PNG."""
    async with db.transaction() as session:
        content, kind = await service.attachment_picture(
            session, attachment_id=attachment_id, actor=actor, now=now
        )
    return Response(content, media_type=kind, headers=PRIVATE)


PRIVATE = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}
