"""A down-referral that continues a discharge: the admission checked, and the one live
down-referral per admission kept by a partial unique index (two specialists submitting at once
cannot both make one)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth.policy import Actor
from yilian.core.i18n import N_
from yilian.referrals.errors import BadAdmissionRequest, DownReferralExists
from yilian.referrals.models import Referral
from yilian.referrals.queries.discharges import (
    Discharge,
    DischargeLookup,
    discharge_of,
    live,
    require_continuable,
)
from yilian.referrals.rules import Direction


async def check(
    session: AsyncSession,
    *,
    admission_request_id: int,
    lookup: DischargeLookup,
    direction: Direction,
    resident_id: int,
    actor: Actor,
) -> Discharge:
    """The admission a new referral continues, or why it cannot: BadAdmissionRequest (an up-referral,
    another hospital's or another resident's admission), NotDischarged (the patient is still in)."""
    if direction is not Direction.DOWN:
        raise BadAdmissionRequest(why=N_("only a down-referral continues a discharge"))
    found = await discharge_of(session, admission_request_id, lookup)
    require_continuable(found, resident_id=resident_id, actor=actor)
    return found


async def insert(session: AsyncSession, referral: Referral) -> None:
    """Add the referral; DownReferralExists (naming the live one) when the admission has one already."""
    if referral.admission_request_id is None:  # nothing the index could refuse: no savepoint
        session.add(referral)
        await session.flush()
        return
    try:
        async with session.begin_nested():
            session.add(referral)
            await session.flush()
    except IntegrityError:
        existing = await session.scalar(
            live()
            .with_only_columns(Referral.id)
            .where(Referral.admission_request_id == referral.admission_request_id)
        )
        if existing is None:
            raise
        raise DownReferralExists(id=existing) from None
