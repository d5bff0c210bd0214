"""Referral jobs for the runner (yilian.core.jobs): the deadlines (deadlines.py)."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncSession

from yilian.core.jobs import Counts, Job, Tick
from yilian.referrals import deadlines


async def _deadlines(session: AsyncSession, tick: Tick) -> Counts:
    return asdict(await deadlines.run(session, now=tick.now))


JOBS = (Job("referrals.deadlines", _deadlines),)
