"""Admission jobs for the runner (yilian.core.jobs), each idempotent: bed offers that time out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions.models import AdmissionRequest, BedOffer
from yilian.admissions.rules import Action, OfferStatus
from yilian.admissions.service import moves
from yilian.core.jobs import Counts, Job, Tick


async def expire_offers(session: AsyncSession, *, now: datetime) -> int:
    """Offers not answered in time expire; the patient keeps its place and the bed goes to the next
    fitting patient. How many expired (none on a second run at the same instant)."""
    expired = (
        await session.execute(
            update(BedOffer)
            .where(BedOffer.status == OfferStatus.PENDING, BedOffer.expires_at <= now)
            .values(status=OfferStatus.EXPIRED, answered_at=now)
            .returning(BedOffer.request_id, BedOffer.bed_id)
        )
    ).all()
    for request_id, bed_id in expired:
        request = await session.get(AdmissionRequest, request_id)
        assert request is not None  # noqa: S101
        await moves.move_request(session, request, Action.EXPIRE, now=now, actor=None, bed_id=bed_id)
        await moves.release_and_reoffer(session, bed_id, now=now, actor=None)
    return len(expired)


async def _expire_offers(session: AsyncSession, tick: Tick) -> Counts:
    return {"offers expired": await expire_offers(session, now=tick.now)}


JOBS = (Job("admissions.expire_offers", _expire_offers),)
