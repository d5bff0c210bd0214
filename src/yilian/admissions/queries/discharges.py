"""After a discharge: where its notice leads, and how the admission reads for the down-referral
that follows it (the referrals package asks through `discharge_for_referral`, handed to it by the
app: referrals stands below admissions and does not import it)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions.models import AdmissionRequest, Ward
from yilian.admissions.queries.requests import request_or_404
from yilian.admissions.rules import RequestStatus
from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.directory import queries as directory
from yilian.directory.models import Department, Institution
from yilian.referrals import queries as referrals
from yilian.referrals.queries import discharges as referral_discharges


async def after_discharge(
    session: AsyncSession, *, request_id: int, actor: Actor, now: datetime, today: date
) -> str:
    """Where a discharge notice leads: the down-referral once it is made (for its two sides), else
    the request. Those who may follow the request only (a refusal is audited)."""
    request = await request_or_404(session, request_id)
    links = await directory.resident_links(session, resident_id=request.resident_id, now=now, today=today)
    allowed = policy.may_follow_admission(actor, request.institution_id, links)
    audit.require(allowed, actor, "admission.read", at=now, resident_id=request.resident_id)
    made = await referrals.down_referral_seen_by(session, admission_request_id=request.id, actor=actor)
    return f"/referrals/{made}" if made is not None else f"/admissions/requests/{request.id}"


async def discharge_for_referral(
    session: AsyncSession, request_id: int
) -> referral_discharges.Discharge | None:
    """How an admission reads for the down-referral that follows it (None: no such request)."""
    row = (
        await session.execute(
            select(AdmissionRequest, Ward.name, Institution.name, Department.name)
            .join(Ward, Ward.id == AdmissionRequest.ward_id)
            .join(Institution, Institution.id == AdmissionRequest.institution_id)
            .join(Department, Department.id == AdmissionRequest.department_id)
            .where(AdmissionRequest.id == request_id)
        )
    ).first()
    if row is None:
        return None
    request, ward, hospital, department = row
    discharged = request.status == RequestStatus.DISCHARGED
    return referral_discharges.Discharge(
        admission_request_id=request.id,
        resident_id=request.resident_id,
        institution_id=request.institution_id,
        institution_name=hospital,
        department_name=department,
        ward_name=ward,
        diagnosis=request.diagnosis,
        discharged=discharged,
        discharged_at=request.status_at if discharged else None,
    )
