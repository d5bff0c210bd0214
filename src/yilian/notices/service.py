"""Notices for the people an event needs: written in the caller's transaction (so a notice
exists exactly when its change does), and marked read; their open pages are woken after the commit
(broker), and the event stream (api) reads them again (queries)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Select, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth.models import User, UserRole
from yilian.auth.policy import Actor, Role
from yilian.core.db import after_commit
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.notices.broker import broker
from yilian.notices.models import Notice


def users_with_role(role: Role, institution_ids: Collection[int]) -> Select[int]:
    """The ids of every active user with `role` at any of the institutions."""
    return (
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.institution_id.in_(institution_ids), UserRole.role == role, User.is_active.is_(True))
    )


async def notify_role_at(
    session: AsyncSession,
    *,
    institution_ids: set[int],
    role: Role,
    kind: str,
    title: str,
    body: str,
    link: str | None,
    now: datetime,
) -> int:
    """One notice for every active user with `role` at any of the institutions; how many."""
    if not institution_ids:
        return 0
    recipients = (await session.scalars(users_with_role(role, institution_ids))).all()
    return await notify_users(
        session, user_ids=list(recipients), kind=kind, title=title, body=body, link=link, now=now
    )


async def notify_users(
    session: AsyncSession,
    *,
    user_ids: list[int],
    kind: str,
    title: str,
    body: str,
    link: str | None,
    now: datetime,
) -> int:
    """One notice for each user (once each), in the caller's transaction; their open pages are
    woken after it commits. How many."""
    recipients = sorted(set(user_ids))
    if not recipients:
        return 0
    await session.execute(
        insert(Notice),
        [
            {"user_id": u, "kind": kind, "title": title, "body": body, "link": link, "created_at": now}
            for u in recipients
        ],
    )

    async def wake() -> None:
        broker.wake(recipients)

    after_commit(session, wake)
    return len(recipients)


async def mark_read(session: AsyncSession, *, notice_id: int, actor: Actor, now: datetime) -> Notice:
    """Mark one of the actor's notices read (once: a second call keeps the first time)."""
    notice = await session.scalar(
        select(Notice).where(Notice.id == notice_id, Notice.user_id == actor.user_id)
    )
    if notice is None:
        raise NotFound(what=N_("Notice"), id=notice_id)
    await session.execute(
        update(Notice).where(Notice.id == notice_id, Notice.read_at.is_(None)).values(read_at=now)
    )
    await session.refresh(notice)
    return notice


async def mark_all_read(session: AsyncSession, *, actor: Actor, now: datetime) -> int:
    """Mark every unread notice of the actor's read, in one UPDATE (not audited, as one read is
    not: a notice is the user's own, not a resident's record); how many."""
    marked = await session.execute(
        update(Notice)
        .where(Notice.user_id == actor.user_id, Notice.read_at.is_(None))
        .values(read_at=now)
        .returning(Notice.id)
    )
    count = len(marked.all())

    async def wake() -> None:  # the header's count on the user's other open pages
        broker.wake([actor.user_id])

    after_commit(session, wake)
    return count
