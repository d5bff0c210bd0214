"""A page of results: what every list in the API returns ({"items": [...], "total": N})."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int


async def fetch_page(session: AsyncSession, query: Select[T], *, limit: int, offset: int) -> Page[T]:
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list((await session.scalars(query.limit(limit).offset(offset))).all())
    return Page(items=items, total=total or 0)
