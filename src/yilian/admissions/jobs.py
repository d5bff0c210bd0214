"""Admission jobs for the runner (yilian.core.jobs): bed offers that time out."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions import beds
from yilian.core.jobs import Counts, Job, Tick


async def _expire_offers(session: AsyncSession, tick: Tick) -> Counts:
    return {"offers expired": await beds.expire_offers(session, now=tick.now)}


JOBS = (Job("admissions.expire_offers", _expire_offers),)
