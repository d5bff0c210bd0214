"""Notices for the people an event needs: written in the caller's transaction (so a notice
exists exactly when its change does); the live push to open pages comes with the event stream."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth.models import User, UserRole
from yilian.auth.policy import Actor, Role
from yilian.errors import NotFound
from yilian.i18n import N_
from yilian.notices.models import Notice
from yilian.pagination import Page, fetch_page


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
    recipients = (
        await session.scalars(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(User.institution_id.in_(institution_ids), UserRole.role == role, User.is_active.is_(True))
        )
    ).all()
    if recipients:
        await session.execute(
            insert(Notice),
            [
                {"user_id": u, "kind": kind, "title": title, "body": body, "link": link, "created_at": now}
                for u in recipients
            ],
        )
    return len(recipients)


async def list_notices(
    session: AsyncSession, *, actor: Actor, unread_only: bool, limit: int, offset: int
) -> tuple[Page[Notice], int]:
    """The actor's own notices, newest first, and how many are unread."""
    query = select(Notice).where(Notice.user_id == actor.user_id)
    if unread_only:
        query = query.where(Notice.read_at.is_(None))
    page = await fetch_page(session, query.order_by(Notice.id.desc()), limit=limit, offset=offset)
    unread = await session.scalar(
        select(func.count()).where(Notice.user_id == actor.user_id, Notice.read_at.is_(None))
    )
    return page, unread or 0


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
