"""The consortium's referral numbers: up, down and closed referrals per month."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.analytics.rules import month_of
from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.directory.models import Membership
from yilian.referrals.models import Referral
from yilian.referrals.rules import Status


async def monthly_counts(
    session: AsyncSession, *, actor: Actor, now: datetime, zone: ZoneInfo
) -> list[dict[str, Any]]:
    """Up, down and closed referrals per local month among the consortium's members (the consortium
    admin's; everyone's for the system admin). Numbers only, no records; Forbidden (audited) to others."""
    audit.require(policy.may_see_referral_numbers(actor), actor, "referral.stats", at=now)
    query = select(Referral.direction, Referral.submitted_at, Referral.closed_at, Referral.status).where(
        Referral.submitted_at.is_not(None)
    )
    if not policy.may_see_every_consortium(actor):
        members = select(Membership.institution_id).where(
            Membership.consortium_id == (actor.consortium_id or -1)
        )
        query = query.where(
            or_(Referral.origin_institution_id.in_(members), Referral.target_institution_id.in_(members))
        )
    counts: dict[str, Counter[str]] = {}
    for direction, submitted, closed, status in await session.execute(query):
        if submitted is not None:
            counts.setdefault(month_of(submitted, zone), Counter())[direction] += 1
        if closed is not None and status == Status.CLOSED:
            counts.setdefault(month_of(closed, zone), Counter())["closed"] += 1
    return [
        {"month": month, "up": c["up"], "down": c["down"], "closed": c["closed"]}
        for month, c in sorted(counts.items())
    ]
