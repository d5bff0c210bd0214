"""How a request reads: where it stands in words, its tag, its bed, its history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions import rules, wards
from yilian.admissions.models import AdmissionEvent, AdmissionRequest, Bed, BedOffer
from yilian.admissions.queue import place_of
from yilian.admissions.rules import Action, OfferStatus, RequestStatus
from yilian.auth import policy
from yilian.auth.policy import Actor
from yilian.directory.models import Resident


@dataclass(frozen=True)
class EventView:
    action: str
    from_status: str | None
    to_status: str | None
    at: datetime
    bed: str | None
    to_bed: str | None
    note: str


@dataclass(frozen=True)
class RequestView:
    id: int
    ward_id: int
    ward_name: str
    institution_id: int
    department_id: int
    resident_id: int
    resident_name: str
    source: str
    source_id: int | None
    diagnosis: str
    urgency: str
    expected_days: int
    notes: str
    community_signed: bool
    community_reason: str | None
    community_detail: str | None
    requested_at: datetime
    status: str
    status_at: datetime
    admitted_at: datetime | None
    position: int | None
    explanation: str | None
    bed: str | None
    offer_id: int | None
    offer_expires_at: datetime | None
    allowed_actions: list[str]
    transferred_from_id: int | None
    down_referral_url: str | None
    events: list[EventView] = field(default_factory=list)


def down_referral_url(request: AdmissionRequest) -> str:
    """Where a discharge continues: the down-referral form of the referrals package, filled in."""
    return (
        f"/referrals/new?direction=down&resident_id={request.resident_id}&admission_request_id={request.id}"
    )


async def view(
    session: AsyncSession, request: AdmissionRequest, *, actor: Actor, locale: str, events: bool = True
) -> RequestView:
    ward = await wards.ward_or_404(session, request.ward_id)
    resident = await session.get(Resident, request.resident_id)
    place = await place_of(session, request)
    bed = await session.scalar(select(Bed).where(Bed.request_id == request.id))
    offer = await session.scalar(
        select(BedOffer).where(BedOffer.request_id == request.id, BedOffer.status == OfferStatus.PENDING)
    )
    manages = policy.may_manage_admissions(actor, request.institution_id)
    actions = [a.value for a in rules.allowed_actions(RequestStatus(request.status))] if manages else []
    if not manages and policy.may_cancel_admission(actor, request.institution_id):
        actions = [a for a in rules.allowed_actions(RequestStatus(request.status)) if a is Action.CANCEL]
    history = await _events(session, request.id) if events else []
    return RequestView(
        id=request.id,
        ward_id=ward.id,
        ward_name=ward.name,
        institution_id=request.institution_id,
        department_id=request.department_id,
        resident_id=request.resident_id,
        resident_name=resident.name if resident else "",
        source=request.source,
        source_id=request.source_id,
        diagnosis=request.diagnosis,
        urgency=request.urgency,
        expected_days=request.expected_days,
        notes=request.notes,
        community_signed=request.community_signed,
        community_reason=request.community_reason,
        community_detail=request.community_detail,
        requested_at=request.requested_at,
        status=request.status,
        status_at=request.status_at,
        admitted_at=request.admitted_at,
        position=place.position if place else None,
        explanation=rules.explain(place, locale) if place else None,
        bed=f"{bed.room}-{bed.label}" if bed else None,
        offer_id=offer.id if offer else None,
        offer_expires_at=offer.expires_at if offer else None,
        allowed_actions=[str(a) for a in actions],
        transferred_from_id=request.transferred_from_id,
        down_referral_url=down_referral_url(request) if request.status == RequestStatus.DISCHARGED else None,
        events=history,
    )


async def _events(session: AsyncSession, request_id: int) -> list[EventView]:
    labels = {
        bed_id: f"{room}-{label}"
        for bed_id, room, label in await session.execute(
            select(Bed.id, Bed.room, Bed.label).where(
                Bed.id.in_(
                    select(AdmissionEvent.bed_id)
                    .where(AdmissionEvent.request_id == request_id)
                    .union(select(AdmissionEvent.to_bed_id).where(AdmissionEvent.request_id == request_id))
                )
            )
        )
    }
    rows = await session.scalars(
        select(AdmissionEvent).where(AdmissionEvent.request_id == request_id).order_by(AdmissionEvent.id)
    )
    return [
        EventView(
            action=e.action,
            from_status=e.from_status,
            to_status=e.to_status,
            at=e.at,
            bed=labels.get(e.bed_id) if e.bed_id else None,
            to_bed=labels.get(e.to_bed_id) if e.to_bed_id else None,
            note=e.note,
        )
        for e in rows
    ]
