"""A user's notices: the list with its unread count, and what an event stream has not sent yet."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth.policy import Actor
from yilian.core.paging import Page, fetch_page
from yilian.notices.models import Notice


async def list_notices(
    session: AsyncSession, *, actor: Actor, unread_only: bool, limit: int, offset: int
) -> tuple[Page[Notice], int]:
    """The actor's own notices, newest first, and how many are unread."""
    query = select(Notice).where(Notice.user_id == actor.user_id)
    if unread_only:
        query = query.where(Notice.read_at.is_(None))
    page = await fetch_page(session, query.order_by(Notice.id.desc()), limit=limit, offset=offset)
    return page, await unread_count(session, user_id=actor.user_id)


async def unread_count(session: AsyncSession, *, user_id: int) -> int:
    found = await session.scalar(
        select(func.count()).where(Notice.user_id == user_id, Notice.read_at.is_(None))
    )
    return found or 0


async def notices_after(
    session: AsyncSession, *, user_id: int, after_id: int, limit: int = 100
) -> list[Notice]:
    """The user's notices with an id above `after_id`, oldest first (what a reconnecting stream missed)."""
    return list(
        (
            await session.scalars(
                select(Notice)
                .where(Notice.user_id == user_id, Notice.id > after_id)
                .order_by(Notice.id)
                .limit(limit)
            )
        ).all()
    )


async def last_notice_id(session: AsyncSession, *, user_id: int) -> int:
    found = await session.scalar(select(func.max(Notice.id)).where(Notice.user_id == user_id))
    return found or 0
