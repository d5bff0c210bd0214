"""A stay: transfer (to another bed of the hospital, or to the partner hospital's ward) and
discharge, which leads on to the down-referral. The admission office of the hospital does them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions import moves, notify, rules, wards
from yilian.admissions.beds import bed_or_404, require_office
from yilian.admissions.errors import (
    BedDoesNotFit,
    InvalidRequestMove,
    NotPartnerWard,
    OtherHospital,
)
from yilian.admissions.models import AdmissionRequest, Bed, Ward
from yilian.admissions.rules import Action, BedStatus, RequestStatus
from yilian.admissions.views import RequestView, view
from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.directory import queries as directory
from yilian.directory.models import Department, Institution
from yilian.referrals import discharges as referral_discharges
from yilian.referrals import queries as referrals


async def transfer(
    session: AsyncSession,
    *,
    request_id: int,
    bed_id: int | None,
    ward_id: int | None,
    actor: Actor,
    now: datetime,
    locale: str,
) -> RequestView:
    """Move an admitted patient to another bed of the hospital (`bed_id`), or — a stable patient —
    to the partner hospital's ward (`ward_id`, seed 003: 大门诊小病房), where it joins that ward's
    queue with its urgency and its tag; the bed left is to be cleaned. The new request then."""
    request = await session.get(AdmissionRequest, request_id)
    if request is None:
        raise NotFound(what=N_("Admission request"), id=request_id)
    require_office(
        actor, request.institution_id, "admission.transfer", now=now, resident_id=request.resident_id
    )
    if bed_id is not None:
        return await _transfer_to_bed(session, request, bed_id, actor=actor, now=now, locale=locale)
    ward = await session.get(Ward, request.ward_id)
    assert ward is not None  # noqa: S101
    partner = await wards.joinable_ward(session, ward_id) if ward_id is not None else None
    if partner is None or ward.partner_ward_id != partner.id:
        raise NotPartnerWard()
    left = await moves.free_bed(session, request_id=request.id, to=BedStatus.CLEANING, now=now)
    await moves.move_request(
        session, request, Action.TRANSFER_OUT, now=now, actor=actor, bed_id=left, note=partner.name
    )
    moved = AdmissionRequest(
        ward_id=partner.id,
        institution_id=partner.institution_id,
        department_id=partner.department_id,
        resident_id=request.resident_id,
        sex=request.sex,
        requested_by=actor.user_id,
        practitioner_id=request.practitioner_id,
        source="transfer",
        source_id=request.id,
        diagnosis=request.diagnosis,
        urgency=request.urgency,
        urgency_rank=request.urgency_rank,
        expected_days=request.expected_days,
        notes=request.notes,
        community_signed=request.community_signed,
        community_reason=request.community_reason,
        community_detail=request.community_detail,
        requested_at=now,
        effective_at=rules.effective_at(now, request.community_signed, partner.boost_days),
        status=RequestStatus.WAITING,
        status_at=now,
        transferred_from_id=request.id,
    )
    await moves.join_queue(session, moved)
    moves.event(
        session,
        action="create",
        at=now,
        actor=actor,
        request_id=moved.id,
        to_status=RequestStatus.WAITING,
        note=ward.name,
    )
    await notify.send(session, moved, notify.TRANSFERRED, now=now, detail=f"自{ward.name}转入，排队候床")
    audit.record(
        session,
        actor,
        "admission.transfer",
        at=now,
        resident_id=request.resident_id,
        detail={"to_ward_id": partner.id},
    )
    return await view(session, moved, actor=actor, locale=locale)


async def _transfer_to_bed(
    session: AsyncSession, request: AdmissionRequest, bed_id: int, *, actor: Actor, now: datetime, locale: str
) -> RequestView:
    bed, ward = await bed_or_404(session, bed_id)
    if ward.institution_id != request.institution_id:
        raise OtherHospital()
    if not rules.fits(bed.room_sex, request.sex):
        raise BedDoesNotFit()
    if request.status != RequestStatus.ADMITTED:
        raise InvalidRequestMove(status=request.status, action=Action.TRANSFER)
    left = await moves.free_bed(session, request_id=request.id, to=BedStatus.CLEANING, now=now)
    await moves.take_bed(
        session, bed_id, expected=BedStatus.FREE, to=BedStatus.OCCUPIED, request_id=request.id, now=now
    )
    await moves.move_request(
        session,
        request,
        Action.TRANSFER,
        now=now,
        actor=actor,
        bed_id=left,
        to_bed_id=bed_id,
        ward_id=bed.ward_id,
    )
    audit.record(
        session,
        actor,
        "admission.transfer",
        at=now,
        resident_id=request.resident_id,
        detail={"bed_id": bed_id},
    )
    return await view(session, request, actor=actor, locale=locale)


async def discharge(
    session: AsyncSession, *, request_id: int, actor: Actor, now: datetime, locale: str
) -> RequestView:
    """Discharge: the bed is to be cleaned; the answer carries the down-referral to start (one step
    on to the referrals package's form, filled in for this patient)."""
    request = await session.get(AdmissionRequest, request_id)
    if request is None:
        raise NotFound(what=N_("Admission request"), id=request_id)
    require_office(
        actor, request.institution_id, "admission.discharge", now=now, resident_id=request.resident_id
    )
    left = await session.scalar(select(Bed.id).where(Bed.request_id == request.id))
    await moves.move_request(session, request, Action.DISCHARGE, now=now, actor=actor, bed_id=left)
    await moves.free_bed(session, request_id=request.id, to=BedStatus.CLEANING, now=now)
    # The notice outlives this moment: its link leads on to the down-referral once there is one.
    after = f"/admissions/requests/{request.id}/down-referral"
    await notify.send(session, request, notify.DISCHARGED, now=now, link=after)
    audit.record(session, actor, "admission.discharge", at=now, resident_id=request.resident_id)
    return await view(session, request, actor=actor, locale=locale)


async def after_discharge(
    session: AsyncSession, *, request_id: int, actor: Actor, now: datetime, today: date
) -> str:
    """Where a discharge notice leads: the down-referral once it is made (for its two sides), else
    the request. Those who may follow the request only (a refusal is audited)."""
    request = await session.get(AdmissionRequest, request_id)
    if request is None:
        raise NotFound(what=N_("Admission request"), id=request_id)
    links = await directory.resident_links(session, resident_id=request.resident_id, today=today)
    allowed = policy.may_follow_admission(actor, request.institution_id, links)
    audit.require(allowed, actor, "admission.read", at=now, resident_id=request.resident_id)
    made = await referrals.down_referral_seen_by(session, admission_request_id=request.id, actor=actor)
    return f"/referrals/{made}" if made is not None else f"/admissions/requests/{request.id}"


@referral_discharges.register_lookup
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
