"""What a channel's members' open pages and phones learn of a committed post: the live event on
every member's stream (notices.broker, after the commit), and a notice for each member a post
mentions (written in the caller's transaction).

A live event carries the post as the API gives it, so that 237 open pages render it without 237
reads; a case post's event carries no post (each reader fetches it, and that read is audited)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth.policy import Actor
from yilian.channels import queries
from yilian.channels.models import Channel, ChannelPost
from yilian.channels.schemas import PostOut
from yilian.core.db import after_commit
from yilian.notices import service as notices
from yilian.notices.broker import broker

MENTIONED: Final = "channel_mention"  # the notice kind (stable: pages and clients may filter on it)
INVITED: Final = "channel_invited"


async def live(
    session: AsyncSession,
    post: ChannelPost,
    kind: str,
    *,
    actor: Actor,
    now: datetime,
    today: date,
    acks: int | None = None,
) -> None:
    """After the commit, every current member's open pages get `event: channel` for this post:
    `kind` is post, reply, edit, retract, pin or ack (which carries the count, not the post)."""
    members = list((await session.scalars(queries.current_member_ids(post.channel_id))).all())
    shown: dict[str, Any] | None = None
    if kind != "ack" and (post.resident_id is None or post.retracted_at is not None):
        view = (await queries.post_views(session, [post], actor=actor, now=now, today=today))[0]
        shown = PostOut.model_validate(view).model_dump(mode="json")
    data = {
        "channel_id": post.channel_id,
        "thread_id": post.thread_id,
        "post_id": post.id,
        "kind": kind,
        "post": shown,
        "acks": acks,
    }

    async def publish() -> None:
        broker.publish(members, "channel", data)

    after_commit(session, publish)


async def mentioned(
    session: AsyncSession,
    post: ChannelPost,
    user_ids: list[int],
    *,
    channel_name: str,
    actor: Actor,
    now: datetime,
) -> None:
    """A notice to each member the post mentions: who, in which channel, the post's first words."""
    await notices.notify_users(
        session,
        user_ids=[u for u in user_ids if u != actor.user_id],
        kind=MENTIONED,
        title=f"{actor.display_name or actor.username} 在「{channel_name}」中提到了您",
        body=queries.excerpt(post),
        link=f"/channels/{post.channel_id}#post-{post.id}",
        now=now,
    )


async def invited(
    session: AsyncSession, channel: Channel, user_id: int, *, actor: Actor, now: datetime
) -> None:
    """The invited member learns of the channel (and finds it under 专病群)."""
    await notices.notify_users(
        session,
        user_ids=[user_id] if user_id != actor.user_id else [],
        kind=INVITED,
        title=f"您已加入「{channel.name}」",
        body=f"{actor.display_name or actor.username} 邀请您加入",
        link=f"/channels/{channel.id}",
        now=now,
    )
