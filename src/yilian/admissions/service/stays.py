"""A stay: transfer (to another bed of the hospital, or to the partner hospital's ward) and
discharge, which leads on to the down-referral. The admission office of the hospital does them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions import notify, rules
from yilian.admissions.errors import (
    BedDoesNotFit,
    InvalidRequestMove,
    NotPartnerWard,
    OtherHospital,
)
from yilian.admissions.models import AdmissionRequest, Bed, Ward
from yilian.admissions.queries.beds import bed_or_404
from yilian.admissions.queries.requests import RequestView, request_or_404, view
from yilian.admissions.rules import Action, BedStatus, RequestStatus
from yilian.admissions.service import moves
from yilian.admissions.service.beds import require_office
from yilian.admissions.service.wards import joinable_ward
from yilian.auth import audit
from yilian.auth.policy import Actor


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
    request = await request_or_404(session, request_id)
    require_office(
        actor, request.institution_id, "admission.transfer", now=now, resident_id=request.resident_id
    )
    if bed_id is not None:
        return await _transfer_to_bed(session, request, bed_id, actor=actor, now=now, locale=locale)
    ward = await session.get(Ward, request.ward_id)
    assert ward is not None  # noqa: S101
    partner = await joinable_ward(session, ward_id) if ward_id is not None else None
    if partner is None or ward.partner_ward_id != partner.id:
        raise NotPartnerWard()
    left = await moves.free_bed(session, request_id=request.id, to=BedStatus.CLEANING, now=now)
    await moves.move_request(
        session, request, Action.TRANSFER_OUT, now=now, actor=actor, bed_id=left, note=partner.name
    )
    # It keeps its urgency and its tag: joining the partner's queue places it by the partner's boost.
    moved = AdmissionRequest(
        resident_id=request.resident_id,
        sex=request.sex,
        requested_by=actor.user_id,
        practitioner_id=request.practitioner_id,
        source="transfer",
        source_id=request.id,
        diagnosis=request.diagnosis,
        urgency=request.urgency,
        expected_days=request.expected_days,
        notes=request.notes,
        community_signed=request.community_signed,
        community_reason=request.community_reason,
        community_detail=request.community_detail,
        requested_at=now,
        transferred_from_id=request.id,
    )
    await moves.join_queue(session, moved, partner, actor=actor, note=ward.name)
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
    request = await request_or_404(session, request_id)
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
